// Description: every copy of a NOCOW (nodatasum) block must hold the same
// bytes after direct writes whose buffers user space changed mid-flight.
// Seed 002 ("btrfs: allocate bounce pages for direct IO"; bugzilla 99171 for
// md-raid): true zero-copy direct I/O lets each mirror DMA a different version
// of the buffer, so what a reader gets depends on the mirror it picks. Kernels
// with 7c2830f00c3e fall back to buffered writes on redundant profiles,
// which closes the race; the case says so instead of passing silently.
// Nothing in fstests compares the copies: this reads each one from its device.
#include <fcntl.h>
#include <unistd.h>

#include "lib/btrfs/copies.hpp"
#include "lib/btrfs/fsinfo.hpp"
#include "cases/common/check.hpp"
#include "lib/harness/context.hpp"
#include "cases/common/race.hpp"

namespace dt {
namespace {

void run(Context& ctx) {
  CopyReader reader(ctx.work_dir());
  const std::string profile = reader.data_profile();
  ctx.log("data profile {} on {} device(s); copies per block {}{}", profile, reader.devices().devices.size(),
          reader.min_data_copies(), reader.data_has_parity() ? ", with parity" : "");

  const auto dir = nocow_dir(ctx.work_dir());
  const uint64_t size = ctx.param_u64("file-size");
  const auto path = dir / "mirror";
  Fd fd = open_or_throw(path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
  prefill(fd.get(), size, ctx.seed());
  report_written_layout(ctx, "mirror", fd.get(), 0, size);
  if (report_copy_comparison(ctx, "after the synced prefill", reader.compare(fd.get(), 0, size)) != 0) return;

  unsigned direct = 0, buffered = 0, total = 0;
  size_t bad = 0;
  for (unsigned it = 0; it < ctx.iterations(1); ++it) {
    for (const RaceConfig& cfg : race_matrix(ctx)) {
      const std::string when = fmt::format("{}#{}", cfg.name(), it);
      RaceResult r = race_writes(ctx, "nocow write", fd.get(), size, cfg, ctx.seed() + it);
      ctx.log("{}: {} writes in {:.3f} s, {} mutator sweeps, path {}", when, r.writes, r.seconds, r.mutations,
              r.path.verdict);
      ++total;
      direct += r.path.verdict == "direct" || r.path.verdict == "mixed";
      buffered += r.path.verdict == "buffered";
      bad += report_copy_comparison(ctx, when, reader.compare(fd.get(), 0, size));
    }
  }
  if (buffered < total && direct == 0)
    ctx.note(fmt::format("the write path of {} of {} configurations is unproven: this kernel offers no path "
                         "evidence (iomap tracepoints, kprobes or block-layer events; the log says which are missing); "
                         "{} mismatching blocks",
                         total - buffered, total, bad));
  else if (direct == 0)
    ctx.note(fmt::format("all {} configurations' writes fell back to buffered I/O on data profile {} (kernels with "
                         "7c2830f00c3e do this on redundant profiles; measured on 6.18 for dup, raid1*, raid10, raid5 "
                         "and raid6): the copies were compared, but the seed 002 race was not exercised",
                         total, profile));
  else
    ctx.note(fmt::format("{} of {} configurations wrote direct on {}; {} mismatching blocks", direct, total, profile,
                         bad));
}

const CaseRegistrar reg({
    .id = "mirror-mutate",
    .groups = {"auto", "mirror", "raid", "mutate", "uring"},
    .description = "buffers changed during NOCOW direct writes: every RAID copy (and raid5/6 parity) must agree",
    .fixed_by = {{"7c2830f00c3e", "btrfs: fallback to buffered IO if the data profile has duplication"}},
    .needs = {Need::IoUring, Need::DataCopies, Need::Nodatasum},
    .params = race_params("8m"),
    .timeout_s = 300,
    .fn = run,
});

}  // namespace
}  // namespace dt
