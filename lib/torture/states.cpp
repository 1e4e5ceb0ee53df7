#include "lib/torture/states.hpp"

#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/btrfs_tree.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <set>
#include <thread>

#include "lib/btrfs/copies.hpp"
#include "lib/btrfs/fsinfo.hpp"
#include "lib/io/pattern.hpp"
#include "lib/sys/sys.hpp"
#include "lib/torture/events.hpp"

namespace dt {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

const std::vector<StateInfo> kStates = {
    {"balance-running", "a full balance relocating chunks (restarted when it finishes)",
     "BTRFS_IOC_BALANCE_PROGRESS: state RUNNING"},
    {"balance-paused", "a full balance paused half-way, resumed at the end",
     "BTRFS_IOC_BALANCE_PROGRESS: a balance exists, not RUNNING"},
    {"balance-paused-convert", "a -dconvert balance paused half-way (data in two profiles), resumed and converted back",
     "BTRFS_IOC_BALANCE_PROGRESS: not RUNNING, data args CONVERT"},
    {"balance-cancelled", "after a balance cancelled half-way (some chunks relocated, the rest not)",
     "the balance ioctl answered ECANCELED after relocating; BTRFS_IOC_BALANCE_PROGRESS: no balance since"},
    {"scrub-running", "a read-only scrub of the first device (restarted when it finishes)",
     "BTRFS_IOC_SCRUB_PROGRESS answers for the device"},
    {"scrub-paused", "a scrub cancelled half-way and resumed from where it stopped at the end (btrfs scrub "
                     "cancel/resume: the kernel has no other pause for userspace)",
     "the scrub ioctl answered ECANCELED with progress; BTRFS_IOC_SCRUB_PROGRESS: none running"},
    {"replace-running", "a device replaced by the spare, cancelled at the end if still running; devices restored",
     "BTRFS_IOC_DEV_REPLACE status: STARTED", true},
    {"remove-running", "a device being removed (after the spare was added); devices restored",
     "/sys/fs/btrfs/<fsid>/exclusive_operation: device remove", true},
    {"quota-rescan", "quota enabled with a rescan running (restarted when it completes); disabled at the end",
     "BTRFS_IOC_QUOTA_RESCAN_STATUS: running"},
    {"defrag-running", "BTRFS_IOC_DEFRAG_RANGE (zlib) of a file under test in progress (repeated)",
     "/proc/self/task/<tid>/syscall: the defrag thread is inside ioctl"},
    {"readonly-snapshot", "a read-only snapshot of the torture subvolume (shared extents: NOCOW writes must COW)",
     "BTRFS_IOC_SUBVOL_GETFLAGS on the snapshot: RDONLY"},
    {"nearly-full", "a filler file leaves only a few dozen MiB of data space free", "statfs: free space below the mark"},
};

constexpr uint64_t kMinWindow = 20, kMaxWindow = 120;

// ---- kernel answers -------------------------------------------------------

// BTRFS_IOC_BALANCE_PROGRESS: 0 and the args, or -ENOTCONN (no balance).
int balance_progress(int fd, btrfs_ioctl_balance_args* a) {
  *a = {};
  return ::ioctl(fd, BTRFS_IOC_BALANCE_PROGRESS, a) == 0 ? 0 : -errno;
}
bool balance_running(int fd) {
  btrfs_ioctl_balance_args a;
  return balance_progress(fd, &a) == 0 && (a.state & BTRFS_BALANCE_STATE_RUNNING);
}
int balance_ctl(int fd, int cmd) { return ::ioctl(fd, BTRFS_IOC_BALANCE_CTL, cmd) == 0 ? 0 : -errno; }

bool scrub_progress(int fd, uint64_t devid, btrfs_scrub_progress* p) {
  btrfs_ioctl_scrub_args a{};
  a.devid = devid;
  if (::ioctl(fd, BTRFS_IOC_SCRUB_PROGRESS, &a) != 0) return false;
  if (p) *p = a.progress;
  return true;
}

uint64_t replace_state(int fd) {
  btrfs_ioctl_dev_replace_args r{};
  r.cmd = BTRFS_IOCTL_DEV_REPLACE_CMD_STATUS;
  if (::ioctl(fd, BTRFS_IOC_DEV_REPLACE, &r) != 0) return UINT64_MAX;
  return r.status.replace_state;
}

// Waits up to `limit` for pred(); polls every millisecond (a small balance
// can run and end within tens of milliseconds).
template <class Pred>
bool wait_for(Pred pred, std::chrono::milliseconds limit) {
  const auto end = Clock::now() + limit;
  while (Clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return pred();
}

// A blocking ioctl in a thread of its own, and whether it is inside it.
class Beside {
 public:
  ~Beside() { join(); }
  void start(std::function<int64_t()> fn) {
    join();
    done_ = false;
    t_ = std::thread([this, fn = std::move(fn)] {
      tid_ = static_cast<pid_t>(::syscall(SYS_gettid));
      rc_ = fn();
      done_ = true;
    });
  }
  bool done() const { return done_; }
  bool started() const { return t_.joinable(); }
  int64_t join() {
    if (t_.joinable()) t_.join();
    return rc_;
  }
  pid_t tid() const { return tid_; }

 private:
  std::thread t_;
  std::atomic<bool> done_{true};
  std::atomic<pid_t> tid_{0};
  std::atomic<int64_t> rc_{0};
};

std::string name_rc(int64_t rc) { return rc == 0 ? "ok" : rc < 0 ? errno_name(static_cast<int>(-rc)) : std::to_string(rc); }
void add_note(Step& s, const std::string& what) { s.note += (s.note.empty() ? "" : "; ") + what; }

Fd open_dir(const fs::path& p) { return open_or_throw(p, O_RDONLY | O_DIRECTORY); }

// BtrfsFsDevices::fsid (32 hex digits) as /sys/fs/btrfs names it (8-4-4-4-12).
std::string sysfs_uuid(const std::string& hex) {
  if (hex.size() != 32) return hex;
  return fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4), hex.substr(16, 4),
                     hex.substr(20));
}

