// The kernel log around one case: a marker is written to /dev/kmsg before the
// case, everything logged after it is collected afterwards and scanned for the
// signatures fstests' _check_dmesg looks for, plus btrfs checksum failures and
// hung-task reports.
#pragma once

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

// Strips the "prio,seq,usec,flags;" record header of a /dev/kmsg record.
std::string kmsg_record_text(const std::string& record);

// Writes one line into the kernel log (/dev/kmsg), as the kernel would print
// it: how the self-tests feed the kernel-log check a bug's report line.
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
