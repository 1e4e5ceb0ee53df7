// The kernel log around one case: a marker is written to /dev/kmsg before the
// case, everything logged after it is collected afterwards and scanned for the
// signatures fstests' _check_dmesg looks for, plus btrfs checksum failures and
// hung-task reports.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "lib/sys/sys.hpp"

namespace dt {

struct KmsgFinding {
  std::string signature;  // which pattern matched
  std::string line;
};

// Pure: the lines (message text only) that make a case fail.
std::vector<KmsgFinding> scan_kernel_log(const std::vector<std::string>& lines);

// Self-tests plant kernel-log lines. Each names the run that planted it, so
// another run on the same host does not take it for a kernel report.
std::string planted_line(const std::string& text);  // "<text> [planted by diotorture run <owner token>]"
// Pure: true for a planted line whose run is not `own_token`.
bool planted_by_another_run(const std::string& line, const std::string& own_token);

// Pure: true for a btrfs message about a device that is not one of `own`
// ("loop4", ...): another filesystem on this host (another run's, a user's),
// not the one the case runs on. With `own` empty nothing is excluded.
bool about_another_device(const std::string& line, const std::vector<std::string>& own);
// Pure: `lines` without those about_another_device() drops.
std::vector<std::string> drop_other_devices(const std::vector<std::string>& lines,
                                            const std::vector<std::string>& devices);

// Whose a kernel report is, where the kernel says: a WARNING or BUG report
// names the task it happened in ("CPU: 1 UID: 0 PID: 4711 Comm: foo"), a
// btrfs message its device. A report is another process's only when the
// kernel names a user-space task that cannot be ours: not a kernel thread
// (our I/O completes in kworkers and io_uring workers), not one of our pids
// or command names, and - where our command names are not all known (exec
// runs any program, which may start others) - a task still alive outside our
// process tree. Everything else could be ours and is judged.
struct OwnTasks {
  std::vector<int> pids;                 // the run and its children, as far as known
  std::vector<std::string> comms;        // command names our tasks carry ("diotorture")
  bool comms_complete = true;            // false: our tasks may carry other names (exec)
  std::vector<std::string> devices;      // our block devices ("/dev/loop3"); empty: all
  std::string token = {};                // our owner token (planted lines of other runs)
};
struct AttributedLog {
  std::vector<std::string> ours;   // the lines that could be ours, to scan
  std::vector<std::string> notes;  // "kernel warning from another process (pid N, comm X): <line>"
};
// Pure but for `alive_outside(pid)`, which says whether pid is a live task
// not in our process tree (see alive_outside_our_tree).
AttributedLog attribute_kernel_log(const std::vector<std::string>& lines, const OwnTasks& own,
                                   const std::function<bool(int)>& alive_outside);
// True while `pid` runs and neither it nor an ancestor is this process.
bool alive_outside_our_tree(int pid);
// The command names the tool's own tasks carry: its own (/proc/self/comm)
// and those of the programs it runs through run_command.
std::vector<std::string> tool_comms();
// Our tasks as run and torture know them: this process and its parent (a
// case or engine child asks too), the tool's command names, `devices`.
OwnTasks tool_tasks(const std::vector<std::string>& devices);

// Strips the "prio,seq,usec,flags;" record header of a /dev/kmsg record.
std::string kmsg_record_text(const std::string& record);

// Writes one line into the kernel log (/dev/kmsg), as the kernel would print
// it: how the self-tests feed the kernel-log check a bug's report line. Every
// line carries the planted tag (planted_line), so no other run on the host
// takes it for a kernel report.
void write_kernel_log(const std::string& line);

class KmsgWatch {
 public:
  // Opens /dev/kmsg positioned at the end and writes `marker` into the log.
  explicit KmsgWatch(const std::string& marker);
  // Every record logged since construction (text only, marker lines removed).
  std::vector<std::string> collect();
  bool available() const { return static_cast<bool>(fd_); }

 private:
  Fd fd_;
};

}  // namespace dt
