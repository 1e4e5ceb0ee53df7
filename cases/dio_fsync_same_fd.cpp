// Description: O_DIRECT writes and fsync racing on the same file descriptor
// must all succeed, leave the data written, and keep the kernel log clean.
// generic/364 (src/dio-write-fsync-same-fd.c): one thread loops pwrite(4K, 0)
// on an O_DIRECT fd while another loops fsync on it. After 939b656bc8ab
// made the direct write drop the inode lock and flag the file so that the
// fsync it triggers would not take the lock again, an fsync from the other
// thread saw the flag too and ran unlocked: "assertion failed:
// inode_is_locked", a kernel BUG in ordered-data.c or a use-after-free
// (CVE-2024-46734), fixed by cd9253c23aed ("btrfs: fix race between direct IO
// write and fsync when using same fd"). A sync direct write also unlocked the
// inode twice ("WARNING: bad unlock balance detected!", syzbot), fixed by
// e0391e92f9ab ("btrfs: fix double inode unlock for direct IO sync writes"):
// hence the O_DSYNC, RWF_DSYNC and io_uring linked-fsync writers. The
// runner's kernel-log scan is the detector for both; the data is checked too.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "cases/common/check.hpp"
#include "lib/harness/context.hpp"
#include "lib/run/kmsg.hpp"
#include "lib/io/pattern.hpp"
#include "lib/io/uring.hpp"

