// Description: harness self-test, expected status PASS. The case declares a
// filesystem of its own (CaseInfo::fs: xxhash checksums, compress-force,
// a 1 GiB device) and checks that it really runs on one made that way: the
// checksum type from BTRFS_IOC_FS_INFO, the mount options from mountinfo and
// the device size. On a --test-dir run it must be "not run", saying why.
#include <fcntl.h>

#include "lib/btrfs/copies.hpp"
#include "lib/btrfs/fsinfo.hpp"
#include "lib/harness/context.hpp"

namespace dt {
namespace {

void run(Context& ctx) {
  Fd root = open_or_throw(ctx.work_dir(), O_RDONLY | O_DIRECTORY);
  const BtrfsFsDevices devs = btrfs_devices(root.get());
  ctx.log("checksum {}, {} device(s)", devs.csum_type, devs.devices.size());
  if (devs.csum_type.rfind("xxhash", 0) != 0)
    ctx.fail("declared mkfs --csum xxhash, but the filesystem uses {}", devs.csum_type);
  const MountInfo mi = mount_info_for(ctx.work_dir());
  if (!mi.has_option("compress-force")) ctx.fail("declared -o compress-force=zstd, mounted with {}", mi.super_options);
  for (const auto& d : devs.devices)
    if (d.total_bytes != 1ull << 30) ctx.fail("declared 1G devices, devid {} has {} bytes", d.devid, d.total_bytes);
}

const CaseRegistrar reg({
    .id = "selftest-own-fs",
    .groups = {"selftest-fs"},
    .description = "Harness self-test (expect PASS): a case that declares its own filesystem gets one made that way",
    .needs = {Need::Btrfs},
    .fs = {.mkfs_args = {"--csum", "xxhash"}, .mount_options = "compress-force=zstd", .size = 1ull << 30},
    .timeout_s = 30,
    .fn = run,
});

}  // namespace
}  // namespace dt