// ---- the holders ------------------------------------------------------------

class BalanceHold : public StateHold {
 public:
  enum class Mode { Running, Paused, PausedConvert, Cancelled };
  BalanceHold(Mode m, const HoldTargets& t) : mode_(m), t_(t), fd_(open_dir(t.fs_root)) {}

  std::string establish(Step& s) override {
    if (balance_progress(fd_.get(), &probe_) == 0) return "a balance exists already";
    const std::string data = profile_of(btrfs_profile(t_.fs_root), "data");
    if (mode_ == Mode::PausedConvert) {
      if (!profile_bits(data)) return "data profile unknown: nothing to convert";
      data_from_ = data;
    }
    for (int attempt = 0; attempt < 3; ++attempt) {
      start_balance();
      if (!wait_for([&] { return balance_running(fd_.get()) || bal_.done(); }, 5000ms)) {
        add_note(s, "balance not seen running in 5 s");
        stop_running();
        continue;
      }
      if (mode_ == Mode::Running) return balance_running(fd_.get()) ? "" : "balance ended before it was seen";
      if (bal_.done()) {
        s.res.push_back(bal_.join());
        continue;  // finished before it could be stopped half-way: again
      }
      if (mode_ == Mode::Cancelled) {
        // Half-way: at least one chunk relocated, if the balance lasts that long.
        wait_for([&] {
          btrfs_ioctl_balance_args a;
          return balance_progress(fd_.get(), &a) != 0 || a.stat.completed > 0;
        }, 3000ms);
        const int ctl = balance_ctl(fd_.get(), BTRFS_BALANCE_CTL_CANCEL);
        const int64_t rc = bal_.join();
        s.res.insert(s.res.end(), {ctl, rc});
        if (ctl == 0 && rc == -ECANCELED && balance_progress(fd_.get(), &probe_) == -ENOTCONN) return "";
        continue;
      }
      const int ctl = balance_ctl(fd_.get(), BTRFS_BALANCE_CTL_PAUSE);
      const int64_t rc = bal_.join();
      s.res.insert(s.res.end(), {ctl, rc});
      if (ctl == 0 && confirm()) return "";
      if (balance_progress(fd_.get(), &probe_) == 0) resume(s);  // paused but not as wanted: finish it
    }
    return fmt::format("the balance could not be caught {} in 3 tries (kernel answers {})",
                       mode_ == Mode::Cancelled ? "and cancelled half-way" : "and paused half-way",
                       fmt::join(s.res, ","));
  }