namespace dt {
namespace {

constexpr const char* kMethods = "pwrite,odsync-pwrite,rwf-dsync,uring-linked-fsync";

struct Tally {
  std::atomic<uint64_t> writes{0}, fsyncs{0}, bad{0};
};

// One write of buf to off by `method` (and, for io_uring, its linked fsync);
// returns false and records a FAIL on a short or failed write or fsync.
bool write_once(Context& ctx, const std::string& name, const std::string& method, Ring& ring, int fd, char* buf,
                uint64_t bs, uint64_t off, Tally* t) {
  int64_t res;
  if (method == "uring-linked-fsync") {
    int write_res = 0, fsync_res = 0;
    io_uring_sqe* w = io_uring_get_sqe(ring.get());
    io_uring_prep_write(w, fd, buf, bs, off);
    w->flags |= IOSQE_IO_LINK;
    w->user_data = 1;
    io_uring_sqe* f = io_uring_get_sqe(ring.get());
    io_uring_prep_fsync(f, fd, 0);
    f->user_data = 2;
    ring.submit_and_reap(2, [&](uint64_t ud, int r) { (ud == 1 ? write_res : fsync_res) = r; });
    res = write_res;
    if (fsync_res != 0 && res == static_cast<int64_t>(bs)) {
      ctx.fail("{}: linked fsync after the write at {} returned {}", name, off, errno_name(-fsync_res));
      ++t->bad;
      return false;
    }
  } else if (method == "rwf-dsync") {
    iovec iov{buf, bs};
    ssize_t n = ::pwritev2(fd, &iov, 1, static_cast<off_t>(off), RWF_DSYNC);
    res = n < 0 ? -errno : n;
  } else {
    ssize_t n = ::pwrite(fd, buf, bs, static_cast<off_t>(off));
    res = n < 0 ? -errno : n;
  }
  ++t->writes;
  if (res != static_cast<int64_t>(bs)) {
    check_write(ctx, name, res, bs, off);
    ++t->bad;
    return false;
  }
  return true;
}

void run(Context& ctx) {
  const uint64_t bs = ctx.param_u64("block-size");
  const auto duration = std::chrono::milliseconds(ctx.param_u64("milliseconds"));
  const unsigned fsyncers = static_cast<unsigned>(ctx.param_u64("fsync-threads"));
  for (const Variant& v : ctx.variants()) {
    for (const std::string& method : ctx.param_list("methods")) {
      for (const std::string& where : ctx.param_list("offsets")) {
        const std::string name = fmt::format("{}/{}-{}-{}", v.name, method, where, format_size(bs));
        const auto path = v.dir / "same-fd";
        std::filesystem::remove(path);
        Fd fd = open_or_throw(path, O_RDWR | O_CREAT | O_DIRECT | (method == "odsync-pwrite" ? O_DSYNC : 0));
        Ring ring(4);
        // "same": every write overwrites block 0, as generic/364 does; "extend":
        // each write appends a block, taking the exclusive-lock path every time.
        const uint64_t max_blocks = 256;
        AlignedBuffer data(bs * max_blocks);
        fill_pattern(data.data(), bs * max_blocks, 0, ctx.seed());
        Tally t;
        std::atomic<bool> stop{false};
        std::atomic<int> fsync_err{0};
        std::vector<std::thread> threads;
        for (unsigned k = 0; k < fsyncers; ++k)
          threads.emplace_back([&] {
            while (!stop.load(std::memory_order_relaxed)) {
              if (::fsync(fd.get()) != 0) {  // reported after the join: Context is not thread-safe
                fsync_err = errno;
                ++t.bad;
                return;
              }
              ++t.fsyncs;
            }
          });
        PathReport pr{.op = name, .write = true};
        ctx.trace_start({fd.get()});
        const auto end = std::chrono::steady_clock::now() + duration;
        uint64_t written_blocks = 0;
        bool unsupported = false;
        for (uint64_t i = 0; std::chrono::steady_clock::now() < end && t.bad == 0; ++i) {
          const uint64_t block = where == "extend" ? i % max_blocks : 0;
          if (where == "extend" && block == 0 && i && ::ftruncate(fd.get(), 0) != 0) throw_errno("ftruncate");
          if (i == 0 && method == "uring-linked-fsync" && !ring.supports(IORING_OP_FSYNC)) {
            ctx.skip(method, "io_uring has no IORING_OP_FSYNC here");
            unsupported = true;
            break;
          }
          if (!write_once(ctx, name, method, ring, fd.get(), data.data() + block * bs, bs, block * bs, &t)) break;
          written_blocks = where == "extend" ? block + 1 : 1;  // what the file holds now
        }
        stop = true;
        for (auto& th : threads) th.join();
        if (fsync_err) ctx.fail("{}: fsync racing the writes returned {}", name, errno_name(fsync_err));
        ctx.trace_stop(&pr, fd.get(), 0, bs * std::max<uint64_t>(written_blocks, 1));
        if (unsupported) continue;
        ctx.report_path(v.name + " write", pr);
        ctx.log("{}: {} writes, {} racing fsyncs in {} ms", name, t.writes.load(), t.fsyncs.load(), duration.count());
        if (t.fsyncs == 0) ctx.note(name + ": no fsync completed during the writes: the race was not exercised");
        if (::fsync(fd.get()) != 0) ctx.fail("{}: final fsync returned {}", name, errno_name(errno));
        struct stat st {};
        ::fstat(fd.get(), &st);
        if (written_blocks && static_cast<uint64_t>(st.st_size) < written_blocks * bs)
          ctx.fail("{}: file size {} after writing {} blocks of {}", name, st.st_size, written_blocks, bs);
        if (written_blocks) check_written_range(ctx, name, fd.get(), 0, data.data(), written_blocks * bs);
      }
    }
  }
}

std::vector<ParamSpec> params(const char* milliseconds) {
  return {param::choices("methods", kMethods, "how the racing writes are issued", split(kMethods, ',')),
          param::choices("offsets", "same,extend", "overwrite block 0 (generic/364) or keep extending the file",
                         {"same", "extend"}),
          param::size("block-size", "4k", "size of each write", 4096, 1 << 20),
          param::count("milliseconds", milliseconds, "how long each combination races", 10, 3600 * 1000),
          param::count("fsync-threads", "1", "threads looping fsync on the same fd", 1, 16)};
}

const CaseRegistrar reg({
    .id = "dio-write-fsync-same-fd",
    .groups = {"auto", "fsync", "dsync", "race", "uring", "write"},
    .description = "O_DIRECT writes (plain, O_DSYNC, RWF_DSYNC, io_uring+linked fsync) racing fsync on the same fd",
    .fixed_by = {{"cd9253c23aed", "btrfs: fix race between direct IO write and fsync when using same fd"},
                 {"e0391e92f9ab", "btrfs: fix double inode unlock for direct IO sync writes"}},
    .regressed_by = {{"939b656bc8ab", "btrfs: fix corruption after buffer fault in during direct IO append write"}},
    .fstests = {"generic/364"},
    .needs = {Need::IoUring},
    .params = params("1500"),
    .timeout_s = 180,
    .fn = run,
});

// The detector fed the bad outcome: a short run of the same race with the
// kernel-log lines the two bugs printed planted into the log (no kernel we
// can boot still has them: 6.1 never had the flag cd9253c23aed fixed).
const CaseRegistrar self_reg({
    .id = "selftest-dio-fsync-kmsg",
    .groups = {"selftest"},
    .description = "Harness self-test (expect FAIL: kernel log): dio-write-fsync-same-fd with the bugs' log lines planted",
    .params = params("50"),
    .timeout_s = 60,
    .fn =
        [](Context& ctx) {
          write_kernel_log("assertion failed: inode_is_locked(&inode->vfs_inode), in fs/btrfs/ordered-data.c (planted by "
                           "selftest-dio-fsync-kmsg: the cd9253c23aed report)");
          write_kernel_log("WARNING: bad unlock balance detected! (planted by selftest-dio-fsync-kmsg: the e0391e92f9ab report)");
          run(ctx);
        },
});

}  // namespace
}  // namespace dt
