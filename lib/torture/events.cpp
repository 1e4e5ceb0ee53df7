#include "lib/torture/events.hpp"

#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/btrfs_tree.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "lib/btrfs/copies.hpp"
#include "lib/btrfs/fsinfo.hpp"
#include "lib/btrfs/profile.hpp"
#include "lib/io/pattern.hpp"
#include "lib/sys/sys.hpp"

namespace dt {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

uint64_t profile_bits(const std::string& name) { return profile_flags(name); }

std::string convert_target(const std::string& current) { return current == "single" ? "dup" : "single"; }

std::string describe(const DeviceAction& a) {
  switch (a.kind) {
    case DeviceAction::Kind::Add: return "add " + a.dev;
    case DeviceAction::Kind::Remove: return "remove " + a.dev;
    case DeviceAction::Kind::Replace: return "replace " + a.dev + " with " + a.to;
  }
  return "?";
}

std::vector<DeviceAction> plan_device_event(const std::string& arg, const std::vector<std::string>& members,
                                            const std::string& spare, unsigned target) {
  using K = DeviceAction::Kind;
  if (members.empty() || spare.empty() || std::find(members.begin(), members.end(), spare) != members.end()) return {};
  const std::string& victim = members[target % members.size()];
  if (arg == "add") return {{K::Add, spare, ""}};
  // Added first: the filesystem keeps as many devices as it had.
  if (arg == "remove") return {{K::Add, spare, ""}, {K::Remove, victim, ""}};
  if (arg == "replace") return {{K::Replace, victim, spare}};
  return {};
}

std::vector<DeviceAction> plan_restore(const std::vector<std::string>& members,
                                       const std::vector<std::string>& originals) {
  using K = DeviceAction::Kind;
  std::vector<DeviceAction> out;
  auto has = [](const std::vector<std::string>& v, const std::string& d) {
    return std::find(v.begin(), v.end(), d) != v.end();
  };
  for (const auto& d : originals)
    if (!has(members, d)) out.push_back({K::Add, d, ""});
  for (const auto& d : members)
    if (!has(originals, d)) out.push_back({K::Remove, d, ""});
  return out;
}

// "data raid1, metadata raid1, system raid1" -> the profile of `kind`.
std::string profile_of(const std::string& described, const std::string& kind) {
  for (const auto& part : split(described, ',')) {
    auto words = split(trim(part), ' ');
    if (words.size() >= 2 && words[0] == kind) return words[1];
  }
  return "";
}

int balance(int fd, uint64_t flags, const btrfs_balance_args* data, const btrfs_balance_args* meta) {
  btrfs_ioctl_balance_args a{};
  a.flags = flags;
  if (data) a.data = *data;
  if (meta) a.meta = *meta;
  if (meta && (flags & BTRFS_BALANCE_SYSTEM)) a.sys = *meta;
  return ::ioctl(fd, BTRFS_IOC_BALANCE_V2, &a) == 0 ? 0 : -errno;
}

btrfs_balance_args convert_to(const std::string& profile) {
  btrfs_balance_args b{};
  b.flags = BTRFS_BALANCE_ARGS_CONVERT;
  b.target = profile_bits(profile);
  return b;
}

EventRunner::EventRunner(EventTargets targets, std::function<void(const Step&, const std::string&)> on_done,
                         std::function<uint64_t()> current_seq)
    : t_(std::move(targets)), on_done_(std::move(on_done)), current_seq_(std::move(current_seq)) {
  if (!t_.spares.empty()) {
    Fd root = open_or_throw(t_.fs_root, O_RDONLY | O_DIRECTORY);
    for (const auto& d : btrfs_devices(root.get()).devices) originals_.push_back(d.path);
  }
  thread_ = std::thread([this] { loop(); });
}

std::vector<std::string> member_paths(int root_fd) {
  std::vector<std::string> out;
  for (const auto& d : btrfs_devices(root_fd).devices) out.push_back(d.path);
  return out;
}

// BTRFS_IOC_RM_DEV_V2 and friends answer positive btrfs error codes besides -errno.
std::string device_rc_name(int64_t rc) {
  if (rc <= 0) return rc == 0 ? "ok" : errno_name(static_cast<int>(-rc));
  static const char* const names[] = {"?", "RAID1_MIN_NOT_MET", "RAID10_MIN_NOT_MET", "RAID5_MIN_NOT_MET",
                                      "RAID6_MIN_NOT_MET", "TGT_REPLACE", "MISSING_NOT_FOUND", "ONLY_WRITABLE",
                                      "EXCL_RUN_IN_PROGRESS", "RAID1C3_MIN_NOT_MET", "RAID1C4_MIN_NOT_MET"};
  return rc < static_cast<int64_t>(std::size(names)) ? fmt::format("BTRFS_ERROR_DEV_{}", names[rc])
                                                     : fmt::format("btrfs error {}", rc);
}

int64_t device_ioctl(int root_fd, const DeviceAction& a) {
  using K = DeviceAction::Kind;
  if (a.kind == K::Add) {
    btrfs_ioctl_vol_args v{};
    std::snprintf(v.name, sizeof v.name, "%s", a.dev.c_str());
    const int rc = ::ioctl(root_fd, BTRFS_IOC_ADD_DEV, &v);
    return rc < 0 ? -errno : rc;
  }
  uint64_t devid = 0;
  for (const auto& d : btrfs_devices(root_fd).devices)
    if (d.path == a.dev) devid = d.devid;
  if (!devid) return -ENODEV;
  if (a.kind == K::Remove) {
    btrfs_ioctl_vol_args_v2 v{};
    v.flags = BTRFS_DEVICE_SPEC_BY_ID;
    v.devid = devid;
    const int rc = ::ioctl(root_fd, BTRFS_IOC_RM_DEV_V2, &v);
    return rc < 0 ? -errno : rc;
  }
  // START blocks until the copy is done and the target has taken the
  // source's place (btrfs-progs forks to the background for that reason).
  btrfs_ioctl_dev_replace_args r{};
  r.cmd = BTRFS_IOCTL_DEV_REPLACE_CMD_START;
  r.start.srcdevid = devid;
  r.start.cont_reading_from_srcdev_mode = BTRFS_IOCTL_DEV_REPLACE_CONT_READING_FROM_SRCDEV_MODE_ALWAYS;
  std::snprintf(reinterpret_cast<char*>(r.start.tgtdev_name), sizeof r.start.tgtdev_name, "%s", a.to.c_str());
  if (::ioctl(root_fd, BTRFS_IOC_DEV_REPLACE, &r) < 0) return -errno;
  // result: 0 no error, else NOT_STARTED/ALREADY_STARTED/SCRUB_INPROGRESS, as btrfs error 100+.
  return r.result == BTRFS_IOCTL_DEV_REPLACE_RESULT_NO_ERROR ? 0 : static_cast<int64_t>(100 + r.result);
}

bool EventRunner::run_device_actions(const std::vector<DeviceAction>& actions, int root_fd, Step& s) {
  for (const auto& a : actions) {
    const int64_t rc = device_ioctl(root_fd, a);
    s.res.push_back(rc);
    s.note += fmt::format("{}{}: {}", s.note.empty() ? "" : "; ", describe(a), device_rc_name(rc));
    if (rc != 0) return false;
  }
  return true;
}

void EventRunner::run_device_event(Step& s, int root_fd) {
  if (t_.spares.empty()) {
    s.note = "no spare device: not run";
    return;
  }
  // A restore that failed earlier is retried first.
  if (!plan_restore(member_paths(root_fd), originals_).empty()) {
    s.note = "devices not as at the start; restoring first";
    if (!run_device_actions(plan_restore(member_paths(root_fd), originals_), root_fd, s)) return;
  }
  const std::vector<std::string> members = member_paths(root_fd);
  const std::string& spare = t_.spares[s.seq % t_.spares.size()];
  auto actions = plan_device_event(s.arg, members, spare, s.file);
  if (actions.empty()) {
    s.note += fmt::format("{}nothing to do for '{}'", s.note.empty() ? "" : "; ", s.arg);
    return;
  }
  run_device_actions(actions, root_fd, s);
  run_device_actions(plan_restore(member_paths(root_fd), originals_), root_fd, s);
}

bool EventRunner::restore_devices(std::string* note) {
  if (t_.spares.empty()) return true;
  Fd root = open_or_throw(t_.fs_root, O_RDONLY | O_DIRECTORY);
  Step s;
  run_device_actions(plan_restore(member_paths(root.get()), originals_), root.get(), s);
  const auto left = plan_restore(member_paths(root.get()), originals_);
  if (left.empty()) {
    *note = s.note.empty() ? "" : "devices restored at the end: " + s.note;
    return true;
  }
  *note = fmt::format("the device set could not be restored ({}); still to do: {}", s.note, describe(left.front()));
  return false;
}

EventRunner::~EventRunner() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void EventRunner::submit(const Step& s) {
  std::unique_lock<std::mutex> l(mu_);
  queue_.push_back(s);
  cv_.notify_all();
  // A held state is there before the next op starts — in a replay too, so
  // the same steps run in it. Bounded: a state that takes longer is late.
  if (s.event == "state")
    cv_.wait_for(l, std::chrono::seconds(60), [&] { return settled_seq_ >= s.seq || stop_; });
}

void EventRunner::drain() {
  std::unique_lock<std::mutex> l(mu_);
  draining_ = true;  // a held state ends now
  cv_.wait(l, [this] { return queue_.empty() && running_.empty(); });
  draining_ = false;
}

std::vector<std::string> EventRunner::confirm_held() {
  std::lock_guard<std::mutex> l(held_mu_);
  if (held_ && held_->confirm()) return {held_name_};
  return {};
}

bool EventRunner::hold_should_end(uint64_t until) {
  if (current_seq_() >= until) return true;
  std::lock_guard<std::mutex> l(mu_);
  return stop_ || draining_ ||
         std::any_of(queue_.begin(), queue_.end(), [](const Step& q) { return q.event == "state"; });
}

std::string EventRunner::hold_state(Step& s) {
  HoldTargets t{t_.fs_root, t_.subvol, t_.snap_dir, t_.files, t_.spares, [this](Step& st) {
                  Fd root = open_or_throw(t_.fs_root, O_RDONLY | O_DIRECTORY);
                  run_device_actions(plan_restore(member_paths(root.get()), originals_), root.get(), st);
                }};
  std::unique_ptr<StateHold> h = make_hold(s.arg, t);
  std::string why = h ? "" : "unknown state";
  if (h) {
    try {
      why = h->establish(s);
    } catch (const std::exception& e) {
      why = e.what();
    }
  }
  const std::string made = s.note;  // what establishing did
  const uint64_t from = current_seq_();
  if (why.empty()) {
    std::lock_guard<std::mutex> l(held_mu_);
    held_ = std::move(h);
    held_name_ = s.arg;
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    settled_seq_ = std::max(settled_seq_, s.seq);
  }
  cv_.notify_all();
  if (!why.empty()) {
    s.note = "not held: " + why + (made.empty() ? "" : " (" + made + ")");
    return "";
  }
  while (!hold_should_end(s.seq + s.len)) {
    held_->keep();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const uint64_t to = current_seq_();
  {
    std::lock_guard<std::mutex> l(held_mu_);
    h = std::move(held_);
    held_name_.clear();
  }
  const StateInfo* info = find_state(s.arg);
  s.note = fmt::format("held from step {} to step {} ({}){}", from, to, info ? info->confirmed_by : "?",
                       made.empty() ? "" : "; " + made);
  h->release(s);
  return h->failure();
}

std::string EventRunner::running() {
  std::lock_guard<std::mutex> l(mu_);
  return running_;
}

void EventRunner::loop() {
  for (;;) {
    Step s;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop requested and nothing left
      s = queue_.front();
      queue_.pop_front();
      running_ = s.event == "state" ? "state " + s.arg : s.event;
    }
    std::string failure;
    const auto t0 = Clock::now();
    try {
      failure = run_one(s);
    } catch (const std::exception& e) {
      s.note = std::string("error: ") + e.what();
    }
    s.dur_us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count());
    s.end_seq = current_seq_();
    on_done_(s, failure);
    {
      std::lock_guard<std::mutex> l(mu_);
      running_.clear();
      settled_seq_ = std::max(settled_seq_, s.seq);
    }
    cv_.notify_all();
  }
}