  bool confirm() override {
    btrfs_ioctl_balance_args a;
    const int rc = balance_progress(fd_.get(), &a);
    switch (mode_) {
      case Mode::Running: return rc == 0 && (a.state & BTRFS_BALANCE_STATE_RUNNING);
      case Mode::Paused: return rc == 0 && !(a.state & BTRFS_BALANCE_STATE_RUNNING);
      case Mode::PausedConvert:
        return rc == 0 && !(a.state & BTRFS_BALANCE_STATE_RUNNING) && (a.data.flags & BTRFS_BALANCE_ARGS_CONVERT);
      case Mode::Cancelled: return rc == -ENOTCONN;
    }
    return false;
  }

  void keep() override {
    if (mode_ == Mode::Running && bal_.done() && !stopping_) {
      bal_.join();
      start_balance();
    }
  }

  void release(Step& s) override {
    if (mode_ == Mode::Running) {
      stop_running();
      s.res.push_back(bal_.join());
      return;
    }
    if (mode_ == Mode::Cancelled) return;
    resume(s);
    if (mode_ == Mode::PausedConvert) {
      auto back = convert_to(data_from_);
      s.res.push_back(balance(fd_.get(), BTRFS_BALANCE_DATA, &back, nullptr));
      add_note(s, fmt::format("data {} -> {} (paused) -> {}", data_from_, convert_target(data_from_), data_from_));
    }
  }

 private:
  void start_balance() {
    const int fd = fd_.get();
    if (mode_ == Mode::PausedConvert) {
      const btrfs_balance_args there = convert_to(convert_target(data_from_));
      bal_.start([fd, there] { return static_cast<int64_t>(balance(fd, BTRFS_BALANCE_DATA, &there, nullptr)); });
    } else {
      bal_.start([fd] {
        btrfs_balance_args all{};
        return static_cast<int64_t>(balance(fd, BTRFS_BALANCE_DATA | BTRFS_BALANCE_METADATA, &all, &all));
      });
    }
  }
  void stop_running() {
    stopping_ = true;
    if (!bal_.done()) balance_ctl(fd_.get(), BTRFS_BALANCE_CTL_CANCEL);
    bal_.join();
    stopping_ = false;
  }
  void resume(Step& s) { s.res.push_back(balance(fd_.get(), BTRFS_BALANCE_RESUME, nullptr, nullptr)); }

  Mode mode_;
  HoldTargets t_;
  Fd fd_;
  Beside bal_;
  std::atomic<bool> stopping_{false};
  std::string data_from_;
  btrfs_ioctl_balance_args probe_{};
};

class ScrubHold : public StateHold {
 public:
  ScrubHold(bool paused, const HoldTargets& t) : paused_(paused), fd_(open_dir(t.fs_root)) {
    devid_ = btrfs_devices(fd_.get()).devices.at(0).devid;
  }

