// Description: an appending (or file-extending) O_DIRECT write from a buffer
// whose pages were never faulted in must grow the file by exactly its length,
// leave no hole, put the bytes where they belong, and report no error from
// the write or a later fsync. generic/362 (src/dio-append-buf-fault.c): an
// untouched MAP_PRIVATE|MAP_ANONYMOUS page appended to an empty file. The
// direct write enlarges i_size, faults on the buffer with page faults
// disabled and falls back to buffered I/O; 939b656bc8ab ("btrfs: fix
// corruption after buffer fault in during direct IO append write") fixed the
// first form (size 8192 with a hole at 0), and in 2026 ff66fe666233 ("btrfs:
// fix incorrect buffered IO fallback for append direct writes": the enlarged
// i_size was not rolled back, so the O_APPEND fallback wrote at the new EOF)
// and its companion ("btrfs: fix false IO failure after falling back to
// buffered write": the write or fsync returned EIO although the fallback
// succeeded) the rest. Variants: O_APPEND, RWF_APPEND, io_uring on an
// O_APPEND fd, and plain extending pwrite at EOF; untouched and half-touched
// buffers; checksummed and NOCOW files (and a nodatasum mount with
// --mount-options nodatasum).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>

#include "lib/btrfs/fsinfo.hpp"
#include "cases/common/check.hpp"
#include "lib/harness/context.hpp"
#include "lib/io/pattern.hpp"
#include "lib/io/uring.hpp"

