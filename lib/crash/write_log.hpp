// The host's record of everything the guest wrote to its disk: a log in the
// dm-log-writes format, as qemu's `blklogwrites` block driver keeps it. Log
// sector 0 is the super block (magic, version, entry count, sector size);
// each entry is one header sector (target sector, sector count, flags) and,
// for a write, its data right after. qemu assigns an entry its place only
// after the write reached the image, so any request the guest saw complete
// before it issued another has the lower index: the log order is the order a
// crash has to respect.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace dt {

constexpr uint64_t kLogFlush = 1, kLogFua = 2, kLogDiscard = 4, kLogMark = 8;

struct LogEntry {
  uint64_t index = 0;
  uint64_t sector = 0;      // in log sectors (sector_size bytes)
  uint64_t nr_sectors = 0;  // likewise
  uint64_t flags = 0;
  uint64_t data_offset = 0;  // byte offset of the data in the log
  bool flush() const { return flags & kLogFlush; }
  bool discard() const { return flags & kLogDiscard; }
  bool write() const { return nr_sectors && !discard(); }
};

struct WriteLog {
  uint32_t sector_size = 512;
  uint64_t super_entries = 0;  // the count in the super block (updated at flushes)
  std::vector<LogEntry> entries;
  uint64_t flushes() const;
  uint64_t bytes_written() const;
};

// Reads `len` bytes at `off`; fewer at the end of the log.
using LogReader = std::function<std::string(uint64_t off, size_t len)>;

// Walks the entries. Trusts the super block's count and then goes on while
// headers stay plausible (the count lags behind the last flush). Throws
// SetupError when the super block is not a dm-log-writes one.
WriteLog parse_write_log(const LogReader& read, uint64_t log_bytes, uint64_t device_bytes);
WriteLog read_write_log(const std::filesystem::path& log, uint64_t device_bytes);

// The data of one entry.
std::string entry_data(const std::filesystem::path& log, const WriteLog& wl, const LogEntry& e);

// Writes entries [0, upto) and then the entries `extra` (indices, ascending)
// onto `image`, which must hold the device as it was when logging started.
// A discard zeroes its range (what the disk returns after one is undefined;
// zeroes are one allowed outcome).
void replay_write_log(const std::filesystem::path& log, const WriteLog& wl, uint64_t upto,
                      const std::vector<uint64_t>& extra, const std::filesystem::path& image);

}  // namespace dt