  std::string establish(Step& s) override {
    if (scrub_progress(fd_.get(), devid_, nullptr)) return "a scrub is running already";
    for (int attempt = 0; attempt < 3; ++attempt) {
      start(0);
      if (!wait_for([&] { return scrub_progress(fd_.get(), devid_, nullptr) || scrub_.done(); }, 5000ms)) continue;
      if (!paused_) return scrub_progress(fd_.get(), devid_, nullptr) ? "" : "the scrub ended before it was seen";
      if (scrub_.done()) {
        s.res.push_back(scrub_.join());
        continue;
      }
      // Half-way: some data scrubbed, if the scrub lasts that long.
      wait_for([&] {
        btrfs_scrub_progress p{};
        return !scrub_progress(fd_.get(), devid_, &p) || p.data_bytes_scrubbed > 0;
      }, 2000ms);
      const int ctl = ::ioctl(fd_.get(), BTRFS_IOC_SCRUB_CANCEL, nullptr) == 0 ? 0 : -errno;
      const int64_t rc = scrub_.join();
      s.res.insert(s.res.end(), {ctl, rc});
      if (ctl == 0 && rc == -ECANCELED && !scrub_progress(fd_.get(), devid_, nullptr)) {
        add_note(s, fmt::format("scrub stopped at physical {:#x}", last_.last_physical));
        return "";
      }
    }
    return fmt::format("the scrub could not be caught {} in 3 tries", paused_ ? "and stopped half-way" : "running");
  }
  bool confirm() override {
    const bool running = scrub_progress(fd_.get(), devid_, nullptr);
    return paused_ ? !running : running;
  }
  void keep() override {
    if (!paused_ && scrub_.done() && !stopping_) {
      scrub_.join();
      start(0);
    }
  }
  void release(Step& s) override {
    if (!paused_) {
      stopping_ = true;
      if (!scrub_.done()) ::ioctl(fd_.get(), BTRFS_IOC_SCRUB_CANCEL, nullptr);
      s.res.push_back(scrub_.join());
      return;
    }
    start(last_.last_physical);  // resume where it stopped, as btrfs scrub resume does
    s.res.push_back(scrub_.join());
  }
  std::string failure() override {
    const uint64_t errs = last_.csum_errors + last_.verify_errors + last_.uncorrectable_errors + last_.read_errors;
    return errs ? fmt::format("scrub during a held state: {} csum, {} verify, {} read errors, {} uncorrectable",
                              last_.csum_errors, last_.verify_errors, last_.read_errors, last_.uncorrectable_errors)
                : "";
  }

 private:
  void start(uint64_t from) {
    const int fd = fd_.get();
    const uint64_t devid = devid_;
    scrub_.start([this, fd, devid, from] {
      btrfs_ioctl_scrub_args a{};
      a.devid = devid;
      a.start = from;
      a.end = UINT64_MAX;
      a.flags = BTRFS_SCRUB_READONLY;
      const int64_t rc = ::ioctl(fd, BTRFS_IOC_SCRUB, &a) == 0 ? 0 : -errno;
      // What it found so far, also when cancelled.
      last_.last_physical = a.progress.last_physical;
      last_.csum_errors += a.progress.csum_errors;
      last_.verify_errors += a.progress.verify_errors;
      last_.read_errors += a.progress.read_errors;
      last_.uncorrectable_errors += a.progress.uncorrectable_errors;
      return rc;
    });
  }
  bool paused_;
  Fd fd_;
  uint64_t devid_ = 0;
  Beside scrub_;
  std::atomic<bool> stopping_{false};
  btrfs_scrub_progress last_{};
};

class DeviceHold : public StateHold {
 public:
  DeviceHold(bool replace, const HoldTargets& t) : replace_(replace), t_(t), fd_(open_dir(t.fs_root)) {}

  std::string establish(Step& s) override {
    if (t_.spares.empty()) return "no spare device";
    if (!replace_) {
      exclusive_ = fmt::format("/sys/fs/btrfs/{}/exclusive_operation", sysfs_uuid(btrfs_devices(fd_.get()).fsid));
      if (!fs::exists(exclusive_)) return "the kernel has no " + exclusive_ + " (5.10+) to say a remove is running";
    }
    auto actions = plan_device_event(replace_ ? "replace" : "remove", member_paths(fd_.get()),
                                     t_.spares[s.seq % t_.spares.size()], s.file);
    if (actions.empty()) return "no device to " + std::string(replace_ ? "replace" : "remove");
    // remove: the spare is added first (synchronously); the last action runs beside.
    for (size_t i = 0; i + 1 < actions.size(); ++i) {
      const int64_t rc = device_ioctl(fd_.get(), actions[i]);
      s.res.push_back(rc);
      add_note(s, describe(actions[i]) + ": " + device_rc_name(rc));
      if (rc != 0) return "could not " + describe(actions[i]);
    }
    last_ = actions.back();
    const int fd = fd_.get();
    const DeviceAction a = last_;
    op_.start([fd, a] { return device_ioctl(fd, a); });
    if (wait_for([&] { return confirm() || op_.done(); }, 5000ms) && confirm()) return "";
    s.res.push_back(op_.join());
    add_note(s, describe(last_) + ": " + device_rc_name(s.res.back()));
    t_.restore_devices(s);
    return fmt::format("{} ended before the kernel said it was running", describe(last_));
  }
  bool confirm() override {
    if (replace_) return replace_state(fd_.get()) == BTRFS_IOCTL_DEV_REPLACE_STATE_STARTED;
    return trim(read_file_or_empty(exclusive_)) == "device remove";
  }
  void release(Step& s) override {
    if (replace_ && !op_.done()) {
      btrfs_ioctl_dev_replace_args r{};
      r.cmd = BTRFS_IOCTL_DEV_REPLACE_CMD_CANCEL;
      s.res.push_back(::ioctl(fd_.get(), BTRFS_IOC_DEV_REPLACE, &r) == 0 ? static_cast<int64_t>(r.result) : -errno);
      add_note(s, "replace cancelled");
    }
    const int64_t rc = op_.join();
    s.res.push_back(rc);
    add_note(s, describe(last_) + ": " + device_rc_name(rc));
    t_.restore_devices(s);
  }

