// Description: a checksummed file whose write buffers user space changed
// mid-flight must read back without EIO, with O_DIRECT and buffered, and
// scrub clean. Seed 002 / fstests generic/761: if the checksum is computed
// from one version of the buffer and the device gets another, every later
// read fails its checksum. Kernels with 968f19c5b1b7 ("always fallback to
// buffered write if the inode requires checksum") write such files through
// the page cache, which closes the race; the case says when that happened.
// Kernel-log checksum errors are caught by the runner's log check.
#include <fcntl.h>
#include <unistd.h>

#include "lib/btrfs/copies.hpp"
#include "cases/common/check.hpp"
#include "lib/harness/context.hpp"
#include "lib/io/pattern.hpp"
#include "cases/common/race.hpp"

namespace dt {
namespace {

constexpr uint64_t kChunk = 1 << 20;
constexpr uint64_t kSector = 4096;

// Reads [0, size) in 1 MiB pieces; a failing piece is retried sector by
// sector so that every unreadable 4 KiB block is named. Returns the count.
size_t read_back(Context& ctx, const std::string& what, int fd, uint64_t size) {
  AlignedBuffer buf(kChunk);
  std::vector<uint64_t> bad;
  int first_err = 0;
  for (uint64_t off = 0; off < size; off += kChunk) {
    const uint64_t n = std::min(kChunk, size - off);
    if (::pread(fd, buf.data(), n, static_cast<off_t>(off)) == static_cast<ssize_t>(n)) continue;
    for (uint64_t s = off; s < off + n; s += kSector) {
      ssize_t r = ::pread(fd, buf.data(), kSector, static_cast<off_t>(s));
      if (r == static_cast<ssize_t>(kSector)) continue;
      if (r < 0 && !first_err) first_err = errno;
      bad.push_back(s);
    }
  }
  for (size_t i = 0; i < bad.size() && i < 32; ++i)
    ctx.fail("{}: block at file offset {:#x} cannot be read back ({})", what, bad[i],
             first_err ? errno_name(first_err) : "short read");
  if (bad.size() > 32) ctx.fail("{}: {} more unreadable blocks not listed", what, bad.size() - 32);
  return bad.size();
}

void run(Context& ctx) {
  std::vector<Variant> vs = ctx.variants();
  std::erase_if(vs, [](const Variant& v) { return v.name != "datasum"; });
  if (vs.empty() || !vs[0].checksummed)
    ctx.notrun("no directory with data checksums here (nodatasum mount, or -p variant=nocow); the case tests them");
  CopyReader reader(ctx.work_dir());
  const bool has_copies = reader.min_data_copies() > 1 || reader.data_has_parity();
  ctx.log("data profile {}, checksum {}", reader.data_profile(), reader.devices().csum_type);

  const uint64_t size = ctx.param_u64("file-size");
  const auto path = vs[0].dir / "csum";
  Fd fd = open_or_throw(path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
  prefill(fd.get(), size, ctx.seed());
  report_written_layout(ctx, "csum", fd.get(), 0, size);

  unsigned direct = 0, buffered = 0, total = 0;
  for (unsigned it = 0; it < ctx.iterations(1); ++it) {
    for (const RaceConfig& cfg : race_matrix(ctx)) {
      const std::string when = fmt::format("{}#{}", cfg.name(), it);
      RaceResult r = race_writes(ctx, "datasum write", fd.get(), size, cfg, ctx.seed() + it);
      ++total;
      direct += r.path.verdict == "direct" || r.path.verdict == "mixed";
      buffered += r.path.verdict == "buffered";
      if (::fsync(fd.get()) != 0) ctx.fail("{}: fsync after the writes returned {}", when, errno_name(errno));
      // Evict the (clean) cached pages so both reads come from the devices.
      ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);
      size_t bad = read_back(ctx, when + " O_DIRECT read", fd.get(), size);
      Fd cached = open_or_throw(path, O_RDONLY);
      ::posix_fadvise(cached.get(), 0, 0, POSIX_FADV_DONTNEED);
      bad += read_back(ctx, when + " buffered read", cached.get(), size);
      ::posix_fadvise(cached.get(), 0, 0, POSIX_FADV_DONTNEED);
      ctx.log("{}: {} writes in {:.3f} s, path {}; {} unreadable blocks", when, r.writes, r.seconds, r.path.verdict,
              bad);
      if (has_copies) report_copy_comparison(ctx, when, reader.compare(fd.get(), 0, size));
      ctx.metric("unreadable blocks", static_cast<double>(bad), "blocks");
    }
  }
  fd.reset();
  // Scrub checks the checksums of every copy, which reads may not touch.
  Fd root = open_or_throw(ctx.work_dir(), O_RDONLY | O_DIRECTORY);
  ::syncfs(root.get());
  ScrubTotals scrub = scrub_readonly(root.get(), reader.devices());
  ctx.log("read-only scrub: {}", scrub.summary());
  if (scrub.errors()) ctx.fail("read-only scrub found errors: {}", scrub.summary());
  if (buffered < total && direct == 0)
    ctx.note(fmt::format("the write path of {} of {} configurations is unproven: this kernel offers no path "
                         "evidence (iomap tracepoints, kprobes or block-layer events; the log says which are missing)",
                         total - buffered, total));
  else if (direct == 0)
    ctx.note(fmt::format("all {} configurations' writes to the checksummed file fell back to buffered I/O (kernels "
                         "with 968f19c5b1b7 do this): reads and scrub were checked, but the seed 002 race was not "
                         "exercised",
                         total));
}

const CaseRegistrar reg({
    .id = "csum-mutate",
    .groups = {"auto", "quick", "csum", "mirror", "mutate", "uring"},
    .description = "buffers changed during direct writes to a checksummed file: reads must not EIO, scrub clean",
    .fixed_by = {{"968f19c5b1b7", "btrfs: always fallback to buffered write if the inode requires checksum"}},
    .fstests = {"generic/761"},
    .needs = {Need::IoUring, Need::Datasum},
    .params = race_params("4m"),
    .timeout_s = 300,
    .fn = run,
});

}  // namespace
}  // namespace dt
