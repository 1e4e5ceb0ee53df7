#include "lib/torture/events.hpp"

#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/btrfs_tree.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <cstring>

#include "lib/btrfs/copies.hpp"
#include "lib/btrfs/fsinfo.hpp"
#include "lib/io/pattern.hpp"
#include "lib/sys/sys.hpp"

namespace dt {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

uint64_t profile_bits(const std::string& name) {
  if (name == "single") return BTRFS_AVAIL_ALLOC_BIT_SINGLE;
  if (name == "dup") return BTRFS_BLOCK_GROUP_DUP;
  if (name == "raid0") return BTRFS_BLOCK_GROUP_RAID0;
  if (name == "raid1") return BTRFS_BLOCK_GROUP_RAID1;
  if (name == "raid1c3") return BTRFS_BLOCK_GROUP_RAID1C3;
  if (name == "raid1c4") return BTRFS_BLOCK_GROUP_RAID1C4;
  if (name == "raid10") return BTRFS_BLOCK_GROUP_RAID10;
  if (name == "raid5") return BTRFS_BLOCK_GROUP_RAID5;
  if (name == "raid6") return BTRFS_BLOCK_GROUP_RAID6;
  return 0;
}

std::string convert_target(const std::string& current) { return current == "single" ? "dup" : "single"; }

namespace {

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

}  // namespace

EventRunner::EventRunner(EventTargets targets, std::function<void(const Step&, const std::string&)> on_done,
                         std::function<uint64_t()> current_seq)
    : t_(std::move(targets)), on_done_(std::move(on_done)), current_seq_(std::move(current_seq)) {
  thread_ = std::thread([this] { loop(); });
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
  {
    std::lock_guard<std::mutex> l(mu_);
    queue_.push_back(s);
  }
  cv_.notify_all();
}

void EventRunner::drain() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [this] { return queue_.empty() && running_.empty(); });
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
      running_ = s.event;
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