 private:
  bool replace_;
  HoldTargets t_;
  Fd fd_;
  std::string exclusive_;
  DeviceAction last_{};
  Beside op_;
};

class QuotaHold : public StateHold {
 public:
  explicit QuotaHold(const HoldTargets& t) : fd_(open_dir(t.fs_root)) {}
  std::string establish(Step& s) override {
    if (!fs::exists(fmt::format("/sys/fs/btrfs/{}/qgroups", sysfs_uuid(btrfs_devices(fd_.get()).fsid)))) {
      btrfs_ioctl_quota_ctl_args q{};
      q.cmd = BTRFS_QUOTA_CTL_ENABLE;
      const int rc = ::ioctl(fd_.get(), BTRFS_IOC_QUOTA_CTL, &q) == 0 ? 0 : -errno;
      s.res.push_back(rc);
      if (rc != 0) return "quota could not be enabled: " + name_rc(rc);
      enabled_ = true;
    }
    for (int i = 0; i < 50; ++i) {
      rescan();
      if (confirm()) return "";
    }
    release(s);
    return "no rescan was seen running (each finished before the status ioctl)";
  }
  bool confirm() override {
    btrfs_ioctl_quota_rescan_args r{};
    return ::ioctl(fd_.get(), BTRFS_IOC_QUOTA_RESCAN_STATUS, &r) == 0 && r.flags == 1;
  }
  void keep() override {
    if (!confirm()) rescan();
  }
  void release(Step& s) override {
    s.res.push_back(::ioctl(fd_.get(), BTRFS_IOC_QUOTA_RESCAN_WAIT, nullptr) == 0 ? 0 : -errno);
    if (enabled_) {
      btrfs_ioctl_quota_ctl_args q{};
      q.cmd = BTRFS_QUOTA_CTL_DISABLE;
      s.res.push_back(::ioctl(fd_.get(), BTRFS_IOC_QUOTA_CTL, &q) == 0 ? 0 : -errno);
      add_note(s, "quota enabled for the window, disabled after");
    }
  }

 private:
  void rescan() {
    btrfs_ioctl_quota_rescan_args r{};
    ::ioctl(fd_.get(), BTRFS_IOC_QUOTA_RESCAN, &r);  // EINPROGRESS: one runs already
  }
  Fd fd_;
  bool enabled_ = false;
};

class DefragHold : public StateHold {
 public:
  explicit DefragHold(const HoldTargets& t) : t_(t) {}
  std::string establish(Step& s) override {
    if (t_.files.empty()) return "no file";
    // A checksummed file where there is one: a NOCOW file is not compressed.
    for (size_t i = 0; i < t_.files.size(); ++i) {
      file_ = t_.files[(s.file + i) % t_.files.size()];
      fd_ = open_or_throw(file_, O_RDWR);
      if (!has_nocow(fd_.get())) break;
    }
    add_note(s, file_.filename().string());
    for (int i = 0; i < 50; ++i) {
      start();
      if (wait_for([&] { return confirm() || op_.done(); }, 1000ms) && confirm()) return "";
      op_.join();
    }
    return "the defrag ioctl was never seen in progress";
  }
  // The kernel's own view of the defrag thread: inside the ioctl (blocked in
  // it, or on a CPU while the thread has not returned from it).
  bool confirm() override {
    const pid_t tid = op_.tid();
    if (op_.done() || !tid) return false;
    const std::string sc = read_file_or_empty(fmt::format("/proc/self/task/{}/syscall", tid));
    if (sc.rfind("running", 0) == 0) return in_ioctl_;
    return sc.rfind(fmt::format("{} ", SYS_ioctl), 0) == 0 && in_ioctl_;
  }
  void keep() override {
    if (op_.done() && !stopping_) {
      op_.join();
      start();
    }
  }
  void release(Step& s) override {
    stopping_ = true;
    s.res.push_back(op_.join());
  }

