// A failure written up for a kernel mailing list (`diotorture report`):
// subject, kernel and config hints, filesystem, expected vs what happened
// (the failing check's own line), the exact reproduce command, the repro.c
// or the case's parameters, the kernel log, the fix the catalogue suspects
// and the kernels where the same check passed. Pure: the command gathers.
#pragma once

#include <string>
#include <vector>

namespace dt {

struct BugReport {
  std::string what;            // "dio-mmap-same-range" or the torture signature
  std::string kernel;
  std::string config_hints;    // "CONFIG_BTRFS_ASSERT=y\n..." or why there are none
  std::string filesystem;      // "btrfs raid1 on 2 loop devices, mount options ..."
  std::string tool_version;
  std::string description;     // what the case checks / what torture checked
  std::string expected;
  std::string happened;        // the failing check's own line
  std::vector<std::string> reproduce;  // shell commands, in order
  std::string parameters;      // the case's parameters, when not torture
  std::string repro_c;         // torture: the reproducer, inline
  std::string kernel_log;      // excerpt
  std::string suspected_fix;   // "fixed upstream by ...: is it in this kernel?" or ""
  std::vector<std::string> passed_on;  // "6.18.0 (results/x)"
  std::vector<std::string> notes;
};

std::string subject_line(const BugReport& r);
std::string render_report(const BugReport& r);

// The -p arguments that select one combination ("nocow/sizes=4k,ops=read"
// -> "-p variant=nocow -p sizes=4k -p ops=read").
std::string combination_params(const std::string& combination);

// The lines of a kernel config worth naming in a report (debug and
// sanitizer options, btrfs, io_uring, userfaultfd, preemption).
std::string config_hints(const std::string& config_text);

}  // namespace dt
