// Description: write(2)/writev(2)/read(2)/readv(2) on an O_DIRECT fd, and
// io_uring with offset -1 (the file position), must advance the file position
// by exactly the count they return. The stable 5.10/5.15/6.1 -rc1 kernels of
// November 2023 took an iomap change without 936e114a245b ("iomap: update
// ki_pos a little later in iomap_dio_complete"), and a direct write(2) left
// the position where it was (caught by LTP preadv03). Two transfers in a row
// from a non-zero position, full or short (the buffer's last page PROT_NONE),
// checked against lseek(SEEK_CUR) and against the data where it must be.
// The self-test feeds the same check a pwrite(2), which leaves the position
// alone: exactly what the broken kernels did.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "cases/common/check.hpp"
#include "lib/harness/context.hpp"
#include "lib/io/pattern.hpp"
#include "lib/io/uring.hpp"
#include "cases/common/race.hpp"

namespace dt {
namespace {

constexpr const char* kMethods = "write,writev,read,readv,uring-write,uring-writev,uring-read,uring-readv";
constexpr const char* kSyscalls = "write,writev,read,readv";
constexpr const char* kUring = "uring-write,uring-writev,uring-read,uring-readv";

uint64_t position(int fd) {
  off_t p = ::lseek(fd, 0, SEEK_CUR);
  if (p < 0) throw_errno("lseek SEEK_CUR");
  return static_cast<uint64_t>(p);
}

// The detector: the position moved by exactly the count returned (not at all
// on an error).
bool check_position(Context& ctx, const std::string& what, uint64_t before, int64_t res, uint64_t after) {
  const uint64_t want = before + static_cast<uint64_t>(res > 0 ? res : 0);
  if (after == want) return true;
  ctx.fail("{}: file position {:#x} after {} at position {:#x}; it must be {:#x}{}", what, after,
           res >= 0 ? fmt::format("a {}-byte transfer", res) : "an error " + errno_name(static_cast<int>(-res)),
           before, want, res > 0 && after == before ? ": the position did not move" : "");
  return false;
}

bool is_write(const std::string& method) { return method.find("write") != std::string::npos; }

// One transfer of buf[0, len) at the file position; returns bytes or -errno.
int64_t transfer(const std::string& method, std::optional<Ring>& ring, int fd, char* buf, size_t len) {
  // Two iovecs when the length allows two block-aligned halves.
  const size_t first = len >= 8192 ? (len / 2) & ~size_t{4095} : len;
  iovec iov[2] = {{buf, first}, {buf + first, len - first}};
  const int niov = first < len ? 2 : 1;
  auto sys = [](ssize_t n) { return n < 0 ? -static_cast<int64_t>(errno) : static_cast<int64_t>(n); };
  if (method == "write") return sys(::write(fd, buf, len));
  if (method == "writev") return sys(::writev(fd, iov, niov));
  if (method == "read") return sys(::read(fd, buf, len));
  if (method == "readv") return sys(::readv(fd, iov, niov));
  const uint64_t at_position = static_cast<uint64_t>(-1);
  if (!ring) ring.emplace(4);
  return ring->run_one([&](io_uring_sqe* s) {
    if (method == "uring-write") io_uring_prep_write(s, fd, buf, static_cast<unsigned>(len), at_position);
    else if (method == "uring-writev") io_uring_prep_writev(s, fd, iov, niov, at_position);
    else if (method == "uring-read") io_uring_prep_read(s, fd, buf, static_cast<unsigned>(len), at_position);
    else io_uring_prep_readv(s, fd, iov, niov, at_position);
  });
}

void run(Context& ctx) {
  const size_t ps = page_size();
  const uint64_t new_seed = ctx.seed() ^ 0x9051;
  std::optional<Ring> ring;  // only for the io_uring methods
  for (const Variant& v : ctx.variants()) {
    for (uint64_t len : ctx.param_sizes("sizes")) {
      for (const std::string& method : ctx.param_list("methods")) {
        for (const std::string& tail : ctx.param_list("buffers")) {
          const bool short_buf = tail == "prot-none-tail";
          if (short_buf && len < 2 * ps) continue;  // needs an accessible page before the PROT_NONE one
          const bool write = is_write(method);
          const std::string name = fmt::format("{}/{}-{}-{}", v.name, method, format_size(len), tail);
          // The file holds 4*len of the old pattern; the transfers start at len.
          Fd fd = open_or_throw(v.dir / "position", O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
          prefill(fd.get(), 4 * len, ctx.seed());
          if (::lseek(fd.get(), static_cast<off_t>(len), SEEK_SET) < 0) throw_errno("lseek");

          for (int round = 1; round <= 2; ++round) {
            const uint64_t before = position(fd.get());
            Mapping buf = Mapping::anonymous(len);
            if (write) fill_pattern(buf.data(), len, before, new_seed);
            else std::memset(buf.data(), 0, len);
            if (short_buf && ::mprotect(buf.data() + len - ps, ps, PROT_NONE) != 0) throw_errno("mprotect");
            const std::string what = fmt::format("{} #{}", name, round);
            int64_t res = traced_io(ctx, v.name + " " + method, what, write, fd.get(), before, len,
                                    [&] { return transfer(method, ring, fd.get(), buf.data(), len); });
            if (res < 0 && skip_if_unsupported(ctx, method, static_cast<int>(-res))) break;
            const uint64_t after = position(fd.get());
            ctx.log("{}: position {:#x} -> {:#x}, returned {}", what, before, after, res);
            check_position(ctx, what, before, res, after);
            // A whole buffer must go in one transfer; a short one must stop
            // before the PROT_NONE page. Either way the bytes transferred
            // must be the right ones.
            // (Whether EFAULT may come back after some bytes moved is
            // partial-dio-user-copy's question; here only the position must
            // agree with what was returned.)
            if (short_buf && res == -EFAULT) {
              ctx.log("{}: EFAULT; the position must not have moved", what);
              break;
            }
            const uint64_t expect = short_buf ? static_cast<uint64_t>(std::max<int64_t>(res, 0)) : len;
            if (short_buf && res == static_cast<int64_t>(len))
              ctx.fail("{}: {} bytes transferred although the last page of the buffer is PROT_NONE", what, res);
            AlignedBuffer want(len);
            fill_pattern(want.data(), len, before, write ? new_seed : ctx.seed());
            if (!write) {
              check_read(ctx, what, res, buf.data(), want.data(), expect, before, 4 * len);
            } else if (check_write(ctx, what, res, expect, before) && res > 0) {
              verify_file_range(ctx, what, fd.get(), before, want.data(), static_cast<uint64_t>(res));
            }
            if (res <= 0) break;
          }
          if (write) report_written_layout(ctx, name, fd.get(), len, 2 * len);
        }
      }
    }
  }
}

// Self-test: pwrite(2) on the O_DIRECT fd, judged as if it were a write(2):
// the position does not move, which check_position() must report.
void selftest(Context& ctx) {
  const uint64_t len = 64 << 10;
  AlignedBuffer buf(len);
  fill_pattern(buf.data(), len, len, ctx.seed());
  for (const Variant& v : ctx.variants()) {
    Fd fd = open_or_throw(v.dir / "position", O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
    if (::lseek(fd.get(), static_cast<off_t>(len), SEEK_SET) < 0) throw_errno("lseek");
    const uint64_t before = position(fd.get());
    int64_t res = traced_pwrite(ctx, v.name + " pwrite", "pwrite standing in for write(2)", fd.get(), buf.data(),
                                len, before);
    check_write(ctx, v.name + " pwrite", res, len, before);
    check_position(ctx, v.name + " pwrite judged as write(2)", before, res, position(fd.get()));
  }
}

const KernelCommit kFix{"936e114a245b", "iomap: update ki_pos a little later in iomap_dio_complete"};

std::vector<ParamSpec> params(const char* methods) {
  return {param::sizes("sizes", "4k,256k", "bytes per transfer", 4096, 64 << 20),
          param::choices("methods", methods, "how the transfer uses the file position", split(kMethods, ',')),
          param::choices("buffers", "whole,prot-none-tail", "whole buffer, or its last page PROT_NONE (a short transfer)",
                         {"whole", "prot-none-tail"})};
}

const CaseRegistrar reg({
    .id = "dio-file-position",
    .groups = {"auto", "quick", "position", "write", "read"},
    .description = "write/writev/read/readv on O_DIRECT advance the file position by exactly the count returned",
    .fixed_by = {kFix},
    .params = params(kSyscalls),
    .timeout_s = 120,
    .fn = run,
});

// The same check for io_uring at the file position (offset -1), a case of
// its own so that a known failure of one does not hide the other.
const CaseRegistrar uring_reg({
    .id = "dio-file-position-uring",
    .groups = {"auto", "quick", "position", "write", "read", "uring"},
    .description = "io_uring read/write at offset -1 on O_DIRECT advance the file position by exactly the count returned",
    .fixed_by = {kFix},
    .needs = {Need::IoUring},
    .params = params(kUring),
    .timeout_s = 120,
    .fn = run,
});

const CaseRegistrar selftest_reg({
    .id = "selftest-dio-file-position",
    .groups = {"selftest"},
    .description = "Self-test of dio-file-position (expect FAIL: the position did not move): pwrite judged as write(2)",
    .fixed_by = {kFix},
    .timeout_s = 60,
    .fn = selftest,
});

}  // namespace
}  // namespace dt