 private:
  void start() {
    const int fd = fd_.get();
    op_.start([this, fd] {
      // Compressing makes every extent work to do (a plain defrag of an
      // unfragmented file returns at once); NOCOW files stay uncompressed.
      btrfs_ioctl_defrag_range_args a{};
      a.len = UINT64_MAX;
      a.flags = BTRFS_DEFRAG_RANGE_START_IO | BTRFS_DEFRAG_RANGE_COMPRESS;
      a.compress_type = 1;  // zlib
      a.extent_thresh = UINT32_MAX;
      in_ioctl_ = true;
      const int64_t rc = ::ioctl(fd, BTRFS_IOC_DEFRAG_RANGE, &a) == 0 ? 0 : -errno;
      in_ioctl_ = false;
      return rc;
    });
  }
  HoldTargets t_;
  fs::path file_;
  Fd fd_;
  Beside op_;
  std::atomic<bool> in_ioctl_{false}, stopping_{false};
};

class ReadonlySnapshotHold : public StateHold {
 public:
  explicit ReadonlySnapshotHold(const HoldTargets& t) : t_(t) {}
  std::string establish(Step& s) override {
    Fd src = open_dir(t_.subvol);
    dst_ = open_dir(t_.snap_dir);
    name_ = fmt::format("ro-snap-{}", s.seq);
    btrfs_ioctl_vol_args_v2 a{};
    a.fd = src.get();
    a.flags = BTRFS_SUBVOL_RDONLY;
    std::snprintf(a.name, sizeof a.name, "%s", name_.c_str());
    const int rc = ::ioctl(dst_.get(), BTRFS_IOC_SNAP_CREATE_V2, &a) == 0 ? 0 : -errno;
    s.res.push_back(rc);
    if (rc != 0) return "snapshot not made: " + name_rc(rc);
    snap_ = open_dir(t_.snap_dir / name_);
    if (confirm()) return "";
    release(s);
    return "the snapshot is not read-only";
  }
  bool confirm() override {
    uint64_t flags = 0;
    return snap_ && ::ioctl(snap_.get(), BTRFS_IOC_SUBVOL_GETFLAGS, &flags) == 0 && (flags & BTRFS_SUBVOL_RDONLY);
  }
  void release(Step& s) override {
    snap_.reset();
    btrfs_ioctl_vol_args d{};
    std::snprintf(d.name, sizeof d.name, "%s", name_.c_str());
    s.res.push_back(::ioctl(dst_.get(), BTRFS_IOC_SNAP_DESTROY, &d) == 0 ? 0 : -errno);
  }

 private:
  HoldTargets t_;
  Fd dst_, snap_;
  std::string name_;
};

class NearlyFullHold : public StateHold {
 public:
  explicit NearlyFullHold(const HoldTargets& t) : t_(t) {
    // Room for every file under test to be rewritten a few times over (COW,
    // reflinks) and its metadata: the ops must not meet ENOSPC, which the
    // engine would take for a failure.
    reserve_ = std::max<uint64_t>(96ull << 20, t.files.size() * (24ull << 20));
  }
  std::string establish(Step& s) override {
    const uint64_t free0 = free_bytes();
    if (free0 > reserve_ + (32ull << 30))
      return fmt::format("{} free: filling that much is not done", format_size(free0));
    path_ = t_.snap_dir / fmt::format("nearly-full-{}", s.seq);
    fd_ = open_or_throw(path_, O_RDWR | O_CREAT | O_EXCL, 0600);
    // statfs overstates what data can still take (space kept for metadata):
    // fill until the filesystem refuses, then give the reserve back.
    uint64_t at = 0, chunk = 1ull << 30;
    while (chunk >= (1ull << 20)) {
      if (::fallocate(fd_.get(), 0, static_cast<off_t>(at), static_cast<off_t>(chunk)) == 0)
        at += chunk;
      else if (errno == ENOSPC)
        chunk /= 2;
      else
        break;
    }
    ::syncfs(fd_.get());
    full_free_ = free_bytes();
    const uint64_t keep = at > reserve_ ? at - reserve_ : 0;
    if (::ftruncate(fd_.get(), static_cast<off_t>(keep)) != 0 || ::syncfs(fd_.get()) != 0) {
      undo();
      return "the filler could not be shrunk: " + errno_name(errno);
    }
    add_note(s, fmt::format("filler of {}; {} free when full, {} now", format_size(keep), format_size(full_free_),
                            format_size(free_bytes())));
    if (confirm()) return "";
    const std::string why = fmt::format("{} still free after filling", format_size(free_bytes()));
    undo();
    return why;
  }
  // Free space at most what the filesystem had when it took no more data, plus the reserve (and slack).
  bool confirm() override { return free_bytes() <= full_free_ + 2 * reserve_; }
  void release(Step& s) override { s.res.push_back(undo()); }

