// Which path did the kernel really take? On current kernels btrfs silently
// turns O_DIRECT writes into buffered ones (checksummed files, duplicated
// profiles, misaligned buffers), and invalidates the page cache right after,
// so cachestat() after the write often shows nothing. The evidence comes from
// tracefs, in a private instance, from the best source the running kernel has
// (DIOTORTURE_PATH_EVIDENCE forces one):
//   iomap   iomap:iomap_dio_rw_begin (6.2+), filtered by inode: the direct
//           path was entered;
//   kprobe  kprobe events on the direct-I/O entry points /proc/kallsyms has
//           (__iomap_dio_rw or iomap_dio_rw, plus btrfs' own, logged beside),
//           filtered to this process's tasks and their io_uring workers;
//   block   no entry events: the data movement below alone.
// Every source records where the data went:
//   block:block_bio_queue from those tasks       data bios queued during the call
//   filemap:mm_filemap_add_to_page_cache (inode)  a page entered the page cache
//   writeback:writeback_dirty_folio (inode; writeback_dirty_page before folios)
//                                                 a page was dirtied: a buffered write
// Page-cache residency (cachestat, or mincore) is logged beside the verdict.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dt {

// The evidence sources, best first (the order they are tried in).
enum class PathSource { Iomap, Kprobe, Block };
inline constexpr PathSource kPathSources[] = {PathSource::Iomap, PathSource::Kprobe, PathSource::Block};
const char* source_name(PathSource s);   // "iomap", "kprobe", "block"
const char* source_label(PathSource s);  // "by iomap tracepoint", "by kprobe", ...
std::optional<PathSource> parse_path_source(std::string_view name);
// The source DIOTORTURE_PATH_EVIDENCE forces (a hidden switch, so every source
// can be tested on a kernel that has the better ones); nullopt: best available.
// An unknown name is a SetupError.
std::optional<PathSource> forced_path_source();
// Sets DIOTORTURE_PATH_EVIDENCE for this process and its children (run's
// hidden --path-evidence); SetupError if `name` is not a source.
void force_path_source(const std::string& name);

struct PathCounts {
  uint64_t dio_begin = 0;    // direct path entered: iomap_dio_rw_begin, or hits of the probed dio entry
  uint64_t dio_nowait = 0;   // ... of which carried IOCB_NOWAIT
  uint64_t dio_complete = 0; // iomap_dio_complete events (iomap source only)
  uint64_t dio_errors = 0;   // ... of which returned an error
  uint64_t cache_adds = 0;   // pages added to the page cache
  uint64_t dirtied = 0;      // folios dirtied
  // Block source: data bios (not metadata, not empty flushes) queued by the traced tasks.
  uint64_t read_bios = 0;          // reads, readahead excluded (that is the page cache filling)
  uint64_t write_bios = 0;
  uint64_t write_bios_early = 0;   // writes queued before the first page of the file was dirtied
  std::map<std::string, uint64_t> entries;  // kprobe hits per probed function
};

// What parse_trace needs to know about the probes it reads back.
struct ProbeNames {
  std::string dio_entry;              // the function whose hits are dio_begin
  std::vector<std::string> functions; // every probed function (dio_entry included)
};

// Pure: counts the events in a tracefs `trace` text. Inode-carrying events
// count only for the given inodes; probe and block events are already
// filtered to the traced tasks (task_filter) by the instance.
PathCounts parse_trace(std::string_view text, const std::vector<uint64_t>& inodes, const ProbeNames& probes = {});

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
  PathSource source = PathSource::Iomap;  // meaningful when traced
  std::string untraced_reason;            // why not, when !traced
  PathCounts counts;
  Residency residency;
  std::string verdict;   // "direct", "buffered", "mixed", "unproven"
  std::string evidence;  // "by iomap tracepoint", ...; "" when unproven
  std::string detail;    // human sentence with the numbers

  // "by kprobe; dio entries=1 ...": the evidence and the numbers, for logs.
  std::string explained() const { return evidence.empty() ? detail : evidence + "; " + detail; }
};

