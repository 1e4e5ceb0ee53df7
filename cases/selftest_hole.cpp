// Description: harness self-test, expected status FAIL "unexpected hole
// [0x40000,0x50000)". A hole is punched into a freshly written range before
// the read-back, as seed 001's bug left one; verify_file_range(), the check
// partial-dio-write uses, must report the hole and the zero-filled bytes.
#include <fcntl.h>
#include <unistd.h>

#include "lib/check.hpp"
#include "lib/context.hpp"
#include "lib/pattern.hpp"

namespace dt {
namespace {

void run(Context& ctx) {
  const size_t len = 1 << 20;
  const off_t hole_off = 256 << 10, hole_len = 64 << 10;
  AlignedBuffer want(len);
  fill_pattern(want.data(), len, 0, ctx.seed());
  for (const Variant& v : ctx.variants()) {
    Fd fd = open_or_throw(v.dir / "f", O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
    PathReport pr{.op = "pwrite 1M", .write = true};
    ctx.trace_start({fd.get()});
    ssize_t n = ::pwrite(fd.get(), want.data(), len, 0);
    ctx.trace_stop(&pr, fd.get(), 0, len);
    ctx.report_path(v.name + " write", pr);
    if (n != static_cast<ssize_t>(len)) throw_errno("pwrite");
    ::fsync(fd.get());
    if (::fallocate(fd.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, hole_off, hole_len) != 0)
      throw_errno("punch hole");
    auto extents = fiemap(fd.get());
    ctx.report_layout(v.name + "/f", describe_written_range(fd.get(), extents, 0, len), extents);
    verify_file_range(ctx, v.name + "/f", fd.get(), 0, want.data(), len);
  }
}

const CaseRegistrar reg({
    .id = "selftest-hole",
    .groups = {"selftest"},
    .description = "Harness self-test (expect FAIL: unexpected hole): a hole punched before the read-back",
    .timeout_s = 60,
    .fn = run,
});

}  // namespace
}  // namespace dt
