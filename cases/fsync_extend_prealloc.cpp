// Description: fsync of a file whose size-extending O_DIRECT write went into
// a preallocated extent beyond EOF must succeed, keep the data, and not crash
// the kernel. generic/748 loops, on a fresh file each time: falloc -k 0 3*bs;
// direct pwrite 0 bs; setfattr; direct pwrite bs bs (extends i_size into the
// prealloc extent); fdatasync. The fsync read i_size twice while the write
// moved it, logged the same prealloc extent twice and hit a duplicate key:
// "kernel BUG at fs/btrfs/ctree.c" in btrfs_set_item_key_safe()
// (CVE-2024-37354), fixed by 9d274c19a71b ("btrfs: fix crash on racing fsync
// and size-extending write into prealloc"). The "racing" mode adds a thread
// that loops fdatasync during the whole sequence. The runner's kernel-log
// scan is the detector for the crash; sizes and data are checked each round.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "lib/btrfs/layout.hpp"
#include "cases/common/check.hpp"
#include "lib/harness/context.hpp"
#include "lib/run/kmsg.hpp"
#include "lib/io/pattern.hpp"
#include "lib/io/uring.hpp"

namespace dt {
namespace {

void run(Context& ctx) {
  const uint64_t bs = ctx.param_u64("block-size");
  const unsigned iterations = ctx.iterations(static_cast<unsigned>(ctx.param_u64("rounds")));
  AlignedBuffer data(2 * bs);
  fill_pattern(data.data(), 2 * bs, 0, ctx.seed());
  for (const Variant& v : ctx.variants()) {
    for (const std::string& mode : ctx.param_list("modes")) {
      const std::string name = fmt::format("{}/{}-{}", v.name, mode, format_size(bs));
      const auto path = v.dir / "prealloc-extend";
      unsigned rounds = 0, bad = 0;
      PathReport pr{.op = name + " extending write into prealloc", .write = true};
      for (unsigned it = 0; it < iterations && !bad; ++it, ++rounds) {
        Fd fd = open_or_throw(path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
        if (::fallocate(fd.get(), FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(3 * bs)) != 0) {
          if (it == 0 && skip_if_unsupported(ctx, "fallocate KEEP_SIZE on " + v.name, errno)) break;
          throw_errno("fallocate");
        }
        if (it == 0) {
          // The layout the bug needs: one prealloc extent covering [0, 3*bs) beyond EOF.
          const auto ex = fiemap(fd.get());
          LayoutCheck c;
          c.ok = !ex.empty() && ex[0].logical == 0 && ex[0].unwritten();
          if (!c.ok) c.problems.push_back("expected an unwritten (prealloc) extent at 0");
          c.summary = fmt::format("falloc -k [0,{}) beyond EOF: unwritten extent at 0{}", format_size(3 * bs),
                                  c.ok ? ", verified" : " MISSING");
          c.prealloc_extents = static_cast<unsigned>(ex.size());
          if (!ctx.report_layout(name + " before the writes", c, ex)) break;
        }
        std::atomic<bool> stop{false};
        std::atomic<int> sync_err{0};
        std::thread syncer;
        if (mode == "racing")
          syncer = std::thread([&] {
            while (!stop.load(std::memory_order_relaxed))
              if (::fdatasync(fd.get()) != 0) sync_err = errno;
          });
        const std::string what = fmt::format("{} #{}", name, it);
        ssize_t w1 = ::pwrite(fd.get(), data.data(), bs, 0);
        if (w1 != static_cast<ssize_t>(bs)) ++bad, check_write(ctx, what + " write [0,bs)", w1 < 0 ? -errno : w1, bs, 0);
        if (::fsetxattr(fd.get(), "user.diotorture", "x", 1, 0) != 0 && errno != EOPNOTSUPP)
          ++bad, ctx.fail("{}: setxattr returned {}", what, errno_name(errno));
        if (it == 0) ctx.trace_start({fd.get()});
        ssize_t w2 = ::pwrite(fd.get(), data.data() + bs, bs, static_cast<off_t>(bs));
        if (it == 0) ctx.trace_stop(&pr, fd.get(), bs, bs);
        if (w2 != static_cast<ssize_t>(bs))
          ++bad, check_write(ctx, what + " extending write [bs,2bs)", w2 < 0 ? -errno : w2, bs, bs);
        if (::fdatasync(fd.get()) != 0) ++bad, ctx.fail("{}: fdatasync returned {}", what, errno_name(errno));
        stop = true;
        if (syncer.joinable()) syncer.join();
        if (sync_err) ++bad, ctx.fail("{}: racing fdatasync returned {}", what, errno_name(sync_err));
        struct stat st {};
        ::fstat(fd.get(), &st);
        if (static_cast<uint64_t>(st.st_size) != 2 * bs)
          ++bad, ctx.fail("{}: file size {} after extending writes to {}", what, st.st_size, 2 * bs);
        if (it == 0 || it + 1 == iterations || bad) {
          if (!check_written_range(ctx, what, fd.get(), 0, data.data(), 2 * bs)) ++bad;
        }
      }
      if (rounds) ctx.report_path(v.name + " write", pr);
      ctx.log("{}: {} rounds of falloc -k / write / setxattr / extending write / fdatasync", name, rounds);
    }
  }
}

std::vector<ParamSpec> params(const char* rounds) {
  return {param::count("rounds", rounds, "rounds of the sequence per variant and mode (--iterations overrides)", 1, 1000000),
          param::choices("modes", "sequence,racing", "the generic/748 sequence alone, or with a thread looping fdatasync",
                         {"sequence", "racing"}),
          param::size("block-size", "4k", "bs of the sequence", 4096, 1 << 20)};
}

const CaseRegistrar reg({
    .id = "fsync-extending-prealloc-write",
    .groups = {"auto", "fsync", "prealloc", "write", "race"},
    .description = "size-extending O_DIRECT write into prealloc beyond EOF + fdatasync (generic/748), optionally racing",
    .fixed_by = {{"9d274c19a71b", "btrfs: fix crash on racing fsync and size-extending write into prealloc"}},
    .fstests = {"generic/748"},
    .params = params("200"),
    .timeout_s = 240,
    .fn = run,
});

// The detector fed the bad outcome: a few rounds of the same sequence with the
// lines of the CVE-2024-37354 crash planted into the kernel log.
const CaseRegistrar self_reg({
    .id = "selftest-fsync-prealloc-kmsg",
    .groups = {"selftest"},
    .description = "Harness self-test (expect FAIL: kernel log): fsync-extending-prealloc-write with the crash lines planted",
    .params = params("5"),
    .timeout_s = 60,
    .fn =
        [](Context& ctx) {
          write_kernel_log("BTRFS critical (device planted): slot 4 key (450 108 8192) new key (450 108 8192)");
          write_kernel_log("kernel BUG at fs/btrfs/ctree.c (planted by selftest-fsync-prealloc-kmsg: the 9d274c19a71b report)");
          run(ctx);
        },
});

}  // namespace
}  // namespace dt
