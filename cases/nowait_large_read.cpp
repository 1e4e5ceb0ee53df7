// Description: a NOWAIT O_DIRECT read larger than a page, of a single
// extent, into a buffer whose pages after the first are not faulted in, must
// return every byte (io_uring) or EAGAIN (preadv2 RWF_NOWAIT), never a short
// count. After ee5b46a353af let btrfs direct reads return partial results,
// the read submitted a bio for page 0, hit the fault on page 1 with page
// faults disabled and, being NOWAIT, returned the partial bio's count to
// io_uring as the result. Fixed by 79d3d1d12e6f ("btrfs: don't allow large
// NOWAIT direct reads"), which answers EAGAIN so io_uring retries from a
// worker. Reproducer: btrfs/linux#573, liburing test/file-verify.c.
#include <fcntl.h>
#include <unistd.h>

#include "lib/btrfs/layout.hpp"
#include "cases/common/check.hpp"
#include "lib/harness/context.hpp"
#include "cases/common/read_matrix.hpp"
#include "lib/io/pattern.hpp"
#include "cases/common/read_methods.hpp"

namespace dt {
namespace {

void run(Context& ctx) {
  const unsigned iterations = ctx.iterations(1);
  NowaitReads tally;
  Ring ring(4);
  for (const Variant& v : ctx.variants()) {
    Fd spacer = open_or_throw(v.dir / "spacer", O_RDWR | O_CREAT | O_APPEND);
    for (uint64_t size : ctx.param_sizes("sizes")) {
      // One data extent of `size`: the read crosses no extent boundary, so only
      // the buffer fault can cut it short.
      LayoutSpec spec;
      spec.pieces = {Piece::Data};
      spec.piece_size = size;
      const std::string name = fmt::format("{}/extent-{}", v.name, format_size(size));
      const auto path = v.dir / fmt::format("one-extent-{}", size);
      { build_layout(path, spec, ctx.seed(), spacer.get()); }
      Fd fd = open_or_throw(path, O_RDONLY | O_DIRECT);
      const auto extents = fiemap(fd.get());
      if (!ctx.report_layout(name, check_layout(spec, extents), extents)) continue;
      AlignedBuffer want(size);
      fill_pattern(want.data(), size, 0, ctx.seed());

      nowait_read_matrix(ctx, ring, v.name, name, fd.get(), size, want.data(), size, iterations, &tally);
    }
  }
  report_nowait_reads(ctx, tally);
  if (tally.reads && tally.eagain == tally.reads)
    ctx.note("every read was a preadv2(RWF_NOWAIT) answered with EAGAIN: no partial NOWAIT read was exercised");
}

const CaseRegistrar reg({
    .id = "nowait-large-read",
    .groups = {"auto", "quick", "nowait", "read", "uring", "fault"},
    .description = "NOWAIT O_DIRECT read of one extent, > 1 page, buffer faulting after page 0: full length or EAGAIN",
    .fixed_by = {{"79d3d1d12e6f", "btrfs: don't allow large NOWAIT direct reads"}},
    .regressed_by = {{"ee5b46a353af", "(subject not confirmed: the change that let direct reads exceed one page)"}},
    .needs = {Need::IoUring},
    .params = {param::sizes("sizes", "64k,256k,1m", "read size (one extent of that size)", 8192, 64 << 20),
               param::choices("methods", "readv,read,readv-async,preadv2-nowait", "how the read is submitted",
                               split(kNowaitReadMethods, ',')),
               param::choices("touch", "first,none", "buffer pages faulted in before the read",
                               split(kTouchPatterns, ','))},
    .timeout_s = 120,
    .fn = run,
});

}  // namespace
}  // namespace dt
