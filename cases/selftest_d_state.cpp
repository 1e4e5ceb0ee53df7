// Description: harness self-test, expected status HANG with a task still in
// D state after SIGKILL. The case freezes its own filesystem (FIFREEZE) and
// then writes: the writer sleeps uninterruptibly in sb_start_write, where
// SIGKILL cannot reach it, like a task stuck on a kernel bug. The runner must
// say so, not wait for it, and go on with a fresh scratch filesystem. A
// helper outside the case's process group thaws the filesystem once the
// watchdog has given up, so the stuck task then dies and nothing is left.
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/harness/context.hpp"

namespace dt {
namespace {

void run(Context& ctx) {
  Fd dir = open_or_throw(ctx.work_dir(), O_RDONLY | O_DIRECTORY);
  Fd file = open_or_throw(ctx.work_dir() / "f", O_WRONLY | O_CREAT | O_TRUNC);
  // Past the watchdog's timeout and its 2 s look after SIGKILL.
  const unsigned thaw_after = ctx.timeout_s() + 8;
  pid_t helper = ::fork();
  if (helper < 0) throw_errno("fork");
  if (helper == 0) {
    ::setsid();  // not in the case's process group: the watchdog's SIGKILL spares it
    ::sleep(thaw_after);
    ::ioctl(dir.get(), FITHAW, 0);
    ::_exit(0);
  }
  if (::ioctl(dir.get(), FIFREEZE, 0) != 0) {
    int err = errno;
    ::kill(helper, SIGKILL);
    if (err == EOPNOTSUPP || err == ENOTTY) ctx.notrun("this filesystem cannot be frozen (FIFREEZE)");
    throw_errno("FIFREEZE", err);
  }
  ctx.log("filesystem frozen; writing must block in D state; helper {} thaws it in {} s", helper, thaw_after);
  ssize_t n = ::write(file.get(), "x", 1);
  ctx.fail("write on a frozen filesystem returned {} instead of blocking", n);
}

const CaseRegistrar reg({
    .id = "selftest-d-state",
    .groups = {"selftest"},
    .description = "Harness self-test (expect HANG, D state): write on a frozen fs; run must continue on a fresh fs",
    .timeout_s = 5,
    .fn = run,
});

}  // namespace
}  // namespace dt