 private:
  uint64_t free_bytes() const {
    struct statfs f {};
    if (::statfs(t_.fs_root.c_str(), &f) != 0) return UINT64_MAX;
    return static_cast<uint64_t>(f.f_bavail) * static_cast<uint64_t>(f.f_bsize);
  }
  int64_t undo() {
    fd_.reset();
    std::error_code ec;
    return fs::remove(path_, ec) ? 0 : -ec.value();
  }
  HoldTargets t_;
  uint64_t reserve_ = 0, full_free_ = 0;
  fs::path path_;
  Fd fd_;
};

}  // namespace

const std::vector<StateInfo>& state_table() { return kStates; }
const StateInfo* find_state(const std::string& name) {
  for (const auto& s : kStates)
    if (name == s.name) return &s;
  return nullptr;
}

void choose_state(Prng& r, Step& s) {
  s.arg = kStates[r.below(kStates.size())].name;
  s.len = r.between(kMinWindow, kMaxWindow);
}

std::vector<std::string> held_through(const std::vector<std::string>& at_start, const std::vector<std::string>& at_end) {
  std::vector<std::string> out;
  for (const auto& s : at_start)
    if (std::find(at_end.begin(), at_end.end(), s) != at_end.end()) out.push_back(s);
  return out;
}

std::unique_ptr<StateHold> make_hold(const std::string& state, const HoldTargets& t) {
  using M = BalanceHold::Mode;
  if (state == "balance-running") return std::make_unique<BalanceHold>(M::Running, t);
  if (state == "balance-paused") return std::make_unique<BalanceHold>(M::Paused, t);
  if (state == "balance-paused-convert") return std::make_unique<BalanceHold>(M::PausedConvert, t);
  if (state == "balance-cancelled") return std::make_unique<BalanceHold>(M::Cancelled, t);
  if (state == "scrub-running") return std::make_unique<ScrubHold>(false, t);
  if (state == "scrub-paused") return std::make_unique<ScrubHold>(true, t);
  if (state == "replace-running") return std::make_unique<DeviceHold>(true, t);
  if (state == "remove-running") return std::make_unique<DeviceHold>(false, t);
  if (state == "quota-rescan") return std::make_unique<QuotaHold>(t);
  if (state == "defrag-running") return std::make_unique<DefragHold>(t);
  if (state == "readonly-snapshot") return std::make_unique<ReadonlySnapshotHold>(t);
  if (state == "nearly-full") return std::make_unique<NearlyFullHold>(t);
  return nullptr;
}

// ---- the table ----------------------------------------------------------------

size_t StateReport::visited() const {
  size_t n = 0;
  for (const auto& st : states) {
    auto it = cells.find(st);
    if (it == cells.end()) continue;
    for (const auto& op : ops)
      if (auto c = it->second.find(op); c != it->second.end() && c->second.ops) ++n;
  }
  return n;
}

