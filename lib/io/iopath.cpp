#include "lib/io/iopath.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <cstdlib>
#include <filesystem>

#include "lib/sys/owned.hpp"
#include "lib/sys/sys.hpp"

namespace dt {
namespace fs = std::filesystem;

namespace {

constexpr long kCachestatNr = 451;  // x86_64/generic, Linux >= 6.5
constexpr unsigned long kTracefsMagic = 0x74726163;

struct CachestatRange {
  uint64_t off, len;
};
struct Cachestat {
  uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};

// Reads the number after `key` in line (base 16 if it starts with 0x or hex is set).
bool number_after(std::string_view line, std::string_view key, bool hex, uint64_t* out) {
  auto p = line.find(key);
  if (p == std::string_view::npos) return false;
  std::string_view rest = line.substr(p + key.size());
  int base = hex ? 16 : 10;
  if (rest.substr(0, 2) == "0x") {
    rest.remove_prefix(2);
    base = 16;
  }
  auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), *out, base);
  return ec == std::errc() && ptr != rest.data();
}

std::string tracefs_root() {
  for (const char* p : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}) {
    struct statfs sf {};
    if (::statfs(p, &sf) == 0 && static_cast<unsigned long>(sf.f_type) == kTracefsMagic) return p;
  }
  return {};
}

// IOCB_NOWAIT (== RWF_NOWAIT) and the offset of ki_flags in struct kiocb
// (after ki_filp, ki_pos, ki_complete, private) since 5.x.
constexpr uint64_t kIocbNowait = 0x8;
constexpr const char* kDioEntryArgs = " flags=+32($arg1):s32";

// Direct-I/O entry points worth a probe where the running kernel has them.
// The first present of kDioEntries is the proof (iomap_dio_rw_begin is traced
// at the top of __iomap_dio_rw, and iomap_dio_rw calls it); the btrfs ones
// are logged beside it, to show where btrfs turned a write into a buffered one.
const char* const kDioEntries[] = {"__iomap_dio_rw", "iomap_dio_rw"};
const char* const kBtrfsEntries[] = {"btrfs_direct_write", "btrfs_direct_read", "btrfs_dio_read", "btrfs_dio_write",
                                     "btrfs_dio_iomap_begin", "btrfs_buffered_write"};

// Whole-word function names present in /proc/kallsyms out of `wanted`.
std::vector<std::string> kallsyms_present(const std::vector<std::string>& wanted) {
  std::vector<std::string> found;
  std::string text = read_file_or_empty("/proc/kallsyms");
  size_t pos = 0;
  while (pos < text.size() && found.size() < wanted.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + pos, nl - pos);
    pos = nl + 1;
    // "ffffffff81765dd0 T __iomap_dio_rw" or "... t btrfs_direct_write\t[btrfs]"
    size_t s = line.find(' ');
    if (s == std::string_view::npos) continue;
    s = line.find(' ', s + 1);
    if (s == std::string_view::npos) continue;
    std::string_view name = line.substr(s + 1);
    name = name.substr(0, name.find('\t'));
    for (const auto& w : wanted)
      if (name == w && std::find(found.begin(), found.end(), w) == found.end()) found.push_back(w);
  }
  // Keep the order of `wanted`.
  std::vector<std::string> ordered;
  for (const auto& w : wanted)
    if (std::find(found.begin(), found.end(), w) != found.end()) ordered.push_back(w);
  return ordered;
}

// kprobe_events is shared by every tracer on the host: only ever append (a
// truncating write would delete everyone's probes).
bool append_probe_command(const std::string& root, const std::string& cmd, std::string* err) {
  Fd fd(::open((root + "/kprobe_events").c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  if (!fd || ::write(fd.get(), cmd.data(), cmd.size()) < 0) {
    if (err) *err = std::strerror(errno);
    return false;
  }
  return true;
}

void remove_probe_group(const std::string& root, const std::string& group_prefix) {
  std::string text = read_file_or_empty(root + "/kprobe_events");
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + pos, nl - pos);
    pos = nl + 1;
    // "p:diotorture_123_0/__iomap_dio_rw __iomap_dio_rw flags=..."
    if (line.size() < 2 || line[1] != ':') continue;
    std::string_view name = line.substr(2, line.find(' ') - 2);
    if (name.rfind(group_prefix, 0) == 0) append_probe_command(root, fmt::format("-:{}\n", name), nullptr);
  }
}

