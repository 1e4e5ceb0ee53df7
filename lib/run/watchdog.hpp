// The one supervisor of the tool: a function run in a forked child that is
// its own process group. Every line the child writes to its report pipe is
// handed to the parent as it arrives and counts as progress (so does a file
// it writes growing, e.g. a case's log). A child that outlives total_s, or
// (with stall_s) makes no progress for stall_s seconds, is a hang: its task
// stacks are taken, then the whole group is killed. Cases (run_case), the
// torture engine and its shrinker, and `exec` all run under it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace dt {

struct WatchdogOptions {
  unsigned total_s = 3600;  // whole run, from `since`
  unsigned stall_s = 120;   // no progress for this long; 0: only total_s counts
  // Where total_s counts from (default: the fork). A case's timeout also
  // covers what the runner did for it before the fork.
  std::optional<std::chrono::steady_clock::time_point> since;
  // A file the child writes whose growth also counts as progress (-1: none).
  int progress_fd = -1;
  // The child is killed when the supervising process dies (kill -9, a CI
  // time limit), so it cannot go on holding a mount the next run reclaims.
  bool die_with_parent = false;
  // Called in the parent for each complete line from the child.
  std::function<void(const std::string&)> on_line;
  // Called about once a second in the parent (progress display).
  std::function<void()> on_tick;
  // Called once the child is gone (or given up on in D state), also before
  // an interrupt is rethrown: clean-up of what a killed child may have left.
  std::function<void(pid_t)> after_child;
};

struct ChildOutcome {
  enum class End { Exited, Signaled, Hung } end = End::Exited;
  int exit_code = 0;
  int signal = 0;
  std::string hang_reason;   // "no progress for 120s (main task in state D at ...)"
  std::string where;         // "main task in state D at <wchan>", at the hang
  std::string stacks;        // task stacks at the hang
  bool stuck_in_d_state = false;
  // At a hang: seconds since the last sign of progress, counted from the
  // start (since) when there was none.
  double quiet_s = 0;
  double seconds = 0;
};

// body(report_fd) runs in the child; its return value is the exit status
// (_exit, so nothing of the parent's is destroyed there); an exception
// escaping it is reported as an {"type":"abort"} line and exit status 70.
// Throws Interrupted after killing the child when the user interrupts.
ChildOutcome run_watched(const std::function<int(int report_fd)>& body, const WatchdogOptions& opts);

// Per-task state, wchan and kernel stack of a process, for a hang report.
std::string task_stacks(pid_t pid);
// The state letter of a process ('R', 'S', 'D', ...), '?' if it is gone.
char process_state(pid_t pid);

}  // namespace dt
