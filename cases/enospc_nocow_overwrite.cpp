// Description: on a filesystem with no unallocated space and no free data
// space, an O_DIRECT overwrite that needs no new data space must succeed:
// into a NOCOW file's own extents, or into a preallocated extent. btrfs
// reserved data space for the direct write before it knew the range was
// NOCOW, and failed it with ENOSPC; fixed by f0bfa76a11e9 ("btrfs: fix
// ENOSPC failure when attempting direct IO write into NOCOW range"),
// fstests btrfs/250. Then a large direct write that needs new space must
// fail cleanly (ENOSPC or a short count) without the outstanding-extents
// warning split direct writes used to trigger at ENOSPC (generic/406; the
// kernel-log check catches the WARNING). The filesystem is small (its own,
// 1 GiB) and filled with fallocate until even 4 KiB no longer fits; a
// buffered write of new data must then get ENOSPC, which proves it is full.
// The self-test overwrites a checksummed file's regular (COW) extents on the
// full filesystem: that needs new space, so the kernel really returns ENOSPC,
// and the same check the NOCOW overwrites pass must report it.
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "lib/btrfs/layout.hpp"
#include "cases/common/check.hpp"
#include "lib/harness/context.hpp"
#include "lib/io/pattern.hpp"
#include "cases/common/race.hpp"
#include "lib/io/uring.hpp"