bool exists(const std::string& p) { return ::access(p.c_str(), F_OK) == 0; }

}  // namespace

namespace {
// Indexed by PathSource, in kPathSources' order.
constexpr const char* kSourceNames[][2] = {
    {"iomap", "by iomap tracepoint"},
    {"kprobe", "by kprobe"},
    {"block", "by block-layer events"},
};
}  // namespace

const char* source_name(PathSource s) { return kSourceNames[static_cast<int>(s)][0]; }
const char* source_label(PathSource s) { return kSourceNames[static_cast<int>(s)][1]; }

std::optional<PathSource> parse_path_source(std::string_view name) {
  for (PathSource s : kPathSources)
    if (name == source_name(s)) return s;
  return std::nullopt;
}

std::optional<PathSource> forced_path_source() {
  const char* v = std::getenv("DIOTORTURE_PATH_EVIDENCE");
  if (!v || !*v) return std::nullopt;
  auto s = parse_path_source(v);
  if (!s)
    throw SetupError(fmt::format("path evidence source '{}' (DIOTORTURE_PATH_EVIDENCE or --path-evidence) is "
                                 "unknown: use iomap, kprobe or block (or leave it unset for the best available)",
                                 v));
  return s;
}

void force_path_source(const std::string& name) {
  ::setenv("DIOTORTURE_PATH_EVIDENCE", name.c_str(), 1);
  forced_path_source();
}

PathCounts parse_trace(std::string_view text, const std::vector<uint64_t>& inodes, const ProbeNames& probes) {
  PathCounts c;
  auto watched = [&](uint64_t ino) {
    return inodes.empty() || std::find(inodes.begin(), inodes.end(), ino) != inodes.end();
  };
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (line.empty() || line[0] == '#') continue;
    // "  comm-123  [001] d..1.  12.345678: BODY": the body starts after the
    // timestamp's ": " (the comm comes before the [cpu], so it cannot confuse this).
    size_t cpu = line.find("] ");
    if (cpu == std::string_view::npos) continue;
    size_t colon = line.find(": ", cpu);
    if (colon == std::string_view::npos) continue;
    std::string_view body = line.substr(colon + 2);
    // Tracepoints and kprobes: "name: ..."; the function tracer: "name <-caller".
    std::string_view name = body.substr(0, std::min(body.find(':'), body.find(' ')));
    uint64_t ino = 0;
    if (name == "iomap_dio_rw_begin") {
      if (!number_after(body, " ino ", true, &ino) || !watched(ino)) continue;
      ++c.dio_begin;
      auto f = body.find(" flags ");
      if (f != std::string_view::npos && body.find("NOWAIT", f) != std::string_view::npos) ++c.dio_nowait;
    } else if (name == "iomap_dio_complete") {
      if (!number_after(body, " ino ", true, &ino) || !watched(ino)) continue;
      ++c.dio_complete;
      // "error -11": from_chars does not take the minus, so look for "error -".
      if (body.find(" error -") != std::string_view::npos) ++c.dio_errors;
    } else if (name == "mm_filemap_add_to_page_cache") {
      if (!number_after(body, " ino ", true, &ino) || !watched(ino)) continue;
      uint64_t order = 0;
      number_after(body, "order=", false, &order);
      c.cache_adds += uint64_t{1} << std::min<uint64_t>(order, 20);
    } else if (name == "writeback_dirty_folio" || name == "writeback_dirty_page") {
      if (!number_after(body, "ino=", false, &ino) || !watched(ino)) continue;
      ++c.dirtied;
    } else if (name == "block_bio_queue") {
      // "block_bio_queue: 7,0 WS 2048 + 256 [comm]": rwbs, then sector + count.
      std::string_view rest = body.substr(name.size() + 2);
      size_t sp = rest.find(' ');
      if (sp == std::string_view::npos) continue;
      rest.remove_prefix(sp + 1);
      std::string_view rwbs = rest.substr(0, rest.find(' '));
      uint64_t sectors = 0;
      if (!number_after(rest, " + ", false, &sectors) || sectors == 0) continue;  // an empty flush
      if (rwbs.find('M') != std::string_view::npos || rwbs.find('D') != std::string_view::npos) continue;
      if (rwbs.find('W') != std::string_view::npos) {
        ++c.write_bios;
        if (c.dirtied == 0) ++c.write_bios_early;
      } else if (rwbs.find('R') != std::string_view::npos && rwbs.find('A') == std::string_view::npos) {
        ++c.read_bios;
      }
    } else if (!name.empty() && std::find(probes.functions.begin(), probes.functions.end(), name) !=
                                    probes.functions.end()) {
      ++c.entries[std::string(name)];
      if (name != probes.dio_entry) continue;
      ++c.dio_begin;
      uint64_t flags = 0;
      if (number_after(body, " flags=", false, &flags) && (flags & kIocbNowait)) ++c.dio_nowait;
    }
  }
  return c;
}

