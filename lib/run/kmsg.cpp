#include "lib/run/kmsg.hpp"

#include "lib/sys/owned.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
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

void write_kernel_log(const std::string& line) {
  Fd kmsg = open_or_throw("/dev/kmsg", O_WRONLY);
  write_all(kmsg.get(), line + "\n");
}

namespace {
constexpr const char* kPlantedTag = " [planted by diotorture run ";
}  // namespace

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
