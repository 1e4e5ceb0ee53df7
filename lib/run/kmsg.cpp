#include "lib/run/kmsg.hpp"

#include "lib/sys/owned.hpp"
#include "lib/sys/proc.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cerrno>

namespace dt {
namespace {
const char* const kSignatures[] = {
    "kernel BUG at",
    "BUG:",
    "WARNING:",
    "Oops",
    "general protection fault",
    "UBSAN:",
    "KASAN:",
    "Internal error",
    "possible recursive locking detected",
    "possible circular locking dependency",
    "inconsistent lock state",
    "suspicious RCU usage",
    "csum failed",
    "checksum error",
    // btrfs ASSERT() (CONFIG_BTRFS_ASSERT), printed before its BUG(): the
    // generic/364 race shows as "assertion failed: inode_is_locked(...)".
    "assertion failed:",
    // iomap could not invalidate the page cache around a direct write; the
    // data other readers see may be stale (generic/418, 60263d5889e6).
    "Page cache invalidation failure on direct I/O",
    // btrfs: a direct write or read failed part-way ("BTRFS error ... direct IO failed").
    "direct IO failed",
    // btrfs gave up on a transaction and went read-only: whatever the
    // program's exit status says, the filesystem failed under it.
    "Transaction aborted",
    "forced readonly",
};
constexpr const char* kMarkerPrefix = "diotorture: ";
}  // namespace

std::vector<KmsgFinding> scan_kernel_log(const std::vector<std::string>& lines) {
  std::vector<KmsgFinding> out;
  for (const auto& l : lines) {
    if (l.rfind(kMarkerPrefix, 0) == 0) continue;
    if (l.find("INFO: task ") != std::string::npos && l.find("blocked for more than") != std::string::npos) {
      out.push_back({"INFO: task ... blocked for more than", l});
      continue;
    }
    for (const char* sig : kSignatures) {
      if (l.find(sig) != std::string::npos) {
        out.push_back({sig, l});
        break;
      }
    }
  }
  return out;
}

std::vector<std::string> drop_other_devices(const std::vector<std::string>& lines,
                                            const std::vector<std::string>& devices) {
  std::vector<std::string> names;
  for (const auto& d : devices) names.push_back(d.substr(d.rfind('/') + 1));
  std::vector<std::string> out;
  for (const auto& l : lines)
    if (!about_another_device(l, names)) out.push_back(l);
  return out;
}

std::string kmsg_record_text(const std::string& record) {
  auto semi = record.find(';');
  std::string text = semi == std::string::npos ? record : record.substr(semi + 1);
  // Continuation lines (" KEY=value" dictionary entries) follow the first newline.
  auto nl = text.find('\n');
  if (nl != std::string::npos) text.resize(nl);
  return text;
}

namespace {
constexpr const char* kPlantedTag = " [planted by diotorture run ";
}  // namespace

void write_kernel_log(const std::string& line) {
  Fd kmsg = open_or_throw("/dev/kmsg", O_WRONLY);
  write_all(kmsg.get(), (line.find(kPlantedTag) == std::string::npos ? planted_line(line) : line) + "\n");
}

namespace {
// Kernel threads: work of any process, ours included, completes there
// (btrfs end-io and workers in kworkers, io_uring in iou-wrk/iou-sqp).
bool kernel_thread(const std::string& comm) {
  if (comm.find('/') != std::string::npos) return true;  // kworker/u8:3, ksoftirqd/0, jbd2/sda1-8
  for (const char* k : {"kworker", "kthreadd", "ksoftirqd", "rcu_", "swapper", "btrfs", "iou-", "loop", "kswapd",
                        "kcompactd", "khugepaged", "khungtaskd", "writeback", "kblockd"})
    if (comm.starts_with(k)) return true;
  return false;
}

// The number after `key` in `line` ("PID: 4711" -> 4711), -1 if none.
int number_after(const std::string& line, const std::string& key) {
  const auto p = line.find(key);
  if (p == std::string::npos) return -1;
  size_t i = p + key.size();
  if (i >= line.size() || !std::isdigit(static_cast<unsigned char>(line[i]))) return -1;
  return std::atoi(line.c_str() + i);
}

bool report_start(const std::string& l) {
  if (l.find("[ cut here ]") != std::string::npos) return true;
  for (const char* sig : {"WARNING:", "BUG:", "kernel BUG at", "Oops", "general protection fault", "UBSAN:", "KASAN:",
                          "Internal error", "INFO: task "})
    if (l.find(sig) != std::string::npos) return true;
  return false;
}
}  // namespace

AttributedLog attribute_kernel_log(const std::vector<std::string>& lines, const OwnTasks& own,
                                   const std::function<bool(int)>& alive_outside) {
  std::vector<std::string> names;
  for (const auto& d : own.devices) names.push_back(d.substr(d.rfind('/') + 1));
  std::vector<std::string> kept;
  for (const auto& l : lines)
    if (!(!own.token.empty() && planted_by_another_run(l, own.token)) && !about_another_device(l, names))
      kept.push_back(l);
  AttributedLog out;
  for (size_t i = 0; i < kept.size();) {
    if (!report_start(kept[i])) {
      out.ours.push_back(kept[i++]);
      continue;
    }
    // One report: from its first line to its end-of-trace line, the next
    // report once this one has named its task, or 80 lines.
    int pid = -1;
    std::string comm;
    bool our_device = false;
    size_t end = i;
    for (; end < kept.size() && end - i < 80; ++end) {
      const std::string& l = kept[end];
      if (end > i && report_start(l) && !comm.empty()) break;
      if (const int p = number_after(l, "PID: "); p > 0 && pid < 0) pid = p;
      if (const auto c = l.find(" Comm: "); c != std::string::npos && comm.empty()) {
        comm = l.substr(c + 7, l.find(' ', c + 7) == std::string::npos ? std::string::npos : l.find(' ', c + 7) - c - 7);
        if (const int p = number_after(l, "PID: "); p > 0) pid = p;
      }
      // The hung-task report names the task as comm:pid.
      if (const auto t = l.find("INFO: task "); t != std::string::npos && comm.empty()) {
        const auto colon = l.rfind(':', l.find(" blocked for"));
        if (colon != std::string::npos && colon > t + 11) {
          comm = l.substr(t + 11, colon - t - 11);
          pid = std::atoi(l.c_str() + colon + 1);
        }
      }
      if (!names.empty())
        for (const auto& n : names)
          if (l.find("(device " + n + ")") != std::string::npos || l.find("(device " + n + " ") != std::string::npos)
            our_device = true;
      if (l.find("---[ end trace") != std::string::npos || (l.starts_with("INFO: task ") && end == i)) {
        ++end;
        break;
      }
    }
    const bool foreign = pid > 0 && !comm.empty() && !our_device && !kernel_thread(comm) &&
                         std::find(own.pids.begin(), own.pids.end(), pid) == own.pids.end() &&
                         std::find(own.comms.begin(), own.comms.end(), comm) == own.comms.end() &&
                         (own.comms_complete || alive_outside(pid));
    if (foreign) {
      // Name the report by its first signature line, not by "cut here".
      size_t head = i;
      while (head + 1 < end && kept[head].find("[ cut here ]") != std::string::npos) ++head;
      out.notes.push_back(fmt::format("kernel warning from another process (pid {}, comm {}): {}", pid, comm, kept[head]));
    }
    else out.ours.insert(out.ours.end(), kept.begin() + static_cast<long>(i), kept.begin() + static_cast<long>(end));
    i = end;
  }
  return out;
}

bool alive_outside_our_tree(int pid) {
  const int me = ::getpid();
  for (int p = pid, hops = 0; p > 1 && hops < 64; ++hops) {
    if (p == me) return false;
    const int parent = parent_pid(p);
    if (parent < 0) return hops > 0;  // the task itself gone: cannot tell
    p = parent;
  }
  return true;
}

std::vector<std::string> tool_comms() {
  return {trim(read_file_or_empty("/proc/self/comm")), "mkfs.btrfs", "btrfs", "blkid", "dmsetup", "modprobe"};
}

OwnTasks tool_tasks(const std::vector<std::string>& devices) {
  return OwnTasks{{::getpid(), ::getppid()}, tool_comms(), true, devices, owner_token()};
}

std::string planted_line(const std::string& text) { return text + kPlantedTag + owner_token() + "]"; }

bool planted_by_another_run(const std::string& line, const std::string& own_token) {
  const auto p = line.find(kPlantedTag);
  if (p == std::string::npos) return false;
  const std::string rest = line.substr(p + std::string(kPlantedTag).size());
  return rest.rfind(own_token + "]", 0) != 0;
}

bool about_another_device(const std::string& line, const std::vector<std::string>& own) {
  const std::string tag = "(device ";
  const auto p = line.find(tag);
  if (own.empty() || p == std::string::npos) return false;
  const auto start = p + tag.size();
  const auto end = line.find_first_of(" )", start);
  const std::string dev = line.substr(start, end == std::string::npos ? std::string::npos : end - start);
  return std::find(own.begin(), own.end(), dev) == own.end();
}

KmsgWatch::KmsgWatch(const std::string& marker) {
  int fd = ::open("/dev/kmsg", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return;
  fd_.reset(fd);
  ::lseek(fd, 0, SEEK_END);
  std::string m = kMarkerPrefix + marker + "\n";
  (void)!::write(fd, m.data(), m.size());
}

std::vector<std::string> KmsgWatch::collect() {
  std::vector<std::string> out;
  if (!fd_) return out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EPIPE) continue;  // records overwritten under us; keep reading newer ones
      if (errno == EINTR) continue;
      break;  // EAGAIN: nothing more
    }
    if (n == 0) break;
    std::string text = kmsg_record_text(std::string(buf, static_cast<size_t>(n)));
    if (text.rfind(kMarkerPrefix, 0) == 0) continue;
    out.push_back(std::move(text));
  }
  return out;
}

}  // namespace dt
