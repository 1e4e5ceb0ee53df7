// Description: stat(2) must never report st_blocks 0 for a file with data
// while the file is being overwritten with direct writes. btrfs dropped the
// old extent's bytes from the inode before adding the new ones, so a stat in
// between saw 0 blocks (tar and rsync then treat the file as sparse); fixed
// by 2766ff61762c ("btrfs: update the number of bytes used by an inode
// atomically"), fstests generic/615. A file of the given size is overwritten
// whole, again and again (pwrite or io_uring, an fdatasync every few rounds
// so that ordered extents complete), while another thread stats it
// continuously. The race needs the overwrite to replace extents: a NOCOW
// file is overwritten in place, and its run says so.
// The self-test feeds the same sampler a sparse file, whose st_blocks is
// really 0 at a non-zero size.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "lib/btrfs/layout.hpp"
#include "cases/common/check.hpp"
#include "lib/harness/context.hpp"
#include "lib/io/pattern.hpp"
#include "cases/common/race.hpp"
#include "lib/io/uring.hpp"

namespace dt {
namespace {

struct BlockSamples {
  uint64_t stats = 0;
  uint64_t zero = 0;         // st_size > 0 and st_blocks == 0
  uint64_t zero_size = 0;    // st_size of the first such sample
  uint64_t min_blocks = UINT64_MAX;
};

// stat(2)s `path` until *stop, counting samples with data but no blocks.
class BlockSampler {
 public:
  // Returns once the thread has completed its first stat(2), so that it is
  // running before the writes start (on a busy machine it may not be yet).
  explicit BlockSampler(std::filesystem::path path) : path_(std::move(path)), thread_([this] { loop(); }) {
    while (!first_done_) std::this_thread::yield();
  }
  BlockSamples finish() {
    stop_ = true;
    thread_.join();
    return s_;
  }

 private:
  void loop() {
    while (!stop_) {
      struct stat st{};
      const bool ok = ::stat(path_.c_str(), &st) == 0;
      if (!ok) {
        first_done_ = true;  // counted as no sample; check_samples reports a sampler that never got one
        continue;
      }
      ++s_.stats;
      if (st.st_size > 0) s_.min_blocks = std::min<uint64_t>(s_.min_blocks, static_cast<uint64_t>(st.st_blocks));
      if (st.st_size > 0 && st.st_blocks == 0 && s_.zero++ == 0) s_.zero_size = static_cast<uint64_t>(st.st_size);
      first_done_ = true;
    }
  }
  std::filesystem::path path_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> first_done_{false};
  BlockSamples s_;
  std::thread thread_;
};

// The detector.
void check_samples(Context& ctx, const std::string& what, const BlockSamples& s) {
  ctx.log("{}: {} stat calls, smallest st_blocks seen {}", what, s.stats,
          s.min_blocks == UINT64_MAX ? std::string("-") : std::to_string(s.min_blocks));
  if (s.stats == 0) ctx.fail("{}: the stat thread never completed a stat(2)", what);
  if (s.zero)
    ctx.fail("{}: st_blocks 0 with st_size {} in {} of {} stat calls: the file looked sparse",
             what, s.zero_size, s.zero, s.stats);
}

// One whole-file overwrite in `block` pieces; FAILs on a short or failed write.
void overwrite(Context& ctx, const std::string& what, const std::string& engine, Ring* ring, int fd, const char* buf,
               uint64_t size, uint64_t block) {
  for (uint64_t off = 0; off < size; off += block) {
    const uint64_t n = std::min(block, size - off);
    const int64_t res = engine_pwrite(engine, ring, fd, buf + off, n, off);
    if (!check_write(ctx, what, res, n, off)) return;
  }
}

void run(Context& ctx) {
  const unsigned rounds = ctx.iterations(32);
  const uint64_t block = ctx.param_u64("block-size");
  Ring ring(4);
  for (const Variant& v : ctx.variants()) {
    for (uint64_t size : ctx.param_sizes("sizes")) {
      for (const std::string& engine : ctx.param_list("engines")) {
        const std::string name = fmt::format("{}/{}-{}", v.name, engine, format_size(size));
        const auto path = v.dir / "blocks";
        Fd fd = open_or_throw(path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
        prefill(fd.get(), size, ctx.seed());
        report_written_layout(ctx, name, fd.get(), 0, size);
        const auto before = fiemap(fd.get());
        AlignedBuffer buf(size);
        fill_pattern(buf.data(), size, 0, ctx.seed() + 1);

        BlockSampler sampler(path);
        // The first overwrite traced: the path every later one takes too.
        traced_io(ctx, v.name + " " + engine + " overwrite", name, true, fd.get(), 0, size, [&] {
          overwrite(ctx, name, engine, &ring, fd.get(), buf.data(), size, block);
          return static_cast<int64_t>(size);
        });
        for (unsigned r = 1; r < rounds && !ctx.failures(); ++r) {
          overwrite(ctx, name, engine, &ring, fd.get(), buf.data(), size, block);
          if (r % 8 == 0 && ::fdatasync(fd.get()) != 0) ctx.fail("{}: fdatasync: {}", name, errno_name(errno));
        }
        if (::fdatasync(fd.get()) != 0) ctx.fail("{}: fdatasync: {}", name, errno_name(errno));
        check_samples(ctx, fmt::format("{} ({} overwrites)", name, rounds), sampler.finish());

        const auto after = fiemap(fd.get());
        const bool moved = before.empty() || after.empty() || before.front().physical != after.front().physical;
        if (!moved)
          ctx.note(fmt::format("{}: overwritten in place (the extents never moved), so no extent was replaced and the "
                               "race 2766ff61762c fixed was not exercised",
                               name));
        verify_file_range(ctx, name, fd.get(), 0, buf.data(), size);
      }
    }
  }
}

// Self-test: a sparse file really has st_size > 0 and st_blocks 0.
void selftest(Context& ctx) {
  for (const Variant& v : ctx.variants()) {
    const auto path = v.dir / "sparse";
    Fd fd = open_or_throw(path, O_RDWR | O_CREAT | O_TRUNC);
    if (::ftruncate(fd.get(), 1 << 20) != 0) throw_errno("ftruncate");
    report_written_layout(ctx, v.name + "/sparse", fd.get(), 0, 0);
    BlockSampler sampler(path);
    ::usleep(20000);
    check_samples(ctx, v.name + "/sparse 1M file", sampler.finish());
  }
}

const KernelCommit kFix{"2766ff61762c", "btrfs: update the number of bytes used by an inode atomically"};

const CaseRegistrar reg({
    .id = "st-blocks-overwrite",
    .groups = {"auto", "quick", "stat", "write", "uring"},
    .description = "stat(2) never reports st_blocks 0 for a file with data while direct writes overwrite it",
    .fixed_by = {kFix},
    .fstests = {"generic/615"},
    .needs = {Need::IoUring},
    .params = {param::sizes("sizes", "64k,256k", "file size, overwritten whole each round", 4096, 256 << 20),
               param::size("block-size", "64k", "bytes per direct write", 4096, 16 << 20),
               param::choices("engines", "psync,uring", "how the direct writes are issued", {"psync", "uring"})},
    .timeout_s = 180,
    .fn = run,
});

const CaseRegistrar selftest_reg({
    .id = "selftest-st-blocks",
    .groups = {"selftest"},
    .description = "Self-test of st-blocks-overwrite (expect FAIL: st_blocks 0 with st_size 1048576): a sparse file",
    .fixed_by = {kFix},
    .timeout_s = 60,
    .fn = selftest,
});

}  // namespace
}  // namespace dt
