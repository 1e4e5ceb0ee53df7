// Description: a direct read or write whose iovec ends in PROT_NONE memory
// must return exactly the bytes it transferred, or EFAULT when it transferred
// none, and change nothing beyond them: not the rest of the read buffer, not
// the file past the count (nor its size). Before 5.16 iomap returned EFAULT
// for a direct I/O that had already moved some bytes; fixed by 97308f8b0d86
// ("iomap: Fix iomap_dio_rw return value for user copies") and 42c498c18a94
// ("iomap: Support partial direct I/O on user copy failures"). Buffers with
// the last page, the second half, or everything PROT_NONE; one or several
// iovecs; pwritev/preadv and io_uring; overwrites and extending writes.
// The self-test feeds the check what those kernels did: the accessible
// bytes written, then EFAULT returned (a real EFAULT, from an all-PROT_NONE
// iovec), which must be reported.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "cases/common/check.hpp"
#include "lib/harness/context.hpp"
#include "lib/io/pattern.hpp"
#include "cases/common/race.hpp"
#include "lib/io/uring.hpp"

namespace dt {
namespace {

constexpr const char* kMethods = "pwritev,preadv,uring-writev,uring-readv";
constexpr const char* kTails = "last-page,half,all";
constexpr char kCanary = static_cast<char>(0xa5);

bool is_write(const std::string& method) { return method.find("write") != std::string::npos; }

// Bytes of a len-byte buffer that stay accessible for a PROT_NONE tail.
uint64_t accessible(const std::string& tail, uint64_t len) {
  if (tail == "last-page") return len - page_size();
  if (tail == "half") return len / 2;
  return 0;
}

uint64_t file_size(int fd) {
  struct stat st{};
  if (::fstat(fd, &st) != 0) throw_errno("fstat");
  return static_cast<uint64_t>(st.st_size);
}

// The shared part of both checks: an error other than EFAULT, or a count
// beyond what could be transferred, is wrong. Returns the bytes done.
uint64_t check_count(Context& ctx, const std::string& what, int64_t res, uint64_t acc) {
  if (res < 0 && res != -EFAULT) ctx.fail("{}: {} (only EFAULT or a count may come back)", what, errno_name(static_cast<int>(-res)));
  if (res == 0) ctx.fail("{}: returned 0 (nothing transferred must be EFAULT)", what);
  if (res > static_cast<int64_t>(acc))
    ctx.fail("{}: returned {} but only {} bytes of the buffer are accessible", what, res, acc);
  if (res >= 0 && static_cast<uint64_t>(res) < acc)
    ctx.log("{}: stopped {} bytes before the PROT_NONE part", what, acc - static_cast<uint64_t>(res));
  return res > 0 ? std::min(static_cast<uint64_t>(res), acc) : 0;
}

// The detector for writes: [off, off+done) holds the new bytes, and the file
// past the count (its old bytes, its old size) is unchanged.
void check_partial_write(Context& ctx, const std::string& what, int fd_direct, uint64_t off, uint64_t len,
                         int64_t res, uint64_t acc, uint64_t old_size, uint64_t seed_old, uint64_t seed_new) {
  const uint64_t done = check_count(ctx, what, res, acc);
  const std::string returned = res < 0 ? errno_name(static_cast<int>(-res)) : std::to_string(res);
  const uint64_t want_size = std::max(old_size, off + done);
  const uint64_t size = file_size(fd_direct);
  if (size != want_size)
    ctx.fail("{}: returned {}, file size {:#x}; it must be {:#x}", what, returned, size, want_size);
  if (done) {
    AlignedBuffer want(done);
    fill_pattern(want.data(), done, off, seed_new);
    verify_file_range(ctx, fmt::format("{}: the {} bytes returned", what, done), fd_direct, off, want.data(), done);
  }
  const uint64_t end = std::min(off + len, std::min(size, old_size));
  if (end > off + done) {
    AlignedBuffer old(end - off - done);
    fill_pattern(old.data(), old.size(), off + done, seed_old);
    verify_file_range(ctx, fmt::format("{}: returned {}, so [{:#x},{:#x}) must be unchanged", what, returned, off + done, end),
                      fd_direct, off + done, old.data(), old.size());
  }
}

// The detector for reads: buf[0, done) holds the file's bytes, and the
// accessible rest of the buffer still holds the canary.
void check_partial_read(Context& ctx, const std::string& what, int64_t res, const char* buf, uint64_t off,
                        uint64_t acc, uint64_t seed) {
  const uint64_t done = check_count(ctx, what, res, acc);
  if (done) {
    AlignedBuffer want(done);
    fill_pattern(want.data(), done, off, seed);
    check_read(ctx, what, static_cast<int64_t>(done), buf, want.data(), done, off, off + done);
  }
  const char* past = std::find_if(buf + done, buf + acc, [](char c) { return c != kCanary; });
  if (past != buf + acc)
    ctx.fail("{}: returned {}, yet the buffer changed at byte {:#x} past the count", what,
             res < 0 ? errno_name(static_cast<int>(-res)) : std::to_string(res), past - buf);
}

// len bytes as `iovecs` equal pieces (page multiples), the rest in the last.
std::vector<iovec> split_iov(char* buf, uint64_t len, unsigned iovecs) {
  const uint64_t piece = std::max<uint64_t>(page_size(), (len / iovecs) & ~uint64_t{page_size() - 1});
  std::vector<iovec> v;
  for (uint64_t at = 0; at < len; at += piece) v.push_back({buf + at, std::min(piece, len - at)});
  return v;
}

int64_t transfer(const std::string& method, Ring& ring, int fd, const std::vector<iovec>& iov, uint64_t off) {
  const int n = static_cast<int>(iov.size());
  if (method == "pwritev" || method == "preadv") {
    ssize_t r = method == "pwritev" ? ::pwritev(fd, iov.data(), n, static_cast<off_t>(off))
                                    : ::preadv(fd, iov.data(), n, static_cast<off_t>(off));
    return r < 0 ? -static_cast<int64_t>(errno) : r;
  }
  return ring.run_one([&](io_uring_sqe* s) {
    if (method == "uring-writev") io_uring_prep_writev(s, fd, iov.data(), n, off);
    else io_uring_prep_readv(s, fd, iov.data(), n, off);
  });
}

void run(Context& ctx) {
  const uint64_t seed_new = ctx.seed() ^ 0xefau;
  Ring ring(4);
  for (const Variant& v : ctx.variants()) {
    for (uint64_t len : ctx.param_sizes("sizes")) {
      for (const std::string& method : ctx.param_list("methods")) {
        const bool write = is_write(method);
        for (const std::string& where : write ? ctx.param_list("writes") : std::vector<std::string>{"inside"}) {
          for (const std::string& tail : ctx.param_list("tails")) {
            for (uint64_t iovecs : ctx.param_sizes("iovecs")) {
              const uint64_t acc = accessible(tail, len);
              const std::string name = fmt::format("{}/{}-{}-{}-{}iov-{}", v.name, method, format_size(len), tail,
                                                   iovecs, write ? where : "read");
              // Old bytes [0, 2*len) (overwrite/read at len) or [0, len) (extending write at len).
              const uint64_t off = len, old_size = where == "extend" ? len : 2 * len;
              Fd fd = open_or_throw(v.dir / "partial", O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
              prefill(fd.get(), old_size, ctx.seed());
              Mapping buf = Mapping::anonymous(len);
              if (write) fill_pattern(buf.data(), len, off, seed_new);
              else std::memset(buf.data(), kCanary, len);
              if (acc < len && ::mprotect(buf.data() + acc, len - acc, PROT_NONE) != 0) throw_errno("mprotect");
              const auto iov = split_iov(buf.data(), len, static_cast<unsigned>(iovecs));
              int64_t res = traced_io(ctx, v.name + " " + method, name, write, fd.get(), off, len,
                                      [&] { return transfer(method, ring, fd.get(), iov, off); });
              if (res < 0 && res != -EFAULT && skip_if_unsupported(ctx, method, static_cast<int>(-res))) continue;
              ctx.log("{}: {} of {} bytes accessible, returned {}", name, acc, len,
                      res < 0 ? errno_name(static_cast<int>(-res)) : std::to_string(res));
              if (write) {
                check_partial_write(ctx, name, fd.get(), off, len, res, acc, old_size, ctx.seed(), seed_new);
                report_written_layout(ctx, name, fd.get(), off, std::max<int64_t>(res, 0));
              } else {
                check_partial_read(ctx, name, res, buf.data(), off, acc, ctx.seed());
              }
            }
          }
        }
      }
    }
  }
}

// Self-test: what pre-5.16 kernels did, built from real system calls. The
// accessible half is written with pwrite, then the rest of the write is
// issued from an all-PROT_NONE iovec (a real EFAULT); judged as one write
// that returned EFAULT, the changed half must be reported.
void selftest(Context& ctx) {
  const uint64_t len = 64 << 10, off = len, acc = len / 2;
  const uint64_t seed_new = ctx.seed() ^ 0xefau;
  for (const Variant& v : ctx.variants()) {
    Fd fd = open_or_throw(v.dir / "partial", O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
    prefill(fd.get(), 2 * len, ctx.seed());
    AlignedBuffer head(acc);
    fill_pattern(head.data(), acc, off, seed_new);
    int64_t n = traced_pwrite(ctx, v.name + " pwrite", "the accessible half", fd.get(), head.data(), acc, off);
    check_write(ctx, v.name + " accessible half", n, acc, off);
    Mapping none = Mapping::anonymous(len - acc);
    if (::mprotect(none.data(), none.size(), PROT_NONE) != 0) throw_errno("mprotect");
    iovec iov{none.data(), none.size()};
    ssize_t r = ::pwritev(fd.get(), &iov, 1, static_cast<off_t>(off + acc));
    const int64_t res = r < 0 ? -static_cast<int64_t>(errno) : r;
    ctx.log("{}: write from an all-PROT_NONE iovec returned {}", v.name, r < 0 ? errno_name(errno) : std::to_string(r));
    check_partial_write(ctx, v.name + " half written, EFAULT returned", fd.get(), off, len, res, acc, 2 * len,
                        ctx.seed(), seed_new);
  }
}

const std::vector<KernelCommit> kFixes = {
    {"97308f8b0d86", "iomap: Fix iomap_dio_rw return value for user copies"},
    {"42c498c18a94", "iomap: Support partial direct I/O on user copy failures"}};

const CaseRegistrar reg({
    .id = "partial-dio-user-copy",
    .groups = {"auto", "quick", "fault", "write", "read", "uring"},
    .description = "direct I/O from an iovec with a PROT_NONE tail returns exactly the bytes moved (or EFAULT), nothing past them changes",
    .fixed_by = kFixes,
    .needs = {Need::IoUring},
    .params = {param::sizes("sizes", "16k,256k", "bytes per transfer (at least two pages)", 8192, 64 << 20),
               param::choices("methods", kMethods, "how the transfer is issued", split(kMethods, ',')),
               param::choices("tails", "last-page,all", "which part of the buffer is PROT_NONE", split(kTails, ',')),
               param::choices("writes", "overwrite,extend", "writes inside the file or past its end",
                              {"overwrite", "extend"}),
               param::counts("iovecs", "1,3", "iovecs the buffer is split into", 1, 64)},
    .timeout_s = 120,
    .fn = run,
});

const CaseRegistrar selftest_reg({
    .id = "selftest-partial-dio-user-copy",
    .groups = {"selftest"},
    .description = "Self-test of partial-dio-user-copy (expect FAIL: EFAULT returned but the file changed)",
    .fixed_by = kFixes,
    .timeout_s = 60,
    .fn = selftest,
});

}  // namespace
}  // namespace dt