namespace dt {
namespace {

constexpr const char* kMethods = "o-append,rwf-append,uring-append,extend";

// One write of buf[0, len) by `method` to a file of size `isize`; bytes or -errno.
int64_t write_by_method(const std::string& method, Ring& ring, int fd, char* buf, size_t len, uint64_t isize) {
  iovec iov{buf, len};
  if (method == "o-append") {
    ssize_t n = ::write(fd, buf, len);
    return n < 0 ? -errno : n;
  }
  if (method == "rwf-append") {
    ssize_t n = ::pwritev2(fd, &iov, 1, -1, RWF_APPEND);
    return n < 0 ? -errno : n;
  }
  if (method == "uring-append")  // on the O_APPEND fd, offset -1: the file position
    return ring.run_one([&](io_uring_sqe* s) { io_uring_prep_write(s, fd, buf, len, -1); });
  ssize_t n = ::pwrite(fd, buf, len, static_cast<off_t>(isize));  // extend: at EOF, no append flag
  return n < 0 ? -errno : n;
}

void run(Context& ctx) {
  const size_t ps = page_size();
  const unsigned iterations = ctx.iterations(1);
  Ring ring(2);
  for (const Variant& v : ctx.variants()) {
    unsigned writes = 0, fallbacks = 0, buffered = 0;
    for (uint64_t initial : ctx.param_sizes("initial-sizes")) {
      for (uint64_t size : ctx.param_sizes("sizes")) {
        for (const std::string& method : ctx.param_list("methods")) {
          bool unsupported = false;
          for (const std::string& touch : ctx.param_list("touch")) {
            for (unsigned it = 0; it < iterations && !unsupported; ++it) {
              const std::string name =
                  fmt::format("{}/{}-{}+{}-touch={}-#{}", v.name, method, format_size(initial), format_size(size), touch, it);
              const auto path = v.dir / "appended";
              const uint64_t final_size = initial + size;
              AlignedBuffer want(final_size);
              fill_pattern(want.data(), initial, 0, ctx.seed() + it);
              {
                Fd f = open_or_throw(path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
                if (initial && ::pwrite(f.get(), want.data(), initial, 0) != static_cast<ssize_t>(initial))
                  throw_errno("pwrite initial data");
                if (::fsync(f.get()) != 0) throw_errno("fsync");
              }
              // The source: fresh private anonymous memory. Untouched pages read as
              // zeros and are not populated until the write faults them in.
              Mapping buf = Mapping::anonymous(size);
              std::memset(want.data() + initial, 0, size);
              if (touch == "half") {
                fill_pattern(buf.data(), size / ps / 2 * ps, initial, ctx.seed() ^ 0xa99e);
                std::memcpy(want.data() + initial, buf.data(), size / ps / 2 * ps);
              }
              const int flags = O_RDWR | O_DIRECT | (method == "extend" || method == "rwf-append" ? 0 : O_APPEND);
              Fd fd = open_or_throw(path, flags);
              PathReport pr{.op = name, .write = true};
              ctx.trace_start({fd.get()});
              int64_t res = write_by_method(method, ring, fd.get(), buf.data(), size, initial);
              ctx.trace_stop(&pr, fd.get(), initial, size);
              ++writes;
              if (res < 0 && skip_if_unsupported(ctx, fmt::format("{} on {}", method, v.name), static_cast<int>(-res))) {
                unsupported = true;
                break;
              }
              judge_path(&pr);
              ctx.report_path(v.name + " write", pr);
              // "mixed": entered the direct path, then dirtied pages: the fault-in
              // fallback to buffered I/O that the bugs live in.
              fallbacks += pr.verdict == "mixed";
              buffered += pr.verdict == "buffered";
              check_write(ctx, name, res, size, initial);
              // The companion fix: a fallback that succeeded must not leave an
              // error on the mapping for fsync to report.
              if (::fsync(fd.get()) != 0) ctx.fail("{}: fsync after the write returned {}", name, errno_name(errno));
              struct stat st {};
              ::fstat(fd.get(), &st);
              if (static_cast<uint64_t>(st.st_size) != final_size)
                ctx.fail("{}: file size {} after writing {} bytes to a {}-byte file (expected {})", name, st.st_size,
                         size, initial, final_size);
              if (method != "extend") {
                const off_t pos = ::lseek(fd.get(), 0, SEEK_CUR);
                if (method == "o-append" && static_cast<uint64_t>(pos) != final_size)
                  ctx.fail("{}: file position {} after the append, expected {}", name, pos, final_size);
              }
              Fd rd = open_or_throw(path, O_RDONLY | O_DIRECT);
              check_written_range(ctx, name, rd.get(), 0, want.data(), final_size);
            }
          }
        }
      }
    }
    if (writes && buffered == writes)
      ctx.note(fmt::format("{}: every write was buffered from the start (no direct path): the fault-in fallback the "
                           "bugs live in was not exercised there",
                           v.name));
    else if (writes)
      ctx.log("{}: {} of {} writes fell back from direct to buffered part-way (the path under test)", v.name, fallbacks,
              writes);
  }
}

std::vector<ParamSpec> params() {
  return {param::choices("methods", kMethods, "how the write extends the file", split(kMethods, ',')),
          param::sizes("sizes", "4k,1m", "write size", 4096, 64 << 20),
          param::sizes("initial-sizes", "0,64k", "file size before the write", 0, 64 << 20),
          param::choices("touch", "none,half", "buffer pages faulted in before the write: none, or the first half",
                         {"none", "half"})};
}

const std::vector<KernelCommit> kFixes = {
    {"939b656bc8ab", "btrfs: fix corruption after buffer fault in during direct IO append write"},
    {"ff66fe666233", "btrfs: fix incorrect buffered IO fallback for append direct writes"},
    {"(id unknown)", "btrfs: fix false IO failure after falling back to buffered write"}};

const CaseRegistrar reg({
    .id = "append-unfaulted-buffer",
    .groups = {"auto", "quick", "append", "fault", "write", "uring"},
    .description = "O_APPEND/RWF_APPEND/extending O_DIRECT write from an unfaulted buffer: exact size, no hole, no EIO",
    .fixed_by = kFixes,
    .regressed_by = {{"8184620ae212", "btrfs: fix lost file sync on direct IO write with nowait and dsync iocb"}},
    .fstests = {"generic/362"},
    .needs = {Need::IoUring},
    .params = params(),
    .timeout_s = 120,
    .fn = run,
});

// generic/362 as fstests also runs it, on a filesystem mounted nodatasum:
// the default directory's files then take the direct path too.
const CaseRegistrar nodatasum_reg({
    .id = "append-unfaulted-buffer-nodatasum",
    .groups = {"auto", "append", "fault", "write", "uring"},
    .description = "append-unfaulted-buffer on a filesystem mounted nodatasum (generic/362 -o nodatasum)",
    .fixed_by = kFixes,
    .fstests = {"generic/362"},
    .needs = {Need::IoUring},
    .fs = FsSpec{.mount_options = "nodatasum"},
    .params = params(),
    .timeout_s = 120,
    .fn =
        [](Context& ctx) {
          // Until every run provisions a case's own filesystem, say so rather
          // than run the checksummed scenario again under this name.
          if (!mount_info_for(ctx.work_dir()).has_option("nodatasum"))
            ctx.notrun("needs a filesystem mounted nodatasum: run it with --mount-options nodatasum");
          run(ctx);
        },
});

}  // namespace
}  // namespace dt
