#include "lib/sys/owned.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "lib/sys/sys.hpp"
#include "lib/sys/write_at.hpp"

namespace dt {
namespace fs = std::filesystem;

namespace {

// Field 22 of /proc/PID/stat: start time in clock ticks since boot; "" if
// the process is gone or only a zombie (killed, not yet reaped).
std::string start_time(const std::string& pid) {
  TaskStat st;
  if (!read_task_stat("/proc/" + pid + "/stat", &st) || st.state == 'Z' || st.state == 'X') return {};
  return st.start_time;
}

const std::string g_owner = fmt::format("{}.{}", ::getpid(), start_time(std::to_string(::getpid())));

}  // namespace

fs::path state_dir() {
  if (const char* d = std::getenv("DIOTORTURE_STATE_DIR"); d && *d) return d;
  return "/var/lib/diotorture";
}

std::string why_untrusted_dir(const struct stat& st, uid_t euid) {
  if (S_ISLNK(st.st_mode)) return "is a symbolic link";
  if (!S_ISDIR(st.st_mode)) return "is not a directory";
  if (st.st_uid != euid) return fmt::format("is owned by uid {}, not by uid {} (this process)", st.st_uid, euid);
  if (st.st_mode & (S_IWGRP | S_IWOTH)) return fmt::format("is writable by group or others (mode {:04o})", st.st_mode & 07777);
  return {};
}

int state_dir_fd() {
  static std::string cached_path;
  static Fd cached;
  const fs::path dir = state_dir();
  if (cached && cached_path == dir.string()) return cached.get();
  const std::string fix =
      "; remove it (another user may have planted records in it) or set DIOTORTURE_STATE_DIR to a directory "
      "only root can write (mode 0700)";
  // The default's parents are the system's; an override's must exist.
  std::error_code ec;
  if (!std::getenv("DIOTORTURE_STATE_DIR") || !*std::getenv("DIOTORTURE_STATE_DIR"))
    fs::create_directories(dir.parent_path(), ec);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw SetupError(fmt::format("cannot create the state directory {} ({}); set DIOTORTURE_STATE_DIR to a "
                                 "directory only root can write",
                                 dir.string(), std::strerror(errno)));
  struct stat st {};
  if (::lstat(dir.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
    throw SetupError(fmt::format("refusing state directory {}: it is a symbolic link{}", dir.string(), fix));
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd)
    throw SetupError(fmt::format("refusing state directory {}: {}{}", dir.string(),
                                 errno == ELOOP || errno == ENOTDIR ? "it is not a directory" : std::strerror(errno), fix));
  if (::fstat(fd.get(), &st) != 0) throw_errno("fstat " + dir.string());
  if (auto why = why_untrusted_dir(st, ::geteuid()); !why.empty())
    throw SetupError(fmt::format("refusing state directory {}: it {}{}", dir.string(), why, fix));
  cached = std::move(fd);
  cached_path = dir.string();
  return cached.get();
}

namespace {
bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
bool is_owner_token(const std::string& t) {
  const auto dot = t.find('.');
  return dot != std::string::npos && all_digits(std::string_view(t).substr(0, dot)) &&
         all_digits(std::string_view(t).substr(dot + 1));
}
// `p` lies strictly inside directory `dir` (both absolute and normal).
bool inside(const fs::path& p, const fs::path& dir) {
  auto [a, b] = std::mismatch(dir.begin(), dir.end(), p.begin(), p.end());
  return a == dir.end() && b != p.end();
}
}  // namespace

bool is_record_name(const std::string& name) {
  return name.size() > 5 && name.ends_with(".json") && is_owner_token(name.substr(0, name.size() - 5));
}

bool is_tool_dir_name(const std::string& name) {
  const auto dot = name.rfind('.');
  if (dot == std::string::npos || name.size() - dot - 1 != 6 || !name.starts_with("diotorture")) return false;
  const std::string stem = name.substr(0, dot);
  if (stem != "diotorture" && !(stem.size() > 11 && stem[10] == '-' &&
                                std::all_of(stem.begin() + 11, stem.end(), [](char c) { return c >= 'a' && c <= 'z'; })))
    return false;
  return std::all_of(name.begin() + static_cast<long>(dot) + 1, name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
}

std::string check_record(const nlohmann::json& j, const std::string& stem, RecordCheck* out) {
  if (!j.is_object()) return "not a JSON object";
  if (j.value("kind", "") != "diotorture-owned") return "its kind is not diotorture-owned";
  if (!is_owner_token(stem)) return "its name is not <pid>.<start time>.json";
  if (!j.contains("owner") || !j["owner"].is_string() || j["owner"] != stem)
    return "its owner does not match its file name";
  if (!j.contains("items") || !j["items"].is_array()) return "it has no item list";
  out->owner = stem;
  std::vector<fs::path> dirs;        // tool directories named so far
  std::vector<std::string> loops;    // loop devices named so far
  for (const auto& ij : j["items"]) {
    if (!ij.is_object() || !ij.contains("kind") || !ij["kind"].is_string() || !ij.contains("path") ||
        !ij["path"].is_string() || (ij.contains("device") && !ij["device"].is_string()) ||
        (ij.contains("mount_id") && !(ij["mount_id"].is_number_integer() && ij["mount_id"].get<int64_t>() >= 0))) {
      out->refused.push_back(fmt::format("item {}: malformed", ij.dump()));
      continue;
    }
    const OwnedItem it = OwnedItem::from_json(ij);
    const fs::path p = it.path;
    auto refuse = [&](const std::string& why) { out->refused.push_back(fmt::format("{} {}: {}", it.kind, it.path, why)); };
    const bool normal = p.is_absolute() && p.lexically_normal() == p && p.filename() != "" &&
                        std::none_of(p.begin(), p.end(), [](const fs::path& c) { return c == ".."; });
    auto in_recorded_dir = [&](const fs::path& x) {
      return std::any_of(dirs.begin(), dirs.end(), [&](const fs::path& d) { return inside(x, d); });
    };
    bool ok = false, label = false;
    if (it.kind == "tracefs") {
      if (it.path == "diotorture-" + stem + "-") ok = true;
      else refuse("not this run's tracefs instance prefix");
    } else if (!normal) {
      refuse("not an absolute, normalised path");
    } else if (it.kind == "dir" || it.kind == "workdir") {
      if (is_tool_dir_name(p.filename().string())) {
        ok = true;
        dirs.push_back(p);
      } else {
        refuse("not a directory name the tool makes (diotorture.XXXXXX)");
      }
    } else if (it.kind == "image") {
      if (in_recorded_dir(p)) ok = true;
      else refuse("not inside a directory the record named first");
    } else if (it.kind == "loop") {
      const std::string n = p.filename().string();
      if (p.parent_path() != "/dev" || !n.starts_with("loop") || !all_digits(std::string_view(n).substr(4)))
        refuse("not a loop device");
      else if (!in_recorded_dir(fs::path(it.device)))
        refuse(fmt::format("its backing file {} is not inside a directory the record named first", it.device));
      else {
        ok = true;
        loops.push_back(it.path);
      }
    } else if (it.kind == "mount") {
      // A --scratch-mnt mount point of a --scratch-dev-pool filesystem lies
      // outside our directories; only the label mkfs gave it can claim it.
      ok = true;
      label = !in_recorded_dir(p) && std::find(loops.begin(), loops.end(), it.device) == loops.end();
    } else {
      refuse("unknown kind");
    }
    if (ok) {
      out->items.push_back(it);
      out->needs_label.push_back(label);
    }
  }
  return {};
}

const std::string& owner_token() { return g_owner; }

bool owner_alive(const std::string& token) {
  auto dot = token.find('.');
  if (dot == std::string::npos) return true;  // not ours to judge: keep it
  const std::string st = start_time(token.substr(0, dot));
  return !st.empty() && st == token.substr(dot + 1);
}

nlohmann::json OwnedItem::to_json() const {
  nlohmann::json j{{"kind", kind}, {"path", path}};
  if (!device.empty()) j["device"] = device;
  if (mount_id) j["mount_id"] = mount_id;
  return j;
}

OwnedItem OwnedItem::from_json(const nlohmann::json& j) {
  OwnedItem i;
  i.kind = j.value("kind", "");
  i.path = j.value("path", "");
  i.device = j.value("device", "");
  i.mount_id = j.value("mount_id", uint64_t{0});
  return i;
}

OwnedRecord& OwnedRecord::self() {
  static OwnedRecord r;
  return r;
}

uint64_t OwnedRecord::add(const OwnedItem& item) {
  items_.emplace_back(next_, item);
  flush();
  return next_++;
}

void OwnedRecord::update(uint64_t handle, const OwnedItem& item) {
  for (auto& [h, i] : items_)
    if (h == handle) i = item;
  flush();
}

void OwnedRecord::remove(uint64_t handle) {
  std::erase_if(items_, [&](const auto& p) { return p.first == handle; });
  flush();
}

void OwnedRecord::flush() {
  // Never from a forked case child: its copy of the record is not the run's.
  if (owner_token().rfind(std::to_string(::getpid()) + ".", 0) != 0) return;
  const fs::path file = state_dir() / (owner_token() + ".json");
  if (items_.empty()) {
    try {
      ::unlinkat(state_dir_fd(), file.filename().c_str(), 0);
    } catch (const std::exception&) {
    }
    return;
  }
  nlohmann::json j{{"kind", "diotorture-owned"}, {"owner", owner_token()}, {"items", nlohmann::json::array()}};
  for (const auto& [h, i] : items_) j["items"].push_back(i.to_json());
  // A record that cannot be written only costs the reclaim after a kill;
  // it must not stop the run. (An untrusted state directory has stopped
  // the command before it made anything: main() checks it first.)
  try {
    write_file_atomic_at(state_dir_fd(), file.filename().string(), j.dump(1) + "\n", 0600);
  } catch (const std::exception&) {
  }
}

uint64_t mount_id_of(const fs::path& path) {
  struct statx sx {};
  if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) != 0) return 0;
  return (sx.stx_mask & STATX_MNT_ID) ? sx.stx_mnt_id : 0;
}

}  // namespace dt