Residency page_cache_residency(int fd, uint64_t off, uint64_t len) {
  Residency r;
  CachestatRange range{off, len};
  Cachestat cs{};
  if (::syscall(kCachestatNr, fd, &range, &cs, 0) == 0) {
    r.available = true;
    r.method = "cachestat";
    r.cached_pages = cs.nr_cache;
    r.dirty_pages = cs.nr_dirty;
    return r;
  }
  // Older kernel: map the range and ask mincore(). Mapping does not fault pages in.
  if (len == 0) return r;
  void* p = ::mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(off));
  if (p == MAP_FAILED) return r;
  std::vector<unsigned char> vec((len + page_size() - 1) / page_size());
  if (::mincore(p, len, vec.data()) == 0) {
    r.available = true;
    r.method = "mincore";
    for (unsigned char v : vec) r.cached_pages += v & 1;
  }
  ::munmap(p, len);
  return r;
}

void judge_path(PathReport* r) {
  const PathCounts& c = r->counts;
  const std::string resid =
      r->residency.available
          ? fmt::format("{} after: {} cached, {} dirty", r->residency.method, r->residency.cached_pages,
                        r->residency.dirty_pages)
          : "page cache residency unknown";
  if (!r->traced) {
    r->evidence.clear();
    const std::string why = r->untraced_reason.empty() ? "tracefs unavailable" : r->untraced_reason;
    if (r->residency.available && r->residency.cached_pages > 0 && r->write) {
      r->verdict = "buffered";
      r->evidence = "by page-cache residency";
      r->detail = fmt::format("pages in the page cache after an O_DIRECT write ({}); no trace: {}", resid, why);
    } else {
      r->verdict = "unproven";
      r->detail = fmt::format("no trace ({}), so the path is not proven ({}); an empty page cache does not "
                              "prove direct I/O: btrfs invalidates after a buffered fallback",
                              why, resid);
    }
    return;
  }
  r->evidence = source_label(r->source);
  // Entry events (iomap, kprobe) tell whether the direct path was entered;
  // the bios and page-cache events of every source tell where the data went.
  // Block evidence alone has no entry events: it judges by the data alone.
  const bool entry_known = r->source != PathSource::Block;
  const bool entered = !entry_known || c.dio_begin > 0;
  std::string entry;
  if (r->source == PathSource::Iomap) {
    entry = fmt::format("dio_rw_begin={} (nowait {}), dio_complete={} (errors {}); ", c.dio_begin, c.dio_nowait,
                        c.dio_complete, c.dio_errors);
  } else if (r->source == PathSource::Kprobe) {
    std::string hits;
    for (const auto& [fn, n] : c.entries) hits += fmt::format("{}{}={}", hits.empty() ? "" : ", ", fn, n);
    entry = fmt::format("dio entries={} (nowait {}; {}); ", c.dio_begin, c.dio_nowait, hits.empty() ? "no hits" : hits);
  }
  const std::string counts = fmt::format(
      "{}data bios from the task: {} read, {} write ({} before the first dirtied page); page-cache adds={}, "
      "dirtied={}; {}",
      entry, c.read_bios, c.write_bios, c.write_bios_early, c.cache_adds, c.dirtied, resid);
  auto set = [&](const char* verdict, const std::string& why) {
    r->verdict = verdict;
    r->detail = why + ": " + counts;
  };
  if (!entered) return set("buffered", "the kernel never entered iomap direct I/O");
  if (r->write) {
    if (c.dirtied == 0) return set("direct", entry_known ? "direct I/O entered, no page of the file dirtied"
                                                         : "no page of the file dirtied");
    if (c.write_bios_early > 0)
      return set("mixed", "data bios went out, then pages were dirtied (a buffered fallback part-way)");
    return set("buffered", entry_known ? "direct I/O entered, but pages were dirtied before any data bio went out "
                                         "(it fell back to buffered)"
                                       : "pages were dirtied before any data bio went out");
  }
  if (c.read_bios > 0) return set("direct", "data read bios (not readahead) went out from the task");
  if (c.cache_adds == 0)
    return set("direct", entry_known ? "direct I/O entered, nothing entered the page cache"
                                     : "nothing entered the page cache");
  set("buffered", entry_known ? "direct I/O entered, but no data read went out and the page cache was filled (it "
                                "was served from the page cache)"
                              : "no data read went out and the page cache was filled");
}

