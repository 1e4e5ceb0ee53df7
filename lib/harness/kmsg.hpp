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

// Pure: lines without those a filesystem on another device logged ("BTRFS
// error (device loop5): ..."): on a shared machine other runs' filesystems
// log too. `devices` are names or paths ("loop0", "/dev/loop0"); lines that
// name no device are kept.
std::vector<std::string> drop_other_devices(const std::vector<std::string>& lines,
                                            const std::vector<std::string>& devices);

// Strips the "prio,seq,usec,flags;" record header of a /dev/kmsg record.
std::string kmsg_record_text(const std::string& record);

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