std::string EventRunner::run_one(Step& s) {
  Fd root = open_or_throw(t_.fs_root, O_RDONLY | O_DIRECTORY);
  if (s.event == "sync") {
    s.res = {::syncfs(root.get()) == 0 ? 0 : -errno};
    return "";
  }
  if (s.event == "drop-caches") {
    ::sync();
    write_proc("/proc/sys/vm/drop_caches", "3");
    s.res = {0};
    return "";
  }
  if (s.event == "defrag") {
    const fs::path& f = t_.files.at(s.file % t_.files.size());
    Fd fd = open_or_throw(f, O_RDWR);
    btrfs_ioctl_defrag_range_args a{};
    a.len = UINT64_MAX;
    a.flags = BTRFS_DEFRAG_RANGE_START_IO;
    s.res = {::ioctl(fd.get(), BTRFS_IOC_DEFRAG_RANGE, &a) == 0 ? 0 : -errno};
    s.note = f.filename().string();
    return "";
  }
  if (s.event == "snapshot") {
    Fd src = open_or_throw(t_.subvol, O_RDONLY | O_DIRECTORY);
    Fd dst = open_or_throw(t_.snap_dir, O_RDONLY | O_DIRECTORY);
    const std::string name = fmt::format("snap-{}", s.seq);
    btrfs_ioctl_vol_args_v2 a{};
    a.fd = src.get();
    std::snprintf(a.name, sizeof a.name, "%s", name.c_str());
    int rc = ::ioctl(dst.get(), BTRFS_IOC_SNAP_CREATE_V2, &a) == 0 ? 0 : -errno;
    int rc2 = 0;
    if (rc == 0) {
      btrfs_ioctl_vol_args d{};
      std::snprintf(d.name, sizeof d.name, "%s", name.c_str());
      rc2 = ::ioctl(dst.get(), BTRFS_IOC_SNAP_DESTROY, &d) == 0 ? 0 : -errno;
    }
    s.res = {rc, rc2};
    return "";
  }
  if (s.event == "device") {
    run_device_event(s, root.get());
    return "";
  }
  if (s.event == "state") return hold_state(s);
  if (s.event == "scrub") {
    BtrfsFsDevices devs = btrfs_devices(root.get());
    ScrubTotals t = scrub_readonly(root.get(), devs);
    s.res = {static_cast<int64_t>(t.errors())};
    s.note = t.summary();
    return t.errors() ? "scrub during the run: " + t.summary() : "";
  }
  if (s.event == "balance") {
    const std::string described = btrfs_profile(t_.fs_root);
    const std::string data = profile_of(described, "data"), meta = profile_of(described, "metadata");
    btrfs_balance_args usage{};
    usage.flags = BTRFS_BALANCE_ARGS_USAGE;
    usage.usage = 90;
    if (s.arg == "data-usage") {
      s.res = {balance(root.get(), BTRFS_BALANCE_DATA, &usage, nullptr)};
    } else if (s.arg == "metadata") {
      s.res = {balance(root.get(), BTRFS_BALANCE_METADATA, nullptr, &usage)};
    } else if (s.arg == "dconvert" && profile_bits(data)) {
      auto there = convert_to(convert_target(data)), back = convert_to(data);
      s.res = {balance(root.get(), BTRFS_BALANCE_DATA, &there, nullptr),
               balance(root.get(), BTRFS_BALANCE_DATA, &back, nullptr)};
      s.note = fmt::format("data {} -> {} -> {}", data, convert_target(data), data);
    } else if (s.arg == "mconvert" && profile_bits(meta)) {
      // Lowering metadata redundancy needs FORCE, as in btrfs-progs.
      auto there = convert_to(convert_target(meta)), back = convert_to(meta);
      const uint64_t f = BTRFS_BALANCE_METADATA | BTRFS_BALANCE_SYSTEM | BTRFS_BALANCE_FORCE;
      s.res = {balance(root.get(), f, nullptr, &there), balance(root.get(), f, nullptr, &back)};
      s.note = fmt::format("metadata {} -> {} -> {}", meta, convert_target(meta), meta);
    } else if (s.arg == "pause-resume" || s.arg == "cancel") {
      // The balance blocks in its ioctl: run it beside, then pause or cancel it.
      btrfs_balance_args all{};
      int first = 0;
      std::thread t([&] { first = balance(root.get(), BTRFS_BALANCE_DATA | BTRFS_BALANCE_METADATA, &all, &all); });
      std::this_thread::sleep_for(std::chrono::milliseconds(20 + s.seq % 50));
      const int ctl = s.arg == "cancel" ? BTRFS_BALANCE_CTL_CANCEL : BTRFS_BALANCE_CTL_PAUSE;
      int ctl_rc = ::ioctl(root.get(), BTRFS_IOC_BALANCE_CTL, ctl) == 0 ? 0 : -errno;
      t.join();
      s.res = {first, ctl_rc};
      if (s.arg == "pause-resume" && ctl_rc == 0) s.res.push_back(balance(root.get(), BTRFS_BALANCE_RESUME, nullptr, nullptr));
      // A balance that finished before the pause leaves nothing to resume (ENOTCONN).
    } else {
      s.res = {0};
      s.note = "profile unknown; nothing to convert";
    }
    return "";
  }
  throw std::runtime_error("unknown event " + s.event);
}

}  // namespace dt