std::string task_filter(const std::vector<pid_t>& tids) {
  std::string f;
  for (pid_t t : tids)
    f += fmt::format("{}common_pid == {} || comm == \"iou-wrk-{}\" || comm == \"iou-sqp-{}\"", f.empty() ? "" : " || ", t, t, t);
  return f.empty() ? "0" : f;
}

std::string ensure_tracefs() {
  // Instances of this run are recorded, so a run killed before it removed
  // them has them removed by the next run or `diotorture clean`.
  static Owned record({"tracefs", PathTracer::run_prefix()});
  forced_path_source();  // every run comes here first: a bad DIOTORTURE_PATH_EVIDENCE stops it before any case
  std::string root = tracefs_root();
  if (!root.empty()) return root;
  // EBUSY: a concurrent run mounted it between our look and our mount.
  if (::mount("nodev", "/sys/kernel/tracing", "tracefs", 0, nullptr) == 0 || errno == EBUSY) return tracefs_root();
  return {};
}

std::string create_trace_instance(const std::string& root, const std::string& suffix, std::string* why) {
  const std::string dir = fmt::format("{}/instances/{}{}", root, PathTracer::instance_prefix(::getpid()), suffix);
  if (::mkdir(dir.c_str(), 0700) == 0) return dir;
  *why = fmt::format("cannot create tracefs instance {}: {}", dir, std::strerror(errno));
  return {};
}

std::string PathTracer::run_prefix() { return fmt::format("diotorture-{}-", owner_token()); }
std::string PathTracer::instance_prefix(pid_t pid) { return fmt::format("{}{}-", run_prefix(), pid); }
std::string PathTracer::probe_group_prefix(pid_t pid) { return fmt::format("diotorture_{}_", pid); }

PathTracer::PathTracer(std::optional<PathSource> force) {
  static std::atomic<unsigned> counter{0};
  root_ = tracefs_root();
  if (root_.empty()) {
    why_ = "tracefs is not mounted";
    return;
  }
  const unsigned n = counter++;
  std::string dir = create_trace_instance(root_, std::to_string(n), &why_);
  if (dir.empty()) return;
  dir_ = dir;
  probe_group_ = fmt::format("{}{}", probe_group_prefix(::getpid()), n);
  std::vector<std::string> missing;
  for (PathSource s : kPathSources) {
    if (force && s != *force) continue;
    std::string why;
    try {
      if (try_source(s, root_, &why)) {
        source_ = s;
        if (!missing.empty()) why_ = "better sources unavailable: " + fmt::format("{}", fmt::join(missing, "; "));
        return;
      }
    } catch (const std::exception& e) {
      why = e.what();
    }
    missing.push_back(fmt::format("{}: {}", source_name(s), why));
    teardown();
    if (::mkdir(dir.c_str(), 0700) != 0) break;
    dir_ = dir;
  }
  teardown();
  why_ = fmt::format("{}no path evidence source available ({})",
                     force ? fmt::format("DIOTORTURE_PATH_EVIDENCE={} and ", source_name(*force)) : "",
                     fmt::join(missing, "; "));
}

