// Description: an io_uring (NOWAIT) or RWF_NOWAIT direct read over several
// extents must return all the bytes it asked for. Seed 000: MariaDB saw short
// reads on btrfs 5.16 when a NOWAIT dio read crossed extents and faulted on a
// buffer page after the first bio was submitted; fixed by ca93e44bfb5f
// ("btrfs: fallback to blocking mode when doing async dio over multiple
// extents"), fstests generic/678. The read buffer is a fresh anonymous
// mapping with only some pages touched, exactly as in the reproducer.
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "lib/btrfs/layout.hpp"
#include "cases/common/check.hpp"
#include "lib/harness/context.hpp"
#include "cases/common/read_matrix.hpp"
#include "lib/io/pattern.hpp"
#include "cases/common/read_methods.hpp"
#include "lib/io/uring.hpp"

namespace dt {
namespace {

void run(Context& ctx) {
  const uint64_t piece = ctx.param_u64("extent-size");
  const unsigned iterations = ctx.iterations(3);
  NowaitReads tally;
  Ring ring(4);
  for (const Variant& v : ctx.variants()) {
    Fd spacer = open_or_throw(v.dir / "spacer", O_RDWR | O_CREAT | O_APPEND);
    for (uint64_t n : ctx.param_sizes("extents")) {
      for (const std::string& mix : ctx.param_list("mixes")) {
        if (mix != "data" && n < 3) continue;  // a hole or prealloc needs data on both sides
        const LayoutSpec spec = LayoutSpec::named(mix, static_cast<unsigned>(n), piece);
        const std::string name = fmt::format("{}/{}-{}x{}", v.name, mix, n, format_size(piece));
        const auto path = v.dir / fmt::format("{}-{}", mix, n);
        { build_layout(path, spec, ctx.seed(), spacer.get()); }
        Fd fd = open_or_throw(path, O_RDONLY | O_DIRECT);
        const auto extents = fiemap(fd.get());
        if (!ctx.report_layout(name, check_layout(spec, extents), extents)) continue;

        const size_t len = spec.file_size();
        AlignedBuffer want(len);
        for (size_t i = 0; i < spec.pieces.size(); ++i) {
          if (spec.pieces[i] == Piece::Data) fill_pattern(want.data() + i * piece, piece, i * piece, ctx.seed());
          else std::memset(want.data() + i * piece, 0, piece);
        }
        nowait_read_matrix(ctx, ring, v.name, name, fd.get(), len, want.data(), len, iterations, &tally);
      }
    }
  }
  report_nowait_reads(ctx, tally);
}

const CaseRegistrar reg({
    .id = "nowait-multi-extent-read",
    .groups = {"auto", "quick", "nowait", "read", "uring"},
    .description = "io_uring/RWF_NOWAIT O_DIRECT read across separate extents, holes and prealloc must not be short",
    .fixed_by = {{"ca93e44bfb5f", "btrfs: fallback to blocking mode when doing async dio over multiple extents"}},
    .fstests = {"generic/678"},
    .needs = {Need::IoUring},
    .params = {param::counts("extents", "2,4,16", "verified separate extents per file", 2, 256),
               param::choices("mixes", "data,hole,prealloc", "data only, or with a hole / prealloc extent in the middle",
                               {"data", "hole", "prealloc"}),
               param::size("extent-size", "4k", "size of each extent", 4096, 1 << 20),
               param::choices("methods", kNowaitReadMethods, "how the read is submitted", split(kNowaitReadMethods, ',')),
               param::choices("touch", "first,alternate", "buffer pages faulted in before the read",
                               split(kTouchPatterns, ','))},
    .timeout_s = 120,
    .fn = run,
});

}  // namespace
}  // namespace dt
