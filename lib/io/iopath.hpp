// Which path did the kernel really take? On current kernels btrfs silently
// turns O_DIRECT writes into buffered ones (checksummed files, duplicated
// profiles, misaligned buffers), and invalidates the page cache right after,
// so cachestat() after the write often shows nothing. The authoritative
// evidence is tracefs, filtered by inode:
//   iomap:iomap_dio_rw_begin            the direct path was entered
//   writeback:writeback_dirty_folio     a page was dirtied: a buffered write
//   filemap:mm_filemap_add_to_page_cache a page entered the page cache
// Page-cache residency (cachestat, or mincore) is recorded as supporting evidence.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dt {

struct PathCounts {
  uint64_t dio_begin = 0;    // iomap_dio_rw_begin events
  uint64_t dio_nowait = 0;   // ... of which carried IOCB_NOWAIT
  uint64_t dio_complete = 0; // iomap_dio_complete events
  uint64_t dio_errors = 0;   // ... of which returned an error
  uint64_t cache_adds = 0;   // pages added to the page cache
  uint64_t dirtied = 0;      // folios dirtied
};

// Pure: counts the events in a tracefs `trace` text for the given inodes.
PathCounts parse_trace(std::string_view text, const std::vector<uint64_t>& inodes);

struct Residency {
  bool available = false;
  std::string method;  // "cachestat" or "mincore"
  uint64_t cached_pages = 0;
  uint64_t dirty_pages = 0;
};
Residency page_cache_residency(int fd, uint64_t off, uint64_t len);

struct PathReport {
  std::string op;        // "io_uring readv 16K", ...
  bool write = false;
  bool traced = false;
  PathCounts counts;
  Residency residency;
  std::string verdict;   // "direct", "buffered", "mixed", "unproven"
  std::string detail;    // human sentence with the numbers
};

// Pure: the verdict for one I/O from its evidence. For writes, dirtied pages
// mean a buffered (fallback) write. For reads the direct path is proven by
// iomap_dio_rw_begin; page-cache adds are reported but expected when the
// buffer is an mmap of the file itself.
void judge_path(PathReport* r);

// Where tracefs is mounted, mounting it on /sys/kernel/tracing if needed;
// "" if impossible. A tracefs we mounted is never unmounted again: another
// run on this host may be tracing through it (each run uses only instances
// of its own), and leaving it mounted is harmless.
std::string ensure_tracefs();

// A private tracefs instance with the three event families enabled and
// filtered to the watched inodes. If tracefs is unavailable, available() is
// false and every report is "unproven" rather than a false "direct".
class PathTracer {
 public:
  PathTracer();
  ~PathTracer();
  PathTracer(const PathTracer&) = delete;
  PathTracer& operator=(const PathTracer&) = delete;

  bool available() const { return !dir_.empty(); }
  const std::string& unavailable_reason() const { return why_; }

  void start(const std::vector<uint64_t>& inodes);
  PathCounts stop();

  // Name prefix of all instances of this run ("diotorture-<owner token>-"),
  // and of one process's, so the runner can remove a killed child's.
  static std::string run_prefix();
  static std::string instance_prefix(pid_t pid);

 private:
  std::string dir_;
  std::string why_;
  std::vector<uint64_t> inodes_;
};

// Removes tracefs instances left by a (killed) child process.
void remove_stale_trace_instances(pid_t pid);
// Removes the instances whose name starts with `prefix`; returns their names.
std::vector<std::string> remove_trace_instances(const std::string& prefix);

}  // namespace dt
