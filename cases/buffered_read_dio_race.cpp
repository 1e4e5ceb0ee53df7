// Description: buffered reads and readahead racing O_DIRECT writes of nearby
// blocks must never leave stale data in the page cache: once a direct write
// has returned, a buffered read of that block sees it. generic/418
// (src/dio-invalidate-cache.c): threads each write their block with O_DIRECT
// and read it back buffered while the others' buffered reads read ahead over
// it. In 6.12/6.13 btrfs let readahead run without the extent lock held for
// the whole read (ac325fc2aad5) and a readahead racing a direct write cached
// the old data after the write had invalidated the range: fixed by
// acc18e1c1d8c ("btrfs: fix stale page cache after race between readahead and
// direct IO write"). When the invalidation itself fails, iomap prints "Page
// cache invalidation failure on direct I/O" and, since 60263d5889e6 ("iomap:
// fall back to buffered writes for invalidation failures"), falls back to a
// buffered write instead of leaving stale pages; that line fails the case
// through the runner's kernel-log scan, and fsync must return 0.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>

#include "cases/common/check.hpp"
#include "lib/harness/context.hpp"
#include "lib/io/pattern.hpp"
#include "lib/io/uring.hpp"

namespace dt {
namespace {

// The verdict on one buffered read of a block just written with O_DIRECT:
// "" if it shows the new data, else what it shows (the previous round's data
// means the page cache kept stale pages). Shared with the self-test below.
std::string judge_view(const char* got, const char* want, const char* previous, uint64_t len, uint64_t off) {
  if (std::memcmp(got, want, len) == 0) return {};
  if (previous && std::memcmp(got, previous, len) == 0)
    return fmt::format("stale page cache: a buffered read of [{}, +{}) after the O_DIRECT write returned the data "
                       "that was there before the write",
                       off, len);
  uint64_t total = 0;
  return "buffered read after the O_DIRECT write: " + describe_bad_ranges(diff_ranges(got, want, len, off, 8, &total), total);
}

struct Shared {
  std::mutex mu;
  std::vector<std::string> problems;  // reported after the join: Context is not thread-safe
  std::atomic<uint64_t> writes{0}, reads{0}, stale{0};
  std::atomic<bool> failed{false};
  void problem(std::string s) {
    failed = true;
    std::lock_guard<std::mutex> g(mu);
    if (problems.size() < 16) problems.push_back(std::move(s));
  }
};

void run(Context& ctx) {
  const uint64_t bs = ctx.param_u64("block-size");
  const unsigned threads = static_cast<unsigned>(ctx.param_u64("threads"));
  const unsigned rounds = ctx.iterations(50);
  const uint64_t blocks = threads * 4;
  const uint64_t file_size = blocks * bs;
  for (const Variant& v : ctx.variants()) {
    for (const std::string& engine : ctx.param_list("engines")) {
      const std::string name = fmt::format("{}/{}-{}x{}-t{}", v.name, engine, blocks, format_size(bs), threads);
      const auto path = v.dir / "raced";
      std::filesystem::remove(path);
      Fd dfd = open_or_throw(path, O_RDWR | O_CREAT | O_DIRECT);
      Fd bfd = open_or_throw(path, O_RDWR);
      {
        AlignedBuffer init(file_size);
        fill_pattern(init.data(), file_size, 0, ctx.seed());
        if (::pwrite(dfd.get(), init.data(), file_size, 0) != static_cast<ssize_t>(file_size)) throw_errno("pwrite");
        if (::fsync(dfd.get()) != 0) throw_errno("fsync");
      }
      Shared sh;
      std::atomic<bool> stop{false};
      // Readahead over the whole file, all the time.
      std::thread ra([&] {
        std::vector<char> sink(file_size);
        while (!stop.load(std::memory_order_relaxed)) {
          ::posix_fadvise(bfd.get(), 0, 0, POSIX_FADV_DONTNEED);
          ::readahead(bfd.get(), 0, file_size);
          (void)!::pread(bfd.get(), sink.data(), file_size, 0);
        }
      });
      PathReport pr{.op = name, .write = true};
      ctx.trace_start({dfd.get()});
      std::vector<std::thread> workers;
      for (unsigned t = 0; t < threads; ++t)
        workers.emplace_back([&, t] {
          std::unique_ptr<Ring> ring = engine == "io_uring" ? std::make_unique<Ring>(2) : nullptr;
          AlignedBuffer want(bs), prev(bs), got(bs);
          for (unsigned r = 1; r <= rounds && !sh.failed; ++r) {
            for (uint64_t b = t; b < blocks; b += threads) {
              const uint64_t off = b * bs;
              fill_pattern(prev.data(), bs, off, ctx.seed() + r - 1);
              fill_pattern(want.data(), bs, off, ctx.seed() + r);
              int64_t res;
              if (ring) {
                res = ring->run_one([&](io_uring_sqe* s) { io_uring_prep_write(s, dfd.get(), want.data(), bs, off); });
              } else {
                ssize_t n = ::pwrite(dfd.get(), want.data(), bs, static_cast<off_t>(off));
                res = n < 0 ? -errno : n;
              }
              ++sh.writes;
              if (res != static_cast<int64_t>(bs)) {
                sh.problem(check_transfer("O_DIRECT write", res, bs, off, UINT64_MAX, false));
                return;
              }
              ssize_t n = ::pread(bfd.get(), got.data(), bs, static_cast<off_t>(off));
              ++sh.reads;
              if (n != static_cast<ssize_t>(bs)) {
                sh.problem(check_transfer("buffered read", n < 0 ? -errno : n, bs, off, file_size, true));
                return;
              }
              if (std::string p = judge_view(got.data(), want.data(), prev.data(), bs, off); !p.empty()) {
                ++sh.stale;
                sh.problem(fmt::format("round {}: {}", r, p));
              }
            }
          }
        });
      for (auto& w : workers) w.join();
      stop = true;
      ra.join();
      ctx.trace_stop(&pr, dfd.get(), 0, file_size);
      ctx.report_path(v.name + " write", pr);
      for (const auto& p : sh.problems) ctx.fail("{}: {}", name, p);
      ctx.log("{}: {} direct writes, {} buffered reads racing readahead; {} stale views", name, sh.writes.load(),
              sh.reads.load(), sh.stale.load());
      judge_path(&pr);
      if (!pr.traced)  // page-cache residency proves nothing here: the racing readers fill the cache
        ctx.log("{}: without tracefs the path verdict rests on page-cache residency, which the readers themselves "
                "cause: take it as unproven",
                name);
      else if (pr.verdict == "buffered")
        ctx.note(name + ": the writes fell back to buffered I/O: no direct write raced the readahead");
      if (::fsync(bfd.get()) != 0) ctx.fail("{}: fsync after the race returned {}", name, errno_name(errno));
      report_written_layout(ctx, name, dfd.get(), 0, file_size);
    }
  }
}

const CaseRegistrar reg({
    .id = "buffered-read-dio-race",
    .groups = {"auto", "read", "write", "race", "uring", "pagecache"},
    .description = "buffered reads + readahead racing O_DIRECT writes: a read after the write sees it (generic/418)",
    .fixed_by = {{"acc18e1c1d8c", "btrfs: fix stale page cache after race between readahead and direct IO write"},
                 {"60263d5889e6", "iomap: fall back to buffered writes for invalidation failures"}},
    .regressed_by = {{"ac325fc2aad5", "btrfs: do not hold the extent lock for entire read"}},
    .fstests = {"generic/418"},
    .needs = {Need::IoUring},
    .params = {param::choices("engines", "psync,io_uring", "how the direct writes are issued", {"psync", "io_uring"}),
               param::size("block-size", "4k", "block each thread writes and reads back", 4096, 1 << 20),
               param::count("threads", "4", "writer/reader threads (each owns every n-th block)", 1, 64)},
    .timeout_s = 180,
    .fn = run,
});

// The detector fed the bad outcome: a buffered read that returned the data
// from before an O_DIRECT write must be reported as stale page cache. The
// "stale" view is a real read of the block taken before the write.
void selftest(Context& ctx) {
  const uint64_t bs = 4096;
  for (const Variant& v : ctx.variants()) {
    Fd dfd = open_or_throw(v.dir / "stale", O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
    Fd bfd = open_or_throw(v.dir / "stale", O_RDONLY);
    AlignedBuffer before(bs), after(bs), seen(bs);
    fill_pattern(before.data(), bs, 0, ctx.seed());
    fill_pattern(after.data(), bs, 0, ctx.seed() + 1);
    if (::pwrite(dfd.get(), before.data(), bs, 0) != static_cast<ssize_t>(bs)) throw_errno("pwrite");
    if (::pread(bfd.get(), seen.data(), bs, 0) != static_cast<ssize_t>(bs)) throw_errno("pread");  // cached now
    if (::pwrite(dfd.get(), after.data(), bs, 0) != static_cast<ssize_t>(bs)) throw_errno("pwrite");
    ctx.log("{}: feeding the detector the view read before the O_DIRECT write", v.name);
    if (std::string p = judge_view(seen.data(), after.data(), before.data(), bs, 0); !p.empty())
      ctx.fail("{}: {}", v.name, p);
  }
}

const CaseRegistrar self_reg({
    .id = "selftest-stale-page-cache",
    .groups = {"selftest"},
    .description = "Harness self-test (expect FAIL: stale page cache): buffered-read-dio-race's detector fed an old view",
    .timeout_s = 30,
    .fn = selftest,
});

}  // namespace
}  // namespace dt
