// Description: O_DSYNC/O_SYNC/RWF_DSYNC direct writes, sync and async, must
// complete with the data on disk. Seed 004: iomap_dio_complete() called
// generic_write_sync() -> btrfs_sync_file() while btrfs still held the inode
// lock, a self-deadlock (fixed in btrfs by dropping IOCB_DSYNC around
// iomap_dio_rw and syncing after unlock; fstests generic/609 covers it). A
// hang is caught by the runner's watchdog; kernel warnings by its log check.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>

#include "cases/common/check.hpp"
#include "lib/harness/context.hpp"
#include "lib/io/pattern.hpp"
#include "lib/io/uring.hpp"

namespace dt {
namespace {

constexpr const char* kMethods =
    "odsync-pwrite,osync-pwrite,pwritev2-dsync,uring-rwf-dsync,uring-odsync-fd,uring-linked-fsync";

int open_flags(const std::string& method) {
  int f = O_RDWR | O_CREAT | O_DIRECT;
  if (method == "odsync-pwrite" || method == "uring-odsync-fd") f |= O_DSYNC;
  if (method == "osync-pwrite") f |= O_SYNC;
  return f;
}

// Writes blocks [0, n) of `bs` bytes from buf; returns false if unsupported.
bool write_all_blocks(Context& ctx, const std::string& method, int fd, const char* buf, uint64_t bs, unsigned n,
                      unsigned qd, const std::string& name) {
  auto check = [&](unsigned i, int64_t res) { check_write(ctx, name + " block " + std::to_string(i), res, bs, i * bs); };
  if (method.rfind("uring", 0) != 0) {
    for (unsigned i = 0; i < n; ++i) {
      iovec iov{const_cast<char*>(buf + i * bs), bs};
      ssize_t r = method == "pwritev2-dsync" ? ::pwritev2(fd, &iov, 1, static_cast<off_t>(i * bs), RWF_DSYNC)
                                             : ::pwrite(fd, iov.iov_base, bs, static_cast<off_t>(i * bs));
      if (r < 0 && i == 0 && skip_if_unsupported(ctx, method, errno)) return false;
      check(i, r < 0 ? -errno : r);
    }
    return true;
  }
  const bool linked = method == "uring-linked-fsync";
  Ring ring(2 * qd);
  for (unsigned next = 0; next < n;) {
    unsigned batch = std::min(qd, n - next), cqes = 0;
    for (unsigned k = 0; k < batch; ++k, ++next) {
      io_uring_sqe* s = io_uring_get_sqe(ring.get());
      io_uring_prep_write(s, fd, buf + next * bs, bs, next * bs);
      if (method == "uring-rwf-dsync") s->rw_flags = RWF_DSYNC;
      s->user_data = next;
      ++cqes;
      if (linked) {
        s->flags |= IOSQE_IO_LINK;
        io_uring_sqe* f = io_uring_get_sqe(ring.get());
        io_uring_prep_fsync(f, fd, IORING_FSYNC_DATASYNC);
        f->user_data = (1ull << 63) | next;
        ++cqes;
      }
    }
    bool unsupported = false;
    ring.submit_and_reap(cqes, [&](uint64_t ud, int res) {
      if (res < 0 && skip_if_unsupported(ctx, method, -res)) unsupported = true;
      else if (ud >> 63) {
        if (res != 0) ctx.fail("{}: linked fsync after block {} returned {}", name, ud & ~(1ull << 63), errno_name(-res));
      } else {
        check(static_cast<unsigned>(ud), res);
      }
    });
    if (unsupported) return false;
  }
  return true;
}

void run(Context& ctx) {
  const uint64_t bs = ctx.param_u64("block-size");
  const unsigned blocks = static_cast<unsigned>(ctx.param_u64("blocks"));
  const unsigned qd = static_cast<unsigned>(ctx.param_u64("queue-depth"));
  const unsigned iterations = ctx.iterations(2);
  const uint64_t len = bs * blocks;
  AlignedBuffer data(len), old(len);
  for (const Variant& v : ctx.variants()) {
    for (const std::string& mode : ctx.param_list("modes")) {
      for (const std::string& method : ctx.param_list("methods")) {
        for (unsigned it = 0; it < iterations; ++it) {
          const std::string name = fmt::format("{}/{}-{}-qd{}-#{}", v.name, method, mode, qd, it);
          const auto path = v.dir / "f";
          std::filesystem::remove(path);
          const uint64_t seed = ctx.seed() + it;
          if (mode == "overwrite") {
            // Existing, synced data that every block then overwrites.
            fill_pattern(old.data(), len, 0, seed ^ 0xdead);
            Fd f = open_or_throw(path, O_RDWR | O_CREAT | O_DIRECT);
            if (::pwrite(f.get(), old.data(), len, 0) != static_cast<ssize_t>(len)) throw_errno("pwrite old data");
            if (::fsync(f.get()) != 0) throw_errno("fsync");
          }
          fill_pattern(data.data(), len, 0, seed);
          Fd fd = open_or_throw(path, open_flags(method));
          PathReport pr{.op = name, .write = true};
          ctx.trace_start({fd.get()});
          bool ran = write_all_blocks(ctx, method, fd.get(), data.data(), bs, blocks, qd, name);
          ctx.trace_stop(&pr, fd.get(), 0, len);
          if (!ran) break;
          ctx.report_path(v.name + " write", pr);
          Fd rd = open_or_throw(path, O_RDONLY | O_DIRECT);
          struct stat st {};
          ::fstat(rd.get(), &st);
          if (static_cast<uint64_t>(st.st_size) != len)
            ctx.fail("{}: i_size {} after writing {} bytes", name, st.st_size, len);
          check_written_range(ctx, name, rd.get(), 0, data.data(), len);
        }
      }
    }
  }
}

const CaseRegistrar reg({
    .id = "dsync-dio-write",
    .groups = {"auto", "quick", "dsync", "deadlock", "uring"},
    .description = "O_DSYNC/O_SYNC/RWF_DSYNC direct writes (psync and io_uring, linked fsync, qd>1) must complete",
    .fstests = {"generic/609"},
    .needs = {Need::IoUring},
    .params = {param::choices("methods", kMethods, "how the synchronous write is issued", split(kMethods, ',')),
               param::choices("modes", "append,overwrite", "extend the file, or overwrite synced data", {"append", "overwrite"}),
               param::size("block-size", "64k", "size of each write", 4096, 16 << 20),
               param::count("blocks", "32", "writes per file", 1, 4096),
               param::count("queue-depth", "8", "io_uring writes in flight", 1, 1024)},
    .timeout_s = 180,
    .fn = run,
});

}  // namespace
}  // namespace dt
