#include "lib/sys/owned.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstdlib>

#include "lib/sys/sys.hpp"

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
  return "/var/tmp/diotorture-state";
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
  std::error_code ec;
  if (items_.empty()) {
    fs::remove(file, ec);
    return;
  }
  nlohmann::json j{{"kind", "diotorture-owned"}, {"owner", owner_token()}, {"items", nlohmann::json::array()}};
  for (const auto& [h, i] : items_) j["items"].push_back(i.to_json());
  fs::create_directories(state_dir(), ec);
  // A record that cannot be written only costs the reclaim after a kill;
  // it must not stop the run.
  try {
    write_file_atomic(file, j.dump(1) + "\n");
  } catch (const std::exception&) {
  }
}

uint64_t mount_id_of(const fs::path& path) {
  struct statx sx {};
  if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) != 0) return 0;
  return (sx.stx_mask & STATX_MNT_ID) ? sx.stx_mnt_id : 0;
}

}  // namespace dt
