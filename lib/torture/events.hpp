// Environment events that run concurrently with the torture I/O, in their
// own thread: scrub, balance (filters, -dconvert/-mconvert and back, pause
// and resume, cancel), defrag, snapshot create/delete, syncfs, drop_caches.
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

#include "lib/torture/op.hpp"

namespace dt {

struct EventTargets {
  std::filesystem::path fs_root;   // any directory on the filesystem
  std::filesystem::path subvol;    // the torture subvolume (snapshot source)
  std::filesystem::path snap_dir;  // where snapshots are made (outside the subvolume)
  std::vector<std::filesystem::path> files;
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
  // Waits until every submitted event has ended.
  void drain();
  // The event running now, "" if none.
  std::string running();

 private:
  void loop();
  std::string run_one(Step& s);  // returns a failure or ""

  EventTargets t_;
  std::function<void(const Step&, const std::string&)> on_done_;
  std::function<uint64_t()> current_seq_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Step> queue_;
  std::string running_;
  bool stop_ = false;
  std::thread thread_;
};

// Pure: the BTRFS_BLOCK_GROUP_* profile bit for a profile name ("single" is
// BTRFS_AVAIL_ALLOC_BIT_SINGLE), 0 if unknown; and the profile a -dconvert
// event converts to from `current` (and back again afterwards).
uint64_t profile_bits(const std::string& name);
std::string convert_target(const std::string& current);

}  // namespace dt
