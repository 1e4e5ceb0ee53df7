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
#include "lib/harness/check.hpp"
#include "lib/harness/context.hpp"
#include "lib/io/pattern.hpp"
#include "lib/io/read_methods.hpp"
#include "lib/io/uring.hpp"

namespace dt {
namespace {

void run(Context& ctx) {
  const uint64_t piece = ctx.param_u64("extent-size");
  const unsigned iterations = ctx.iterations(3);
  uint64_t eagain = 0, reads = 0;
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
        for (const std::string& method : ctx.param_list("methods")) {
          bool unsupported = false;
          for (const std::string& how : ctx.param_list("touch")) {
            for (unsigned it = 0; it < iterations && !unsupported; ++it) {
              Mapping buf = Mapping::anonymous(len);
              touch_pages(buf, how, ctx.seed() + it);
              const std::string what = fmt::format("{} {} touch={} #{}", name, method, how, it);
              PathReport pr{.op = method + " " + format_size(len)};
              ctx.trace_start({fd.get()});
              int64_t res = read_by_method(method, ring, fd.get(), buf.data(), len, 0);
              ctx.trace_stop(&pr, fd.get(), 0, len);
              ++reads;
              if (res < 0 && skip_if_unsupported(ctx, fmt::format("{} on {}", method, v.name), static_cast<int>(-res))) {
                unsupported = true;
                break;
              }
              if (res == -EAGAIN && may_eagain(method)) {
                // Legal: the kernel may refuse a NOWAIT read it cannot do without blocking
                // (ca93e44 makes multi-extent NOWAIT reads do exactly that).
                ++eagain;
                ctx.report_path(v.name + " read", pr);
                continue;
              }
              check_read(ctx, what, res, buf.data(), want.data(), len, 0, len);
              ctx.report_path(v.name + " read", pr);
            }
          }
        }
      }
    }
  }
  ctx.log("{} reads; preadv2(RWF_NOWAIT) returned EAGAIN {} times (legal, reported, not retried)", reads, eagain);
  ctx.metric("nowait_eagain", static_cast<double>(eagain), "reads");
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
