#include "lib/btrfs/reclaim.hpp"

#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/loop.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "lib/btrfs/fsinfo.hpp"
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
    if (fs::is_regular_file(it.path, ec) && fs::remove(it.path, ec))
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

}  // namespace

std::vector<Reclaimed> reclaim_dead_runs() {
  std::vector<Reclaimed> all;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(state_dir(), ec)) {
    if (e.path().extension() != ".json") continue;
    const std::string owner = e.path().stem().string();
    if (owner == owner_token() || owner_alive(owner)) continue;
    Fd fd(::open(e.path().c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;  // another run is at it
    if (!fs::exists(e.path())) continue;                              // ... and already done
    auto j = nlohmann::json::parse(read_file_or_empty(e.path()), nullptr, false);
    Reclaimed r;
    r.owner = owner;
    if (!j.is_discarded() && j.contains("items")) {
      std::vector<OwnedItem> items;
      for (const auto& ij : j["items"]) items.push_back(OwnedItem::from_json(ij));
      // Undo in the order things depend on each other.
      for (const char* kind : {"mount", "loop", "image", "dir", "workdir", "tracefs"})
        for (const auto& it : items)
          if (it.kind == kind) reclaim_item(it, &r);
    }
    fs::remove(e.path(), ec);
    all.push_back(std::move(r));
  }
  return all;
}

std::string describe_reclaimed(const std::vector<Reclaimed>& all) {
  std::string s;
  for (const auto& r : all) {
    const std::string pid = r.owner.substr(0, r.owner.find('.'));
    std::string what;
    for (const auto& x : r.removed) what += (what.empty() ? "" : "; ") + x;
    s += fmt::format("reclaimed from dead run {}: {}", pid, what.empty() ? "nothing was left" : what);
    for (const auto& k : r.kept) s += "; kept " + k;
    s += "\n";
  }
  return s;
}

}  // namespace dt
