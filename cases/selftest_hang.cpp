// Description: harness self-test, expected status HANG. An O_DIRECT read into
// a userfaultfd-registered buffer whose faults nobody serves blocks inside the
// kernel (handle_userfault) for ever; the runner's watchdog must report HANG
// within its timeout, save every task's kernel stack, kill the case and go on.
#include <fcntl.h>
#include <unistd.h>

#include "lib/harness/context.hpp"
#include "lib/io/pattern.hpp"
#include "lib/io/uffd.hpp"

namespace dt {
namespace {

void run(Context& ctx) {
  const size_t len = 64 * 1024;
  const auto path = ctx.work_dir() / "f";
  {
    Fd w = open_or_throw(path, O_RDWR | O_CREAT | O_TRUNC);
    AlignedBuffer b(len);
    fill_pattern(b.data(), len, 0, ctx.seed());
    if (::pwrite(w.get(), b.data(), len, 0) != static_cast<ssize_t>(len)) throw_errno("pwrite");
    ::fsync(w.get());
  }
  Fd fd = open_or_throw(path, O_RDONLY | O_DIRECT);
  UserfaultRegion buf(len);  // never served
  ctx.log("reading {} bytes with O_DIRECT into an unserved userfaultfd buffer: this must block", len);
  ssize_t n = ::pread(fd.get(), buf.data(), len, 0);
  ctx.fail("the read into an unserved userfaultfd buffer returned {} instead of blocking", n);
}

const CaseRegistrar reg({
    .id = "selftest-hang",
    .groups = {"selftest"},
    .description = "Harness self-test (expect HANG): read blocks in handle_userfault; watchdog must fire",
    .needs = {Need::Userfaultfd},
    .timeout_s = 5,
    .fn = run,
});

}  // namespace
}  // namespace dt
