// Description: an O_DIRECT write whose source buffer faults part-way must not
// leave a hole or zeros behind. Seed 001: a page fault on the source made
// iomap submit a partial bio; btrfs dropped that bio's ordered extent, so the
// written range read back as a hole. Fixed by b73a6fd1b1 ("btrfs: split
// partial dio bios before submit"), fstests generic/708. The source is an
// mmap of another file or of another range of the same file, with its page
// cache dropped, and the fault pattern chooses which source pages are
// pre-faulted and which fault during the write.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <random>

#include "lib/btrfs/layout.hpp"
#include "cases/common/check.hpp"
#include "lib/harness/context.hpp"
#include "lib/io/pattern.hpp"

namespace dt {
namespace {

constexpr const char* kFaults = "none,first,half,alternate,random";

// True if page p of n must fault during the write (not pre-faulted).
bool faults(const std::string& pattern, size_t p, size_t n, std::mt19937_64& rng) {
  if (pattern == "none") return false;
  if (pattern == "first") return p == 0;
  if (pattern == "half") return p >= n / 2;
  if (pattern == "alternate") return p % 2 == 1;
  if (pattern == "random") return rng() % 2 == 0;
  throw SetupError("partial-dio-write: unknown fault pattern '" + pattern + "' (none, first, half, alternate, random)");
}

void run(Context& ctx) {
  const size_t ps = page_size();
  const uint64_t src_seed = ctx.seed() ^ 0x5eed0001;
  for (const Variant& v : ctx.variants()) {
    for (uint64_t size : ctx.param_sizes("sizes")) {
      for (const std::string& source : ctx.param_list("sources")) {
        const bool same = source == "same-file";
        // Same file: the source is [0,size), the write goes to [size, 2*size).
        const uint64_t src_off = 0, dst_off = same ? size : 0;
        AlignedBuffer want(size);
        fill_pattern(want.data(), size, src_off, src_seed);
        for (const std::string& pattern : ctx.param_list("faults")) {
          const std::string name = fmt::format("{}/{}-{}-{}", v.name, source, pattern, format_size(size));
          const auto dst_path = v.dir / "target";
          const auto src_path = same ? dst_path : v.dir / "source";
          std::filesystem::remove(dst_path);
          {
            Fd s = open_or_throw(src_path, O_RDWR | O_CREAT | O_TRUNC);
            if (::pwrite(s.get(), want.data(), size, src_off) != static_cast<ssize_t>(size)) throw_errno("pwrite source");
            if (::fsync(s.get()) != 0) throw_errno("fsync source");
            // Evict the source so that un-touched pages really fault during the write.
            ::posix_fadvise(s.get(), 0, 0, POSIX_FADV_DONTNEED);
          }
          Fd src = open_or_throw(src_path, O_RDONLY);
          Fd dst = open_or_throw(dst_path, O_RDWR | O_CREAT | O_DIRECT);
          Mapping m = Mapping::file(src.get(), size, static_cast<off_t>(src_off), PROT_READ, MAP_SHARED);
          std::mt19937_64 rng(ctx.seed());
          size_t pre = 0;
          volatile char sink = 0;
          for (size_t p = 0; p < size / ps; ++p)
            if (!faults(pattern, p, size / ps, rng)) {
              sink = sink + m.data()[p * ps];
              ++pre;
            }
          Residency before = page_cache_residency(src.get(), src_off, size);
          ctx.log("{}: {} of {} source pages pre-faulted, {} resident before the write", name, pre, size / ps,
                  before.cached_pages);

          PathCounts counts;
          int64_t res = traced_pwrite(ctx, v.name + " write", name, dst.get(), m.data(), size, dst_off, &counts);
          if (counts.dio_begin > 1)
            ctx.log("{}: {} iomap_dio_rw calls: the write was split by faults and resumed", name, counts.dio_begin);
          check_write(ctx, name, res, size, dst_off);
          m = Mapping();

          check_written_range(ctx, name, dst.get(), dst_off, want.data(), size);
        }
      }
    }
  }
}

const CaseRegistrar reg({
    .id = "partial-dio-write",
    .groups = {"auto", "quick", "mmap", "fault", "write"},
    .description = "O_DIRECT write from a faulting mmap source must leave no hole or zeros (partial bios)",
    .fixed_by = {{"b73a6fd1b1ef", "btrfs: split partial dio bios before submit"}},
    .fstests = {"generic/708"},
    .params = {param::sizes("sizes", "1m,4m,8m", "write sizes", 4096, 64 << 20),
               param::choices("sources", "other-file,same-file", "source: mmap of another file, or of another range of the target",
                               {"other-file", "same-file"}),
               param::choices("faults", kFaults, "which source pages fault during the write", split(kFaults, ','))},
    .timeout_s = 180,
    .fn = run,
});

}  // namespace
}  // namespace dt
