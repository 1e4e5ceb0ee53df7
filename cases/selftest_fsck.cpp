// Description: harness self-test, expected status FAIL from the filesystem
// check after the case. The case writes a checksummed file, then flips bytes
// of one of its blocks on the device itself (through the loop image), as a
// kernel bug that wrote wrong data would; it reports nothing itself. The
// runner's check after the case (read-only scrub, btrfs check --readonly)
// must find the checksum error, fail the case and save <id>.fsck.
#include <fcntl.h>
#include <unistd.h>

#include "lib/btrfs/copies.hpp"
#include "lib/harness/context.hpp"
#include "lib/io/pattern.hpp"
#include "cases/common/race.hpp"

namespace dt {
namespace {

void run(Context& ctx) {
  CopyReader reader(ctx.work_dir());
  const auto path = ctx.work_dir() / "victim";
  Fd fd = open_or_throw(path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
  prefill(fd.get(), 1 << 20, ctx.seed());
  ::syncfs(fd.get());
  const CopyLocation where = reader.locate(fd.get(), 0x8000).front();
  ctx.log("flipping 64 bytes of block 0x8000 on devid {} physical {:#x}", where.devid, where.physical);
  corrupt_copy(reader.device_path(where.devid), where.physical + 100, 64);
  // The file stays: the check after the case scrubs what is on the device.
}

const CaseRegistrar reg({
    .id = "selftest-fsck",
    .groups = {"selftest-fs"},
    .description = "Harness self-test (expect FAIL: filesystem check): a corrupted data block must fail the case",
    .needs = {Need::Datasum},
    .fs = {.size = 1ull << 30},
    .timeout_s = 30,
    .fn = run,
});

}  // namespace
}  // namespace dt
