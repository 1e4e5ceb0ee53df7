// Description: harness self-test, expected status FAIL "unexpected hole
// [0x40000,0x50000)". A hole is punched into a freshly written range before
// the read-back, as seed 001's bug left one; verify_file_range(), the check
// partial-dio-write uses, must report the hole and the zero-filled bytes.
#include <fcntl.h>
#include <unistd.h>

#include "cases/common/check.hpp"
#include "lib/harness/context.hpp"
#include "lib/io/pattern.hpp"

namespace dt {
namespace {

void run(Context& ctx) {
  const size_t len = 1 << 20;
  const off_t hole_off = 256 << 10, hole_len = 64 << 10;
  AlignedBuffer want(len);
  fill_pattern(want.data(), len, 0, ctx.seed());
  for (const Variant& v : ctx.variants()) {
    Fd fd = open_or_throw(v.dir / "f", O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
    int64_t n = traced_pwrite(ctx, v.name + " write", "pwrite 1M", fd.get(), want.data(), len, 0);
    if (n != static_cast<int64_t>(len))
      throw std::runtime_error(check_transfer("pwrite 1M", n, len, 0, 0, false));
    ::fsync(fd.get());
    if (::fallocate(fd.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, hole_off, hole_len) != 0)
      throw_errno("punch hole");
    check_written_range(ctx, v.name + "/f", fd.get(), 0, want.data(), len);
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
