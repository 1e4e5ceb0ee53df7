// Description: harness self-test of the copy reader, expected status FAIL
// naming exactly one block on exactly one copy. A NOCOW file is written and
// synced; every copy of every block is read from its device and must hold
// the written bytes (the chunk-tree mapping checked against reality); then
// bytes 17..116 of one copy of one block are flipped on the device itself
// (through the loop image for loop devices) and the comparison mirror-mutate
// uses must report that block, that copy, first differing byte 17 and 100
// differing bytes. On raid5/6 the target is a data block or its P/Q block,
// and the parity check must name it.
#include <fcntl.h>
#include <unistd.h>

#include "lib/btrfs/copies.hpp"
#include "lib/btrfs/fsinfo.hpp"
#include "cases/common/check.hpp"
#include "lib/harness/context.hpp"
#include "lib/io/pattern.hpp"
#include "cases/common/race.hpp"

namespace dt {
namespace {

constexpr uint32_t kFlipAt = 17, kFlipLen = 100;

void run(Context& ctx) {
  CopyReader reader(ctx.work_dir());
  const uint32_t bs = reader.devices().sectorsize;
  const uint64_t size = ctx.param_u64("file-size"), block = ctx.param_u64("block");
  if (block % bs || block >= size) throw SetupError("selftest-copy-corrupt: block must be a sector inside the file");
  Fd fd = open_or_throw(nocow_dir(ctx.work_dir()) / "corrupt", O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
  prefill(fd.get(), size, ctx.seed());
  report_written_layout(ctx, "corrupt", fd.get(), 0, size);
  ::syncfs(fd.get());

  // Every data copy of every block must hold what was written.
  AlignedBuffer want(bs), got(bs);
  unsigned read_copies = 0;
  for (uint64_t off = 0; off < size; off += bs) {
    fill_pattern(want.data(), bs, off, ctx.seed());
    for (const CopyLocation& l : reader.locate(fd.get(), off)) {
      if (l.role == "P" || l.role == "Q") continue;
      reader.read(l.devid, l.physical, {got.bytes(), bs});
      ++read_copies;
      if (std::memcmp(want.data(), got.data(), bs) != 0)
        ctx.fail("copy reader: {} of block {:#x} (devid {} physical {:#x}) does not hold the written bytes", l.role,
                 off, l.devid, l.physical);
    }
  }
  ctx.log("copy reader: {} block copies read from the devices hold the written bytes", read_copies);
  CopyComparison before = reader.compare(fd.get(), 0, size);
  if (!before.mismatches.empty()) {
    report_copy_comparison(ctx, "before corrupting", before);
    return;
  }

  const auto locs = reader.locate(fd.get(), block);
  const std::string target = ctx.param("target");
  const CopyLocation* victim = target == "last" ? &locs.back() : nullptr;
  for (const auto& l : locs)
    if (l.role == target || l.role == "copy " + target) victim = &l;
  if (!victim) {
    std::string roles;
    for (const auto& l : locs) roles += " '" + l.role + "'";
    throw SetupError(fmt::format("selftest-copy-corrupt: target {} is not one of{}", target, roles));
  }
  ctx.log("corrupting {} of block {:#x}: devid {} ({}) physical {:#x}, bytes {}..{}", victim->role, block,
          victim->devid, reader.device_path(victim->devid), victim->physical, kFlipAt, kFlipAt + kFlipLen - 1);
  corrupt_copy(reader.device_path(victim->devid), victim->physical + kFlipAt, kFlipLen);
  report_copy_comparison(ctx, "after corrupting one copy", reader.compare(fd.get(), 0, size));
}

const CaseRegistrar reg({
    .id = "selftest-copy-corrupt",
    .groups = {"selftest-mirror"},
    .description = "Harness self-test (expect FAIL naming one block on one copy): flips bytes of one copy on its device",
    .needs = {Need::DataCopies, Need::Nodatasum},
    .skip_fs_check = true,  // it corrupts a copy on purpose and reports it itself
    .params = {param::size("file-size", "1m", "bytes written", 64 << 10, 64 << 20),
               param::size("block", "0x5000", "file offset of the block to corrupt", 0, 64 << 20),
               param::choice("target", "last", "which copy: 1, 2, ... (mirrors), data, P, Q (raid5/6), or last",
                              {"last", "1", "2", "3", "4", "data", "P", "Q"})},
    .timeout_s = 60,
    .fn = run,
});

}  // namespace
}  // namespace dt
