// A function run in a forked child under a watchdog: the child is its own
// process group, every line it writes to its report pipe is handed to the
// parent as it arrives (and counts as progress), and a child that makes no
// progress for stall_s seconds, or outlives total_s, is a hang: its task
// stacks are taken and the whole group killed. run_case() does the same for
// a case with a fixed timeout; the torture engine needs the stall timer and
// a live line feed.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

namespace dt {

struct WatchdogOptions {
  unsigned total_s = 3600;  // whole run
  unsigned stall_s = 120;   // no report line for this long
  // Called in the parent for each complete line from the child.
  std::function<void(const std::string&)> on_line;
  // Called about once a second in the parent (progress display).
  std::function<void()> on_tick;
};

struct ChildOutcome {
  enum class End { Exited, Signaled, Hung } end = End::Exited;
  int exit_code = 0;
  int signal = 0;
  std::string hang_reason;   // "no progress for 120s (main task in state D at ...)"
  std::string stacks;        // task stacks at the hang
  bool stuck_in_d_state = false;
  double seconds = 0;
};

// body(report_fd) runs in the child; its return value is the exit status
// (_exit, so nothing of the parent's is destroyed there). Throws Interrupted
// after killing the child when the user interrupts.
ChildOutcome run_watched(const std::function<int(int report_fd)>& body, const WatchdogOptions& opts);

}  // namespace dt
