// Description: harness self-test, expected status FAIL "short read ... 32768
// of 65536". The second half of an O_DIRECT read buffer is PROT_NONE, so the
// kernel really returns a short count inside i_size; check_read(), the check
// the read cases use, must report it and never retry.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cases/common/check.hpp"
#include "lib/harness/context.hpp"
#include "lib/io/pattern.hpp"

namespace dt {
namespace {

void run(Context& ctx) {
  const size_t len = 64 * 1024;
  AlignedBuffer want(len);
  fill_pattern(want.data(), len, 0, ctx.seed());
  for (const Variant& v : ctx.variants()) {
    Fd fd = open_or_throw(v.dir / "f", O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
    if (::pwrite(fd.get(), want.data(), len, 0) != static_cast<ssize_t>(len)) throw_errno("pwrite");
    ::fsync(fd.get());
    report_written_layout(ctx, v.name + "/f", fd.get(), 0, len);
    Mapping buf = Mapping::anonymous(len);
    if (::mprotect(buf.data() + len / 2, len / 2, PROT_NONE) != 0) throw_errno("mprotect");
    int64_t n = traced_pread(ctx, v.name + " read", "pread into half PROT_NONE buffer", fd.get(), buf.data(), len, 0);
    check_read(ctx, v.name + " pread", n, buf.data(), want.data(), len, 0, len);
  }
}

const CaseRegistrar reg({
    .id = "selftest-short-read",
    .groups = {"selftest"},
    .description = "Harness self-test (expect FAIL: short read): buffer tail PROT_NONE makes the kernel stop early",
    .timeout_s = 60,
    .fn = run,
});

}  // namespace
}  // namespace dt