// Sets up what every source records, where the data went: the page-cache
// events (by inode) and the data bios the task queued. Throws naming the
// event the kernel lacks.
void PathTracer::enable_data_events() {
  inode_events_.clear();
  task_events_.clear();
  const std::string add = "filemap/mm_filemap_add_to_page_cache";
  if (!exists(dir_ + "/events/" + add)) throw std::runtime_error("no tracepoint " + add);
  inode_events_.push_back(add);
  std::string dirty;
  for (const char* d : {"writeback/writeback_dirty_folio", "writeback/writeback_dirty_page"})
    if (dirty.empty() && exists(dir_ + "/events/" + d)) dirty = d;
  if (dirty.empty()) throw std::runtime_error("no tracepoint writeback/writeback_dirty_folio or _page");
  inode_events_.push_back(dirty);
  if (!exists(dir_ + "/events/block/block_bio_queue")) throw std::runtime_error("no tracepoint block:block_bio_queue");
  task_events_.push_back("block/block_bio_queue");
}

bool PathTracer::try_source(PathSource s, const std::string& root, std::string* why) {
  write_proc(dir_ + "/tracing_on", "0");
  write_proc(dir_ + "/buffer_size_kb", "4096");
  enable_data_events();
  probes_ = {};
  filters_.clear();
  if (s == PathSource::Iomap) {
    if (!exists(dir_ + "/events/iomap/iomap_dio_rw_begin")) {
      *why = "no tracepoint iomap:iomap_dio_rw_begin (added in 6.2)";
      return false;
    }
    inode_events_.push_back("iomap/iomap_dio_rw_begin");
    if (exists(dir_ + "/events/iomap/iomap_dio_complete")) inode_events_.push_back("iomap/iomap_dio_complete");
  } else if (s == PathSource::Kprobe) {
    if (!exists(root + "/kprobe_events")) {
      *why = "no kprobe_events in tracefs (kernel built without CONFIG_KPROBE_EVENTS)";
      return false;
    }
    std::vector<std::string> wanted(std::begin(kDioEntries), std::end(kDioEntries));
    wanted.insert(wanted.end(), std::begin(kBtrfsEntries), std::end(kBtrfsEntries));
    std::vector<std::string> present = kallsyms_present(wanted);
    for (const char* e : kDioEntries)
      if (probes_.dio_entry.empty() && std::find(present.begin(), present.end(), e) != present.end()) probes_.dio_entry = e;
    if (probes_.dio_entry.empty()) {
      *why = "neither __iomap_dio_rw nor iomap_dio_rw in /proc/kallsyms";
      return false;
    }
    std::vector<std::string> fns = {probes_.dio_entry};
    for (const char* b : kBtrfsEntries)
      if (std::find(present.begin(), present.end(), b) != present.end()) fns.push_back(b);
    for (const auto& fn : fns) {
      std::string err;
      const bool entry = fn == probes_.dio_entry;
      const std::string probe = fmt::format("p:{}/{} {}", probe_group_, fn, fn);
      // The NOWAIT flag is only a detail: without $argN support the probe goes in without it.
      if (!(entry && append_probe_command(root, probe + kDioEntryArgs + "\n", &err)) &&
          !append_probe_command(root, probe + "\n", &err)) {
        if (entry) {
          *why = fmt::format("cannot place a kprobe on {}: {}", fn, err);
          return false;
        }
        continue;  // a btrfs entry point that cannot be probed is only missing from the log
      }
      probes_.functions.push_back(fn);
      task_events_.push_back(probe_group_ + "/" + fn);
    }
  }
  for (const auto& ev : inode_events_) write_proc(fmt::format("{}/events/{}/enable", dir_, ev), "1");
  for (const auto& ev : task_events_) {
    set_filter(ev, task_filter({::gettid()}));  // checks that the kernel takes the syntax
    write_proc(fmt::format("{}/events/{}/enable", dir_, ev), "1");
  }
  return true;
}

