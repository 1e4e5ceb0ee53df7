#include "lib/crash/write_log.hpp"

#include <fcntl.h>
#include <linux/falloc.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstring>

#include "lib/sys/sys.hpp"

namespace dt {
namespace {

constexpr uint64_t kMagic = 0x6a736677736872ULL;  // dm-log-writes' WRITE_LOG_MAGIC

uint64_t le64(const std::string& s, size_t at) {
  uint64_t v = 0;
  std::memcpy(&v, s.data() + at, 8);
  return v;
}

}  // namespace

uint64_t WriteLog::flushes() const {
  uint64_t n = 0;
  for (const auto& e : entries) n += e.flush();
  return n;
}

uint64_t WriteLog::bytes_written() const {
  uint64_t n = 0;
  for (const auto& e : entries)
    if (e.write()) n += e.nr_sectors * sector_size;
  return n;
}

WriteLog parse_write_log(const LogReader& read, uint64_t log_bytes, uint64_t device_bytes) {
  WriteLog wl;
  const std::string super = read(0, 32);
  if (super.size() < 28 || le64(super, 0) != kMagic)
    throw SetupError("the write log has no dm-log-writes super block (did qemu's blklogwrites driver write it?)");
  wl.super_entries = le64(super, 16);
  uint32_t ss = 0;
  std::memcpy(&ss, super.data() + 24, 4);
  if (ss < 512 || ss > 65536 || (ss & (ss - 1)))
    throw SetupError(fmt::format("the write log's sector size {} is not a power of two from 512 to 64K", ss));
  wl.sector_size = ss;
  const uint64_t device_sectors = device_bytes / ss;
  uint64_t at = 1;  // log sector of the next entry header
  for (uint64_t i = 0;; ++i) {
    const uint64_t off = at * ss;
    if (off + 32 > log_bytes) break;
    const std::string h = read(off, 32);
    if (h.size() < 32) break;
    LogEntry e;
    e.index = i;
    e.sector = le64(h, 0);
    e.nr_sectors = le64(h, 8);
    e.flags = le64(h, 16);
    e.data_offset = off + ss;
    const bool known_flags = (e.flags & ~uint64_t{kLogFlush | kLogFua | kLogDiscard | kLogMark}) == 0;
    const bool empty = e.flags == 0 && e.nr_sectors == 0;
    const bool in_device = e.sector <= device_sectors && e.nr_sectors <= device_sectors - e.sector;
    // Past the counted entries an implausible header is the end of the log.
    if (i >= wl.super_entries && (empty || !known_flags || !in_device)) break;
    if (!known_flags || !in_device)
      throw SetupError(fmt::format("write log entry {} is corrupt (sector {}, {} sectors, flags {:#x})", i, e.sector,
                                   e.nr_sectors, e.flags));
    const uint64_t data_sectors = e.discard() ? 0 : e.nr_sectors;
    if (e.data_offset + data_sectors * ss > log_bytes) break;  // torn last entry
    wl.entries.push_back(e);
    at += 1 + data_sectors;
  }
  if (wl.entries.size() < wl.super_entries)
    throw SetupError(fmt::format("the write log ends after {} entries but its super block counts {}",
                                 wl.entries.size(), wl.super_entries));
  return wl;
}

WriteLog read_write_log(const std::filesystem::path& log, uint64_t device_bytes) {
  Fd fd = open_or_throw(log, O_RDONLY);
  const uint64_t size = std::filesystem::file_size(log);
  return parse_write_log(
      [&](uint64_t off, size_t len) {
        std::string buf(len, '\0');
        ssize_t n = ::pread(fd.get(), buf.data(), len, static_cast<off_t>(off));
        buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
        return buf;
      },
      size, device_bytes);
}

std::string entry_data(const std::filesystem::path& log, const WriteLog& wl, const LogEntry& e) {
  Fd fd = open_or_throw(log, O_RDONLY);
  std::string buf(e.write() ? e.nr_sectors * wl.sector_size : 0, '\0');
  if (!buf.empty() &&
      ::pread(fd.get(), buf.data(), buf.size(), static_cast<off_t>(e.data_offset)) != static_cast<ssize_t>(buf.size()))
    throw_errno("read write log " + log.string());
  return buf;
}

void replay_write_log(const std::filesystem::path& log, const WriteLog& wl, uint64_t upto,
                      const std::vector<uint64_t>& extra, const std::filesystem::path& image) {
  Fd in = open_or_throw(log, O_RDONLY);
  Fd out = open_or_throw(image, O_RDWR);
  std::string buf;
  auto apply = [&](const LogEntry& e) {
    const off_t dst = static_cast<off_t>(e.sector * wl.sector_size);
    const size_t len = e.nr_sectors * wl.sector_size;
    if (e.discard()) {
      if (::fallocate(out.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, dst, static_cast<off_t>(len)) != 0)
        throw_errno("punch " + image.string());
      return;
    }
    if (!e.write()) return;
    buf.resize(len);
    if (::pread(in.get(), buf.data(), len, static_cast<off_t>(e.data_offset)) != static_cast<ssize_t>(len))
      throw_errno("read write log " + log.string());
    if (::pwrite(out.get(), buf.data(), len, dst) != static_cast<ssize_t>(len)) throw_errno("write " + image.string());
  };
  for (uint64_t i = 0; i < upto && i < wl.entries.size(); ++i) apply(wl.entries[i]);
  for (uint64_t i : extra)
    if (i < wl.entries.size()) apply(wl.entries[i]);
}

}  // namespace dt