// Pure: the verdict for one I/O from its evidence. An I/O that never entered
// the direct path (entry events) is "buffered". Otherwise the data decides, so
// that every source reaches the same verdict: a write that dirtied no page is
// "direct"; one that dirtied pages is "mixed" if data bios went out first,
// else "buffered" (direct I/O faulting on an mmap of the file itself enters,
// does nothing, and falls back). A read is "direct" if it queued data bios
// (not readahead) or put nothing in the page cache (EAGAIN, a hole), else
// "buffered" (it was served from the page cache). Untraced: "unproven", with
// the reason, unless pages are cached after a write.
void judge_path(PathReport* r);

// Where tracefs is mounted, mounting it on /sys/kernel/tracing if needed;
// "" if impossible. A tracefs we mounted is never unmounted again: another
// run on this host may be tracing through it (each run uses only instances
// and probes of its own), and leaving it mounted is harmless. Also validates
// DIOTORTURE_PATH_EVIDENCE (SetupError), before any case starts.
std::string ensure_tracefs();

// A private tracefs instance (and, for the kprobe source, probes of this
// process's own) recording the best available evidence. If no source is
// available, available() is false, unavailable_reason() names what each
// source lacked, and every report is "unproven" rather than a false "direct".
class PathTracer {
 public:
  explicit PathTracer(std::optional<PathSource> force = forced_path_source());
  ~PathTracer();
  PathTracer(const PathTracer&) = delete;
  PathTracer& operator=(const PathTracer&) = delete;

  bool available() const { return !dir_.empty(); }
  PathSource source() const { return source_; }
  const std::string& unavailable_reason() const { return why_; }
  // "kprobes on __iomap_dio_rw, btrfs_direct_write, ..." — what is being recorded.
  std::string description() const;

  // Starts recording for the inodes of these descriptors.
  void start(std::initializer_list<int> fds);
  // Stops, and fills r's counts/traced/source and the residency of fd's [off, off+len).
  void stop(PathReport* r, int fd, uint64_t off, uint64_t len);

  // Name prefix of all instances of this run ("diotorture-<owner token>-"),
  // of one process's, and of its kprobe groups, so the runner can remove a
  // killed child's.
  static std::string run_prefix();
  static std::string instance_prefix(pid_t pid);
  static std::string probe_group_prefix(pid_t pid);

 private:
  bool try_source(PathSource s, const std::string& root, std::string* why);
  void enable_data_events();
  void teardown();
  void set_filter(const std::string& event, const std::string& filter);
  std::string drain();

  std::string dir_;
  std::string root_;
  std::string why_;
  PathSource source_ = PathSource::Iomap;
  std::string probe_group_;  // kprobe source: the group our probes live in
  ProbeNames probes_;
  std::vector<std::string> inode_events_;  // "filemap/mm_filemap_add_to_page_cache", ...
  std::vector<std::string> task_events_;   // "block/block_bio_queue", "<probe group>/__iomap_dio_rw", ...
  std::vector<uint64_t> inodes_;
  std::map<std::string, std::string> filters_;  // event -> the filter written last
};

// Pure: the event filter that keeps only these tasks (thread ids) and the
// io_uring workers they create ("iou-wrk-<tid>", "iou-sqp-<tid>"): workers are
// threads of the process, but made without a fork event, so a pid list alone
// misses the ones created during the call.
std::string task_filter(const std::vector<pid_t>& tids);

// Makes a tracefs instance of this process under tracefs `root`, named
// instance_prefix(getpid()) + suffix (so a killed run's is reclaimed); its
// directory, or "" and *why.
std::string create_trace_instance(const std::string& root, const std::string& suffix, std::string* why);
// Reads and consumes what an instance recorded (its trace_pipe, without
// blocking), at most about max_bytes: a tracer that records faster than it
// is read would otherwise never let the reader see the end.
std::string drain_trace_pipe(const std::string& instance_dir, size_t max_bytes = SIZE_MAX);

// Removes tracefs instances and kprobes left by a (killed) child process.
void remove_stale_trace_instances(pid_t pid);
// Removes the instances whose name starts with `prefix`; returns their names.
std::vector<std::string> remove_trace_instances(const std::string& prefix);

}  // namespace dt