std::string PathTracer::description() const {
  if (!available()) return "I/O path not traced: " + why_;
  std::string what;
  switch (source_) {
    case PathSource::Iomap: what = "iomap tracepoints, filtered by inode"; break;
    case PathSource::Kprobe:
      what = fmt::format("kprobes on {}, filtered to this process's tasks", fmt::join(probes_.functions, ", "));
      break;
    case PathSource::Block: what = "no direct-I/O entry events"; break;
  }
  return fmt::format("I/O path evidence {}: {}; with block:block_bio_queue from this process's tasks and page-cache "
                     "events filtered by inode{}",
                     source_label(source_), what,
                     why_.empty() ? "" : " (" + why_ + ")");
}

void PathTracer::teardown() {
  if (dir_.empty()) return;
  try {
    write_proc(dir_ + "/tracing_on", "0");
  } catch (const std::exception&) {
  }
  // Removing the instance disables every event in it; only then can our probes go.
  ::rmdir(dir_.c_str());
  dir_.clear();
  if (!probe_group_.empty() && exists(root_ + "/kprobe_events")) remove_probe_group(root_, probe_group_ + "/");
}

PathTracer::~PathTracer() { teardown(); }

// Every filter write costs an RCU grace period (tens of ms under TCG), so a
// filter is written only when it changes: per file, and when threads come and go.
void PathTracer::set_filter(const std::string& event, const std::string& filter) {
  std::string& current = filters_[event];
  if (current == filter) return;
  write_proc(fmt::format("{}/events/{}/filter", dir_, event), filter);
  current = filter;
}

// Reads and consumes what the instance recorded. Consuming trace_pipe instead
// of reading `trace` and clearing it spares the grace period a clear costs.
std::string PathTracer::drain() { return drain_trace_pipe(dir_); }

std::string drain_trace_pipe(const std::string& instance_dir, size_t max_bytes) {
  std::string text;
  Fd fd(::open((instance_dir + "/trace_pipe").c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) throw_errno("open " + instance_dir + "/trace_pipe");
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n > 0) {
      text.append(buf, static_cast<size_t>(n));
      if (text.size() >= max_bytes) return text;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) throw_errno("read " + instance_dir + "/trace_pipe");
    return text;
  }
}

void PathTracer::start(std::initializer_list<int> fds) {
  if (dir_.empty()) return;
  inodes_.clear();
  for (int fd : fds) inodes_.push_back(inode_of(fd));
  for (const auto& ev : inode_events_) {
    const char* field = ev == "filemap/mm_filemap_add_to_page_cache" ? "i_ino" : "ino";
    std::string filter;
    for (uint64_t ino : inodes_) filter += fmt::format("{}{} == {}", filter.empty() ? "" : " || ", field, ino);
    set_filter(ev, filter.empty() ? "0" : filter);
  }
  if (!task_events_.empty()) {
    // Every thread of ours, and the io_uring workers they start during the call.
    std::vector<pid_t> tids;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc/self/task", ec)) tids.push_back(std::stoi(e.path().filename()));
    std::sort(tids.begin(), tids.end());
    const std::string filter = task_filter(tids);
    for (const auto& ev : task_events_) set_filter(ev, filter);
  }
  drain();  // anything left from a window that was not stopped
  write_proc(dir_ + "/tracing_on", "1");
}

void PathTracer::stop(PathReport* r, int fd, uint64_t off, uint64_t len) {
  r->traced = available();
  if (r->traced) {
    write_proc(dir_ + "/tracing_on", "0");
    r->source = source_;
    r->counts = parse_trace(drain(), inodes_, probes_);
  } else {
    r->untraced_reason = why_;
  }
  r->residency = page_cache_residency(fd, off, len);
}

void remove_stale_trace_instances(pid_t pid) {
  remove_trace_instances(PathTracer::instance_prefix(pid));
  const std::string root = tracefs_root();
  if (!root.empty() && exists(root + "/kprobe_events")) remove_probe_group(root, PathTracer::probe_group_prefix(pid));
}

std::vector<std::string> remove_trace_instances(const std::string& prefix) {
  std::vector<std::string> removed;
  std::string root = tracefs_root();
  if (root.empty() || prefix.empty()) return removed;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root + "/instances", ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    // An instance left tracing keeps costing CPU: stop it before removing.
    try {
      write_proc(e.path() / "tracing_on", "0");
    } catch (const std::exception&) {
    }
    if (::rmdir(e.path().c_str()) == 0) removed.push_back(name);
  }
  return removed;
}

}  // namespace dt
