// Kernel coverage of a run: which btrfs and iomap functions executed, from
// the ftrace function tracer in a tracefs instance of our own, filtered to
// those functions (set_ftrace_filter: ":mod:btrfs" where btrfs is a module,
// else btrfs_*, and *iomap*). A function is recorded the first time it is
// seen and then moved to set_ftrace_notrace, so a hot function costs its
// trace events only until the next poll, and rare ones are not pushed out of
// the ring buffer by hot ones. Where the kernel refuses (no function tracer,
// filter files refused as on a lockdown or a kernel without dynamic ftrace)
// the reason is said once and nothing fails.
#pragma once

#include <cstdint>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace dt {

// The areas coverage is counted for.
inline constexpr const char* kCoverageAreas[] = {"btrfs", "iomap"};

// Pure: the area of a line of available_filter_functions ("name [module]" or
// "name"), "" if neither. btrfs: the btrfs module's functions, or where btrfs
// is built in (no "[btrfs]" anywhere: btrfs_builtin) the btrfs_* ones; iomap:
// the built-in functions with "iomap" in their name.
std::string coverage_area(std::string_view line, bool btrfs_builtin);
// Pure: the function names per area in an available_filter_functions text.
std::map<std::string, std::set<std::string>> functions_present(std::string_view text);
// Pure: the functions named in a function tracer's output ("task-pid [cpu] ... ts: func <-parent").
std::vector<std::string> traced_functions(std::string_view text);
// Pure: the functions of a coverage.txt or a plain list (one a line; the
// function is the second word of "area function seconds" lines, else the
// first); '#' lines are comments.
std::set<std::string> parse_coverage_list(std::string_view text);

class KernelCoverage {
 public:
  // Sets the instance up and starts tracing; on refusal available() is false.
  KernelCoverage();
  ~KernelCoverage();
  KernelCoverage(const KernelCoverage&) = delete;
  KernelCoverage& operator=(const KernelCoverage&) = delete;

  bool available() const { return !dir_.empty(); }
  // One line for the header: what is recorded, or why nothing is.
  std::string description() const;
  // Reads what was traced since the last poll; functions seen for the first
  // time are recorded (with the seconds since the start) and no longer traced.
  // A thread of its own does this every second from the start: moving
  // functions to set_ftrace_notrace costs seconds in a TCG guest, which the
  // caller's loop (the watchdog's) must not wait for.
  void poll();
  // Stops the polling thread, polls a last time, removes the instance.
  void stop();

  // summary.json "coverage": hit/present per area, new against the baseline.
  nlohmann::json to_json(const std::set<std::string>* baseline) const;
  // coverage.txt: "area function seconds" lines, sorted by first hit.
  std::string listing() const;
  // The console line.
  std::string summary_line(const std::set<std::string>* baseline) const;

 private:
  std::string why_;
  std::string dir_;
  double t0_ = 0;
  std::map<std::string, std::set<std::string>> present_;
  std::map<std::string, std::string> area_of_;  // function -> area, for the present ones
  std::map<std::string, double> hit_;           // function -> seconds when first seen
  uint64_t polls_ = 0;
  mutable std::mutex mu_;  // hit_, polls_ against the polling thread
  std::mutex poll_mu_;     // one poll at a time (the thread's, the last one)
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread poller_;
};

}  // namespace dt