StateReport state_report(const OpLog& log, uint64_t failed_seq, const Mix& mix, bool spares) {
  StateReport r;
  for (const OpInfo* o : mix.ops) r.ops.push_back(o->name);
  const bool holds = std::any_of(mix.events.begin(), mix.events.end(),
                                 [](const EventInfo* e) { return std::string(e->name) == "state"; }) ||
                     std::any_of(log.steps.begin(), log.steps.end(), [](const Step& s) { return s.event == "state"; });
  if (holds)
    for (const auto& st : kStates)
      if (spares || !st.needs_spare) r.states.push_back(st.name);
  for (const Step& s : log.steps) {
    if (s.event == "state") {
      HoldCount& h = r.holds[s.arg];
      ++h.tried;
      if (s.note.rfind("held", 0) == 0)
        ++h.held;
      else
        h.last_refusal = s.note;
      continue;
    }
    if (s.is_event()) continue;
    if (std::find(r.ops.begin(), r.ops.end(), s.op) == r.ops.end()) r.ops.push_back(s.op);  // a replayed log
    const bool failed = failed_seq && s.seq == failed_seq;
    std::vector<std::string> in = s.states.empty() ? std::vector<std::string>{""} : s.states;
    for (const auto& st : in) {
      StateCell& c = r.cells[st][s.op];
      ++c.ops;
      c.failures += failed;
      if (!st.empty() && std::find(r.states.begin(), r.states.end(), st) == r.states.end()) r.states.push_back(st);
    }
  }
  return r;
}

nlohmann::json StateReport::to_json() const {
  nlohmann::json table = nlohmann::json::object();
  for (const auto& [st, row] : cells) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [op, c] : row) j[op] = {{"ops", c.ops}, {"failures", c.failures}};
    table[st.empty() ? "none" : st] = j;
  }
  nlohmann::json h = nlohmann::json::object();
  for (const auto& [st, c] : holds) {
    h[st] = {{"tried", c.tried}, {"held", c.held}};
    if (!c.last_refusal.empty()) h[st]["last_refusal"] = c.last_refusal;
  }
  return {{"cells_visited", visited()},
          {"cells", total()},
          {"share_visited", total() ? static_cast<double>(visited()) / static_cast<double>(total()) : 0.0},
          {"ops", ops},
          {"states", states},
          {"table", table},
          {"holds", h}};
}

std::string StateReport::format() const {
  if (states.empty()) return "STATES    -- none held (the \"state\" event is not in --events)\n";
  std::string out = fmt::format("STATES    -- op kind x held state: {} of {} cells visited ({:.0f}%)\n", visited(),
                                total(), total() ? 100.0 * static_cast<double>(visited()) / static_cast<double>(total()) : 0.0);
  auto line = [&](const std::string& st) {
    uint64_t n = 0, failures = 0;
    std::vector<std::string> kinds;
    if (auto it = cells.find(st); it != cells.end())
      for (const auto& [op, c] : it->second) {
        n += c.ops;
        failures += c.failures;
        kinds.push_back(fmt::format("{} {}{}", op, c.ops, c.failures ? fmt::format(" ({} FAILED)", c.failures) : ""));
      }
    std::string held;
    if (!st.empty()) {
      auto h = holds.find(st);
      held = h == holds.end() ? "never tried" : fmt::format("held {} of {} tries", h->second.held, h->second.tried);
      if (h != holds.end() && h->second.held == 0 && !h->second.last_refusal.empty())
        held += ": " + h->second.last_refusal;
    }
    out += fmt::format("  {:<23} {:>6} ops{}, {} of {} kinds{}{}{}\n", st.empty() ? "(none held)" : st, n,
                       failures ? fmt::format(", {} failed", failures) : "", kinds.size(), ops.size(),
                       held.empty() ? "" : "; " + held, kinds.empty() ? "" : ": ", fmt::join(kinds, ", "));
  };
  for (const auto& st : states) line(st);
  line("");
  return out;
}

void report_states(const fs::path& oplog, uint64_t failed_seq, const Mix& mix, bool spares, nlohmann::json* summary,
                   std::ostream& out) {
  try {
    const StateReport r = state_report(parse_oplog(read_file(oplog)), failed_seq, mix, spares);
    (*summary)["states"] = r.to_json();
    out << r.format();
  } catch (const std::exception& e) {
    (*summary)["states"] = {{"error", e.what()}};
    out << "STATES    -- no table: the op log could not be read back: " << e.what() << "\n";
  }
}

}  // namespace dt
