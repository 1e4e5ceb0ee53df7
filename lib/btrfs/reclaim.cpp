#include "lib/btrfs/reclaim.hpp"

#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/loop.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "lib/btrfs/fsinfo.hpp"
#include "lib/btrfs/scratch.hpp"
#include "lib/io/iopath.hpp"
#include "lib/sys/owned.hpp"
#include "lib/sys/sys.hpp"

namespace dt {
namespace fs = std::filesystem;

namespace {

// The mountinfo line of mount `id`: {mount point, source}, or empty.
std::pair<std::string, std::string> mount_by_id(uint64_t id) {
  for (const auto& line : split(read_file_or_empty("/proc/self/mountinfo"), '\n')) {
    auto f = split(line, ' ');
    if (f.size() < 5 || f[0] != std::to_string(id)) continue;
    auto dash = std::find(f.begin(), f.end(), "-");
    return {f[4], dash != f.end() && dash + 2 < f.end() ? *(dash + 2) : std::string()};
  }
  return {};
}

// Removes one item if the machine still shows exactly it; says what it did.
void reclaim_item(const OwnedItem& it, Reclaimed* out) {
  std::error_code ec;
  if (it.kind == "mount") {
    const auto [where, source] = mount_by_id(it.mount_id);
    if (!it.mount_id || where.empty()) return;  // gone already (or never mounted)
    if (where != it.path || source != it.device) {
      out->kept.push_back(fmt::format("mount {} is now {} on {}, not ours", it.mount_id, source, where));
      return;
    }
    // The topmost mount at the path must be ours too.
    if (mount_id_of(it.path) != it.mount_id) {
      out->kept.push_back(fmt::format("{}: something else is mounted over it", it.path));
      return;
    }
    bool done = false;
    for (int i = 0; i < 20 && !(done = ::umount2(it.path.c_str(), 0) == 0) && errno == EBUSY; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    // Still busy: a task of the dead run is stuck in the kernel. Detach it;
    // the kernel frees the device when the task goes.
    if (!done && mount_id_of(it.path) == it.mount_id) done = ::umount2(it.path.c_str(), MNT_DETACH) == 0;
    if (done) {
      forget_btrfs_device(it.device);
      out->removed.push_back(fmt::format("unmounted {} ({})", it.path, it.device));
    } else {
      out->kept.push_back(fmt::format("{}: umount failed: {}", it.path, std::strerror(errno)));
    }
  } else if (it.kind == "loop") {
    const std::string name = fs::path(it.path).filename().string();
    std::string backing = trim(read_file_or_empty("/sys/block/" + name + "/loop/backing_file"));
    if (backing.empty()) return;  // detached already (autoclear)
    const std::string deleted = " (deleted)";
    if (backing.size() > deleted.size() && backing.ends_with(deleted)) backing.resize(backing.size() - deleted.size());
    if (backing != it.device) return;  // reused by someone else since
    Fd fd(::open(it.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd && ::ioctl(fd.get(), LOOP_CLR_FD, 0) == 0) out->removed.push_back(fmt::format("detached {} ({})", it.path, it.device));
    else out->kept.push_back(fmt::format("{}: {}", it.path, std::strerror(errno)));
  } else if (it.kind == "image") {
    struct stat st {};
    if (::lstat(it.path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == ::geteuid() && fs::remove(it.path, ec))
      out->removed.push_back(fmt::format("deleted {}", it.path));
  } else if (it.kind == "dir") {
    // Only the directory we made and the empty mount point in it.
    fs::remove(fs::path(it.path) / "mnt", ec);
    if (fs::is_directory(it.path, ec)) {
      if (fs::remove(it.path, ec)) out->removed.push_back(fmt::format("removed {}", it.path));
      else out->kept.push_back(fmt::format("{}: not empty, left alone", it.path));
    }
  } else if (it.kind == "workdir") {
    // A work directory of ours (TempDir: vm's and crash's images and logs)
    // with everything in it; but never into a filesystem mounted below it.
    const fs::path dir = it.path;
    if (!fs::is_directory(fs::symlink_status(dir, ec))) return;
    if (auto below = mount_points_below(read_file_or_empty("/proc/self/mountinfo"), dir.string()); !below.empty()) {
      out->kept.push_back(fmt::format("{}: {} is mounted in it, left alone", dir.string(), below.front()));
      return;
    }
    const auto n = fs::remove_all(dir, ec);
    if (ec) out->kept.push_back(fmt::format("{}: {}", dir.string(), ec.message()));
    else out->removed.push_back(fmt::format("removed work directory {} ({} files)", dir.string(), n));
  } else if (it.kind == "tracefs") {
    auto names = remove_trace_instances(it.path);
    if (!names.empty())
      out->removed.push_back(fmt::format("removed {} tracefs instance{} {}*", names.size(), names.size() == 1 ? "" : "s",
                                         it.path));
  }
}

// Why `p` is not a directory the tool made, as the machine shows it now: a
// real directory (no symlink anywhere in the path), ours, writable by no one
// else. "gone" if it does not exist.
std::string why_not_our_dir(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return "gone";
  if (auto why = why_untrusted_dir(st, ::geteuid()); !why.empty()) return "it " + why;
  std::error_code ec;
  if (fs::canonical(p, ec) != p) return "its path runs through a symbolic link";
  return {};
}

// The btrfs on `dev` carries the label mkfs gave every filesystem the tool
// formats (kScratchLabel), as sysfs shows it.
bool carries_our_label(const std::string& dev) {
  const std::string name = fs::path(dev).filename().string();
  std::error_code ec;
  for (const auto& d : fs::directory_iterator("/sys/fs/btrfs", ec))
    if (!name.empty() && fs::exists(d.path() / "devices" / name, ec))
      return trim(read_file_or_empty(d.path() / "label")) == kScratchLabel;
  return false;
}

}  // namespace

std::vector<Reclaimed> reclaim_dead_runs() {
  std::vector<Reclaimed> all;
  const int dirfd = state_dir_fd();  // throws (exit 2) on an untrusted state directory
  const uid_t me = ::geteuid();
  Fd scan(::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  DIR* d = scan ? ::fdopendir(scan.release()) : nullptr;
  if (!d) return all;
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(d)) names.push_back(e->d_name);
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    if (!name.ends_with(".json") || name.starts_with(".")) continue;
    const std::string owner = name.substr(0, name.size() - 5);
    const fs::path shown = state_dir() / name;
    Reclaimed r;
    r.owner = owner;
    if (!is_record_name(name)) {
      r.refused = fmt::format("{}: its name is not <pid>.<start time>.json", shown.string());
      all.push_back(std::move(r));
      continue;
    }
    if (owner == owner_token() || owner_alive(owner)) continue;
    Fd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!fd && errno == ENOENT) continue;  // another run has just reclaimed it
    struct stat st {};
    std::string bad;
    if (!fd) bad = errno == ELOOP ? "it is a symbolic link" : std::strerror(errno);
    else if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) bad = "it is not a regular file";
    else if (st.st_uid != me) bad = fmt::format("it is owned by uid {}, not by uid {}", st.st_uid, me);
    else if (st.st_mode & (S_IWGRP | S_IWOTH)) bad = "it is writable by group or others";
    else if (st.st_nlink != 1) bad = "it has other hard links";
    if (!bad.empty()) {
      r.refused = fmt::format("{}: {}", shown.string(), bad);
      all.push_back(std::move(r));
      continue;
    }
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;  // another run is at it
    struct stat now {};
    if (::fstatat(dirfd, name.c_str(), &now, AT_SYMLINK_NOFOLLOW) != 0 || now.st_ino != st.st_ino) continue;  // ... done
    std::string text;
    char buf[65536];
    for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0 && text.size() < (1u << 20);) text.append(buf, size_t(n));
    const auto j = nlohmann::json::parse(text, nullptr, false);
    RecordCheck rc;
    if (auto why = j.is_discarded() ? std::string("it is not JSON") : check_record(j, owner, &rc); !why.empty()) {
      // Written by root, yet not a record of ours: keep it for a human.
      r.refused = fmt::format("{}: {}", shown.string(), why);
      all.push_back(std::move(r));
      continue;
    }
    for (const auto& x : rc.refused) r.kept.push_back(x + ", left alone");
    // Directories first: an item inside one is only ours if it still is.
    std::vector<fs::path> verified;
    for (const auto& it : rc.items)
      if (it.kind == "dir" || it.kind == "workdir") {
        if (auto why = why_not_our_dir(it.path); why.empty()) verified.push_back(it.path);
        else if (!why.starts_with("gone")) r.kept.push_back(fmt::format("{}: {}, left alone", it.path, why));
      }
    auto in_verified = [&](const fs::path& p) {
      return std::any_of(verified.begin(), verified.end(),
                         [&](const fs::path& v) { return p == v || p.string().starts_with(v.string() + "/"); });
    };
    // A loop device whose image lies in a verified directory of ours.
    auto our_loop = [&](const std::string& dev) {
      return std::any_of(rc.items.begin(), rc.items.end(),
                         [&](const OwnedItem& l) { return l.kind == "loop" && l.path == dev && in_verified(l.device); });
    };
    // Undo in the order things depend on each other.
    for (const char* kind : {"mount", "loop", "image", "dir", "workdir", "tracefs"})
      for (size_t i = 0; i < rc.items.size(); ++i)
        if (const auto& it = rc.items[i]; it.kind == kind) {
          const bool ours = it.kind == "tracefs" || rc.needs_label[i] ||
                            (it.kind == "loop" ? in_verified(it.device) : in_verified(it.path)) ||
                            (it.kind == "mount" && our_loop(it.device));
          if (!ours) continue;  // its directory is not ours (said above)
          if (rc.needs_label[i] && !carries_our_label(it.device)) {
            if (!mount_by_id(it.mount_id).first.empty())
              r.kept.push_back(fmt::format("mount {}: {} does not carry the label the tool formats with, left alone",
                                           it.path, it.device));
            continue;
          }
          reclaim_item(it, &r);
        }
    ::unlinkat(dirfd, name.c_str(), 0);
    all.push_back(std::move(r));
  }
  return all;
}

std::string describe_reclaimed(const std::vector<Reclaimed>& all) {
  std::string s;
  for (const auto& r : all) {
    const std::string pid = r.owner.substr(0, r.owner.find('.'));
    if (!r.refused.empty()) {
      s += fmt::format("refused record {} (deleted nothing; remove the file once you know where it came from)\n",
                       r.refused);
      continue;
    }
    std::string what;
    for (const auto& x : r.removed) what += (what.empty() ? "" : "; ") + x;
    s += fmt::format("reclaimed from dead run {}: {}", pid, what.empty() ? "nothing was left" : what);
    for (const auto& k : r.kept) s += "; kept " + k;
    s += "\n";
  }
  return s;
}

}  // namespace dt
