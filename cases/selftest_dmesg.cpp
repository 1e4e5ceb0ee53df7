// Description: harness self-test, expected status FAIL from the kernel-log
// check. A "WARNING:" line is written into the kernel log through /dev/kmsg
// while the case runs; the runner must fail the case and save <id>.dmesg.
#include "lib/harness/context.hpp"
#include "lib/run/kmsg.hpp"

namespace dt {
namespace {

void run(Context& ctx) {
  // Tagged with this run, so a run beside it on the host ignores it.
  const std::string line = planted_line("WARNING: selftest-dmesg planted this line; the case must fail");
  write_kernel_log(line);
  ctx.log("wrote to the kernel log: {}", line);
}

const CaseRegistrar reg({
    .id = "selftest-dmesg",
    .groups = {"selftest"},
    .description = "Harness self-test (expect FAIL: kernel log): a planted WARNING line must fail the case",
    .timeout_s = 30,
    .fn = run,
});

}  // namespace
}  // namespace dt
