#include "lib/io/iopath.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
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

const char* const kEvents[][2] = {
    {"iomap/iomap_dio_rw_begin", "ino"},
    {"iomap/iomap_dio_complete", "ino"},
    {"filemap/mm_filemap_add_to_page_cache", "i_ino"},
    {"writeback/writeback_dirty_folio", "ino"},
};

}  // namespace

PathCounts parse_trace(std::string_view text, const std::vector<uint64_t>& inodes) {
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
    uint64_t ino = 0;
    if (line.find(" iomap_dio_rw_begin:") != std::string_view::npos) {
      if (!number_after(line, " ino ", true, &ino) || !watched(ino)) continue;
      ++c.dio_begin;
      auto f = line.find(" flags ");
      if (f != std::string_view::npos && line.find("NOWAIT", f) != std::string_view::npos) ++c.dio_nowait;
    } else if (line.find(" iomap_dio_complete:") != std::string_view::npos) {
      if (!number_after(line, " ino ", true, &ino) || !watched(ino)) continue;
      ++c.dio_complete;
      uint64_t err = 0;
      // "error -11": from_chars does not take the minus, so look for "error -".
      if (line.find(" error -") != std::string_view::npos) ++c.dio_errors;
      (void)err;
    } else if (line.find(" mm_filemap_add_to_page_cache:") != std::string_view::npos) {
      if (!number_after(line, " ino ", true, &ino) || !watched(ino)) continue;
      uint64_t order = 0;
      number_after(line, "order=", false, &order);
      c.cache_adds += uint64_t{1} << std::min<uint64_t>(order, 20);
    } else if (line.find(" writeback_dirty_folio:") != std::string_view::npos) {
      if (!number_after(line, "ino=", false, &ino) || !watched(ino)) continue;
      ++c.dirtied;
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
    if (r->residency.available && r->residency.cached_pages > 0 && r->write) {
      r->verdict = "buffered";
      r->detail = fmt::format("pages in the page cache after an O_DIRECT write ({}); tracefs unavailable", resid);
    } else {
      r->verdict = "unproven";
      r->detail = fmt::format("tracefs unavailable, so the path is not proven ({}); an empty page cache does not "
                              "prove direct I/O: btrfs invalidates after a buffered fallback",
                              resid);
    }
    return;
  }
  const std::string counts =
      fmt::format("dio_rw_begin={} (nowait {}), dio_complete={} (errors {}), page-cache adds={}, dirtied={}; {}",
                  c.dio_begin, c.dio_nowait, c.dio_complete, c.dio_errors, c.cache_adds, c.dirtied, resid);
  if (c.dio_begin == 0) {
    r->verdict = "buffered";
    r->detail = "the kernel never entered iomap direct I/O: " + counts;
  } else if (r->write && c.dirtied > 0) {
    r->verdict = "mixed";
    r->detail = fmt::format("direct I/O entered, then {} folios were dirtied (buffered fallback): {}", c.dirtied,
                            counts);
  } else {
    r->verdict = "direct";
    r->detail = counts;
  }
}

std::string ensure_tracefs() {
  // Instances of this run are recorded, so a run killed before it removed
  // them has them removed by the next run or `diotorture clean`.
  static Owned record({"tracefs", PathTracer::run_prefix()});
  std::string root = tracefs_root();
  if (!root.empty()) return root;
  // EBUSY: a concurrent run mounted it between our look and our mount.
  if (::mount("nodev", "/sys/kernel/tracing", "tracefs", 0, nullptr) == 0 || errno == EBUSY) return tracefs_root();
  return {};
}

std::string PathTracer::run_prefix() { return fmt::format("diotorture-{}-", owner_token()); }
std::string PathTracer::instance_prefix(pid_t pid) { return fmt::format("{}{}-", run_prefix(), pid); }

PathTracer::PathTracer() {
  static std::atomic<unsigned> counter{0};
  std::string root = tracefs_root();
  if (root.empty()) {
    why_ = "tracefs is not mounted";
    return;
  }
  std::string dir = fmt::format("{}/instances/{}{}", root, instance_prefix(::getpid()), counter++);
  if (::mkdir(dir.c_str(), 0700) != 0) {
    why_ = fmt::format("cannot create tracefs instance {}: {}", dir, std::strerror(errno));
    return;
  }
  try {
    write_proc(dir + "/tracing_on", "0");
    write_proc(dir + "/buffer_size_kb", "4096");
    for (const auto& ev : kEvents) write_proc(fmt::format("{}/events/{}/enable", dir, ev[0]), "1");
    dir_ = dir;
  } catch (const std::exception& e) {
    why_ = fmt::format("tracefs event unavailable: {}", e.what());
    ::rmdir(dir.c_str());
  }
}

PathTracer::~PathTracer() {
  if (!dir_.empty()) ::rmdir(dir_.c_str());
}

void PathTracer::start(const std::vector<uint64_t>& inodes) {
  if (dir_.empty()) return;
  inodes_ = inodes;
  for (const auto& ev : kEvents) {
    std::string filter;
    for (uint64_t ino : inodes) filter += fmt::format("{}{} == {}", filter.empty() ? "" : " || ", ev[1], ino);
    write_proc(fmt::format("{}/events/{}/filter", dir_, ev[0]), filter.empty() ? "0" : filter);
  }
  write_proc(dir_ + "/trace", "");
  write_proc(dir_ + "/tracing_on", "1");
}

PathCounts PathTracer::stop() {
  if (dir_.empty()) return {};
  write_proc(dir_ + "/tracing_on", "0");
  return parse_trace(read_file(dir_ + "/trace"), inodes_);
}

void remove_stale_trace_instances(pid_t pid) { remove_trace_instances(PathTracer::instance_prefix(pid)); }

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
