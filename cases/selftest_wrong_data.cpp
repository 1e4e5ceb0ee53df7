// Description: harness self-test, expected status FAIL naming offset
// bad-page * 4096. An O_DIRECT write takes its source from a userfaultfd
// buffer whose fault for one page is served with the wrong pattern, so the
// kernel really stores wrong bytes there; verify_file_range(), the check the
// write cases use, must report exactly that range.
#include <fcntl.h>
#include <unistd.h>

#include "cases/common/check.hpp"
#include "lib/harness/context.hpp"
#include "lib/io/pattern.hpp"
#include "lib/io/uffd.hpp"

namespace dt {
namespace {

void run(Context& ctx) {
  const size_t ps = page_size();
  const uint64_t pages = ctx.param_u64("pages"), bad = ctx.param_u64("bad-page");
  if (bad >= pages) throw SetupError("selftest-wrong-data: bad-page must be below pages");
  const size_t len = pages * ps;
  AlignedBuffer want(len);
  fill_pattern(want.data(), len, 0, ctx.seed());
  UserfaultRegion src(len);
  src.serve([&](size_t page, char* out) {
    fill_pattern(out, ps, page * ps, page == bad ? ctx.seed() + 1 : ctx.seed());
  });
  for (const Variant& v : ctx.variants()) {
    Fd fd = open_or_throw(v.dir / "f", O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
    int64_t n = traced_pwrite(ctx, v.name + " write", "pwrite from uffd buffer", fd.get(), src.data(), len, 0);
    check_write(ctx, "pwrite", n, len, 0);
    check_written_range(ctx, v.name + "/f", fd.get(), 0, want.data(), len);
  }
}

const CaseRegistrar reg({
    .id = "selftest-wrong-data",
    .groups = {"selftest"},
    .description = "Harness self-test (expect FAIL at bad-page*4K): one source page served wrong via userfaultfd",
    .needs = {Need::Userfaultfd},
    .params = {param::count("pages", "64", "pages written", 1, 4096), param::count("bad-page", "3", "the page whose fault is served with wrong data", 0, 4095)},
    .timeout_s = 60,
    .fn = run,
});

}  // namespace
}  // namespace dt
