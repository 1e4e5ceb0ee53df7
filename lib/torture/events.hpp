// Environment events that run concurrently with the torture I/O, in their
// own thread: scrub, balance (filters, -dconvert/-mconvert and back, pause
// and resume, cancel), defrag, snapshot create/delete, syncfs, drop_caches,
// and device add/remove/replace with a spare device the tool provisioned
// (the filesystem's device set is restored after each: the final check
// unmounts and mounts it again by its devices).
// All through ioctls, so they work in the diotorture vm guest, which has no
// btrfs-progs. An event's errors are recorded in its log entry; only what
// the filesystem says about the data (scrub errors) is a failure.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <linux/btrfs.h>

#include "lib/torture/op.hpp"
#include "lib/torture/states.hpp"

namespace dt {

struct DeviceAction;

struct EventTargets {
  std::filesystem::path fs_root;   // any directory on the filesystem
  std::filesystem::path subvol;    // the torture subvolume (snapshot source)
  std::filesystem::path snap_dir;  // where snapshots are made (outside the subvolume)
  std::vector<std::filesystem::path> files;
  // Blank devices of the tool's own that device events may add to the
  // filesystem (empty: device events are not run).
  std::vector<std::string> spares;
};

class EventRunner {
 public:
  // on_done(step, failure) runs in the event thread after each event; failure
  // is "" unless the event reported damage (scrub errors).
  EventRunner(EventTargets targets, std::function<void(const Step&, const std::string&)> on_done,
              std::function<uint64_t()> current_seq);
  ~EventRunner();
  EventRunner(const EventRunner&) = delete;
  EventRunner& operator=(const EventRunner&) = delete;

  void submit(const Step& s);
  // Puts the filesystem's devices back as they were when the runner was
  // made (call with no event running). False if it could not; *note says
  // what was done.
  bool restore_devices(std::string* note);
  // Waits until every submitted event has ended.
  void drain();
  // The event running now, "" if none.
  std::string running();
  // The held state (the "state" event) the kernel confirms right now: empty
  // or one name. Asked when an op starts and when it ends.
  std::vector<std::string> confirm_held();

 private:
  void loop();
  std::string run_one(Step& s);  // returns a failure or ""
  void run_device_event(Step& s, int root_fd);
  // Runs the actions, appending each result to s.res and a word to s.note;
  // false after the first that failed.
  bool run_device_actions(const std::vector<DeviceAction>& actions, int root_fd, Step& s);
  // The "state" event: establishes the state, holds it until the op with
  // seq + window has started (or a drain, or the next state event), releases.
  std::string hold_state(Step& s);
  bool hold_should_end(uint64_t until);

  EventTargets t_;
  std::vector<std::string> originals_;  // the filesystem's devices at the start
  std::function<void(const Step&, const std::string&)> on_done_;
  std::function<uint64_t()> current_seq_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Step> queue_;
  std::string running_;
  bool stop_ = false;
  bool draining_ = false;         // drain() waits: a held state ends now
  uint64_t settled_seq_ = 0;      // the last state event established or refused
  std::mutex held_mu_;            // guards held_ against its release while confirm_held() asks it
  std::unique_ptr<StateHold> held_;
  std::string held_name_;
  std::thread thread_;
};

// Shared with the state holders (states.cpp): one balance through
// BTRFS_IOC_BALANCE_V2 (-errno or 0), a convert filter to a profile, the
// profile of "data"/"metadata" in btrfs_profile()'s text, the paths of the
// filesystem's devices, and one device action through its ioctl (0, -errno
// or a positive btrfs error code, named by device_rc_name).
int balance(int fd, uint64_t flags, const btrfs_balance_args* data, const btrfs_balance_args* meta);
btrfs_balance_args convert_to(const std::string& profile);
std::string profile_of(const std::string& described, const std::string& kind);
std::vector<std::string> member_paths(int root_fd);
struct DeviceAction;
int64_t device_ioctl(int root_fd, const DeviceAction& a);
std::string device_rc_name(int64_t rc);

// Pure: the BTRFS_BLOCK_GROUP_* profile bit for a profile name ("single" is
// BTRFS_AVAIL_ALLOC_BIT_SINGLE), 0 if unknown; and the profile a -dconvert
// event converts to from `current` (and back again afterwards).
uint64_t profile_bits(const std::string& name);
std::string convert_target(const std::string& current);

// Device events, pure part. An action on a device path (Remove and Replace
// find the devid when they run: ids change as devices come and go).
struct DeviceAction {
  enum class Kind { Add, Remove, Replace } kind;
  std::string dev;  // added, removed, or the source of a replace
  std::string to;   // Replace: the target
  bool operator==(const DeviceAction&) const = default;
};
std::string describe(const DeviceAction& a);
// The actions of one device event ("add", "remove", "replace") on a
// filesystem whose devices are `members`, with a spare device that is not a
// member; `target` picks the device removed or replaced. The spare is added
// before anything is removed, so the filesystem never has fewer devices than
// it started with and the profile's minimum (raid1: 2 to remove one, raid1c3:
// 3, raid6: 3, ...) holds whatever it is. Empty when nothing can be done.
std::vector<DeviceAction> plan_device_event(const std::string& arg, const std::vector<std::string>& members,
                                            const std::string& spare, unsigned target);
// What puts `members` back to `originals`: each missing original added back,
// then each device that is not an original (a spare) removed.
std::vector<DeviceAction> plan_restore(const std::vector<std::string>& members,
                                       const std::vector<std::string>& originals);

}  // namespace dt