namespace dt {
namespace {

namespace fs = std::filesystem;

// Refuses to fill a filesystem bigger than this: only a small scratch
// filesystem made for the case is filled.
constexpr uint64_t kMaxFill = 2ull << 30;

std::string describe_space(const fs::path& dir) {
  struct statvfs s{};
  if (::statvfs(dir.c_str(), &s) != 0) return "statvfs failed";
  return fmt::format("{} of {} available", format_size(uint64_t{s.f_bavail} * s.f_frsize),
                     format_size(uint64_t{s.f_blocks} * s.f_frsize));
}

// Fills the filesystem with preallocated space, halving the request on each
// ENOSPC down to 4 KiB, then proves it full: a buffered write of new data
// and its fsync must fail with ENOSPC.
void fill(Context& ctx, const fs::path& work) {
  struct statvfs s{};
  if (::statvfs(work.c_str(), &s) != 0) throw_errno("statvfs");
  if (uint64_t{s.f_blocks} * s.f_frsize > kMaxFill)
    ctx.notrun(fmt::format("fills its filesystem, so it needs a small one of its own (at most {}); this one is {}: "
                           "run it with --scratch-size 1G",
                           format_size(kMaxFill), format_size(uint64_t{s.f_blocks} * s.f_frsize)));
  Fd filler = open_or_throw(work / "filler", O_RDWR | O_CREAT | O_TRUNC);
  uint64_t off = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (uint64_t chunk = 256 << 20; chunk >= 4096;) {
      if (::fallocate(filler.get(), 0, static_cast<off_t>(off), static_cast<off_t>(chunk)) == 0) {
        off += chunk;
      } else if (errno == ENOSPC) {
        chunk /= 2;
      } else {
        throw_errno("fallocate filler");
      }
    }
    ::syncfs(filler.get());  // commit, so space held by the transaction is returned and can be taken too
  }
  ctx.log("filled: {} preallocated; {}", format_size(off), describe_space(work));
  AlignedBuffer probe(1 << 20);
  fill_pattern(probe.data(), probe.size(), 0, 7);
  Fd p = open_or_throw(work / "probe", O_RDWR | O_CREAT | O_TRUNC);
  ssize_t n = ::pwrite(p.get(), probe.data(), probe.size(), 0);
  int err = n < 0 ? errno : (::fsync(p.get()) != 0 ? errno : 0);
  if (err != ENOSPC)
    ctx.fail("the filesystem is not full: a 1 MiB buffered write of new data {}", err ? "failed with " + errno_name(err)
                                                                                          : "and its fsync succeeded");
  else
    ctx.log("full: a 1 MiB buffered write of new data fails with ENOSPC");
}

// Overwrites [0, size) of fd in `block` writes; each must be whole (the
// detector: ENOSPC here is the bug). Returns false at the first bad one.
bool overwrite(Context& ctx, const std::string& name, const std::string& key, const std::string& engine, Ring& ring,
               int fd, const char* buf, uint64_t size, uint64_t block, uint64_t base = 0) {
  for (uint64_t off = base; off < base + size; off += block) {
    const std::string what = fmt::format("{} write [{:#x},+{})", name, off, format_size(block));
    const char* src = buf + (off - base);
    int64_t res = off == base ? traced_io(ctx, key, what, true, fd, off, block,
                                          [&] { return engine_pwrite(engine, &ring, fd, src, block, off); })
                              : engine_pwrite(engine, &ring, fd, src, block, off);
    if (!check_write(ctx, what, res, block, off)) return false;
  }
  return true;
}

void run(Context& ctx) {
  const uint64_t size = ctx.param_u64("file-size");
  const auto blocks = ctx.param_sizes("block-sizes");
  const auto engines = ctx.param_list("engines");
  const uint64_t rounds = blocks.size() * engines.size();
  const auto variants = ctx.variants();
  // The files to overwrite are made before the filesystem is filled: NOCOW
  // data in the nocow variant, preallocated extents in the default one.
  // A checksummed file's preallocated range is written in place only once
  // (then it holds checksummed data, and the next overwrite is COW), so each
  // round there gets a range of its own.
  std::vector<std::pair<const Variant*, Fd>> files;
  for (const Variant& v : variants) {
    Fd fd = open_or_throw(v.dir / "target", O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
    const bool nocow = !v.checksummed;
    const uint64_t len = nocow ? size : rounds * size;
    if (nocow) prefill(fd.get(), len, ctx.seed());
    else if (::fallocate(fd.get(), 0, 0, static_cast<off_t>(len)) != 0) throw_errno("fallocate target");
    if (::fsync(fd.get()) != 0) throw_errno("fsync target");
    LayoutSpec spec;
    LayoutSpec::parse(nocow ? "D" : "P", len, &spec);
    const auto extents = fiemap(fd.get());
    ctx.report_layout(v.name + (nocow ? "/nocow extent" : "/prealloc extent"), check_layout(spec, extents), extents);
    files.emplace_back(&v, std::move(fd));
  }
  fill(ctx, ctx.work_dir());
  if (ctx.failures()) return;

  Ring ring(2);
  uint64_t round = 0;
  for (auto& [v, fd] : files) {
    for (uint64_t block : blocks) {
      for (const std::string& engine : engines) {
        const std::string name = fmt::format("{}/{}-{}", v->name, engine, format_size(block));
        const uint64_t base = v->checksummed ? round % rounds * size : 0;
        AlignedBuffer data(size);
        fill_pattern(data.data(), size, base, ctx.seed() + ++round);
        if (overwrite(ctx, name, v->name + " " + engine + " overwrite", engine, ring, fd.get(), data.data(), size,
                      block, base))
          check_written_range(ctx, name, fd.get(), base, data.data(), size);
      }
    }
  }

  // generic/406: a large direct write needing new space, split into many
  // extents, hits ENOSPC part-way; it must fail or come back short, and the
  // kernel log (checked by the runner) must show no outstanding-extents WARNING.
  const uint64_t big = ctx.param_u64("large-write");
  AlignedBuffer data(big);
  fill_pattern(data.data(), big, 0, ctx.seed());
  for (const Variant& v : variants) {
    Fd fd = open_or_throw(v.dir / "large", O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
    int64_t res = traced_io(ctx, v.name + " large write", v.name + " large write at ENOSPC", true, fd.get(), 0, big,
                            [&] { return engine_pwrite("psync", nullptr, fd.get(), data.data(), big, 0); });
    ctx.log("{}: a {} direct write of new data on the full filesystem returned {}", v.name, format_size(big),
            res < 0 ? errno_name(static_cast<int>(-res)) : std::to_string(res));
    if (res < 0 && res != -ENOSPC) ctx.fail("{}: large write at ENOSPC: {} (only ENOSPC or a short count)", v.name,
                                            errno_name(static_cast<int>(-res)));
  }
}

void selftest(Context& ctx) {
  const uint64_t size = 1 << 20;
  Fd fd = open_or_throw(ctx.work_dir() / "cow", O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
  prefill(fd.get(), size, ctx.seed());
  report_written_layout(ctx, "cow extents", fd.get(), 0, size);
  fill(ctx, ctx.work_dir());
  AlignedBuffer data(size);
  fill_pattern(data.data(), size, 0, ctx.seed() + 1);
  int64_t res = traced_pwrite(ctx, "datasum psync overwrite", "checksummed COW overwrite", fd.get(), data.data(), size, 0);
  check_write(ctx, "checksummed COW overwrite", res, size, 0);
}

const KernelCommit kFix{"f0bfa76a11e9", "btrfs: fix ENOSPC failure when attempting direct IO write into NOCOW range"};

const CaseRegistrar reg({
    .id = "enospc-nocow-overwrite",
    .groups = {"auto", "enospc", "write", "prealloc", "uring"},
    .description = "on a full filesystem, O_DIRECT overwrites of NOCOW or preallocated extents succeed; a large write fails cleanly",
    .fixed_by = {kFix},
    .fstests = {"btrfs/250", "generic/406"},
    .needs = {Need::Btrfs, Need::Nodatasum, Need::IoUring},
    .fs = FsSpec{.size = 1ull << 30},
    .params = {param::size("file-size", "4m", "bytes overwritten in each file", 64 << 10, 256 << 20),
               param::sizes("block-sizes", "4k,1m", "bytes per direct write", 4096, 64 << 20),
               param::choices("engines", "psync,uring", "how the direct writes are issued", {"psync", "uring"}),
               param::size("large-write", "64m", "the direct write of new data issued at ENOSPC", 1 << 20, 1ull << 30)},
    .timeout_s = 180,
    .fn = run,
});

const CaseRegistrar selftest_reg({
    .id = "selftest-enospc-nocow-overwrite",
    .groups = {"selftest"},
    .description = "Self-test of enospc-nocow-overwrite (expect FAIL: ENOSPC): a COW overwrite on the full filesystem",
    .fixed_by = {kFix},
    .needs = {Need::Btrfs, Need::Datasum},
    .fs = FsSpec{.size = 1ull << 30},
    .timeout_s = 120,
    .fn = selftest,
});

}  // namespace
}  // namespace dt
