// Description: O_DIRECT read or write whose buffer is an mmap of the very file
// range being read or written. Seed 003: btrfs deadlocked (the fault on the
// buffer waited for the ordered extent or extent lock the dio itself held);
// fixed by 51bd9563b6 ("btrfs: fix deadlock due to page faults during direct
// IO reads and writes"), fstests generic/647 and generic/729. The thread notes
// a 1 MiB write could loop for over 60 s after the fix, so every operation's
// duration is logged. A hang here is caught by the runner's watchdog.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "lib/btrfs/layout.hpp"
#include "cases/common/check.hpp"
#include "lib/harness/context.hpp"
#include "lib/io/pattern.hpp"
#include "lib/io/uring.hpp"

namespace dt {
namespace {

// Builds a file of `size` bytes: the pattern (source "data") or one hole.
void make_source(Context& ctx, const std::filesystem::path& path, uint64_t size, bool data, const std::string& name) {
  LayoutSpec spec;
  LayoutSpec::parse(data ? "D" : "H", size, &spec);
  Fd fd = open_or_throw(path, O_RDWR | O_CREAT | O_TRUNC);
  if (data) {
    AlignedBuffer b(size);
    fill_pattern(b.data(), size, 0, ctx.seed());
    if (::pwrite(fd.get(), b.data(), size, 0) != static_cast<ssize_t>(size)) throw_errno("pwrite source");
  }
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) throw_errno("ftruncate");
  if (::fsync(fd.get()) != 0) throw_errno("fsync");
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);
  auto extents = fiemap(fd.get());
  LayoutCheck chk = check_layout(spec, extents);
  // A large buffered write may legitimately be split into several extents;
  // what this scenario needs is "all data, no hole" or "all hole".
  if (data && !chk.ok && holes_in(fd.get(), 0, size).empty()) {
    chk.ok = true;
    chk.problems.clear();
    chk.summary = fmt::format("layout D ({}): data in {} FIEMAP extents, no hole, verified", format_size(size),
                              extents.size());
  }
  ctx.report_layout(name, chk, extents);
}

void run(Context& ctx) {
  Ring ring(2);
  for (const Variant& v : ctx.variants()) {
    ctx.for_each_combination({"sizes", "sources", "maps", "ops", "engines"}, v.name, [&](const Combination& c) {
      const uint64_t size = c.size("sizes");
      const bool data = c["sources"] == "data", write = c["ops"] == "write";
      AlignedBuffer want(size);
      if (data) fill_pattern(want.data(), size, 0, ctx.seed());
      else std::memset(want.data(), 0, size);
      const auto path = v.dir / "f";
      make_source(ctx, path, size, data, c.name());
      Fd buffered = open_or_throw(path, O_RDWR);
      Fd direct = open_or_throw(path, O_RDWR | O_DIRECT);
      Mapping m = Mapping::file(buffered.get(), size, 0, PROT_READ | PROT_WRITE,
                                c["maps"] == "shared" ? MAP_SHARED : MAP_PRIVATE);
      PathReport pr{.op = c.name(), .write = write};
      ctx.trace_start({direct.get()});
      auto t0 = std::chrono::steady_clock::now();
      int64_t res;
      if (c["engines"] == "io_uring") {
        res = ring.run_one([&](io_uring_sqe* s) {
          if (write) io_uring_prep_write(s, direct.get(), m.data(), size, 0);
          else io_uring_prep_read(s, direct.get(), m.data(), size, 0);
        });
      } else {
        ssize_t n = write ? ::pwrite(direct.get(), m.data(), size, 0) : ::pread(direct.get(), m.data(), size, 0);
        res = n < 0 ? -errno : n;
      }
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      ctx.trace_stop(&pr, direct.get(), 0, size);
      ctx.log("{}: returned {} in {:.1f} ms", c.name(), res, ms);
      ctx.metric(fmt::format("{}_ms_max", c["ops"]), ms, "ms");
      ctx.report_path(fmt::format("{} {}", v.name, c["ops"]), pr);
      // A read lands the file's own bytes in the mapping: for both
      // MAP_SHARED (the page cache itself) and MAP_PRIVATE (private copies).
      if (write) check_write(ctx, c.name(), res, size, 0);
      else check_read(ctx, c.name() + " (mapping after read)", res, m.data(), want.data(), size, 0, size);
      m = Mapping();
      // The file must still hold what it held: the write wrote the same bytes back.
      verify_file_range(ctx, c.name(), direct.get(), 0, want.data(), size, /*holes_are_errors=*/write);
    });
  }
}

const CaseRegistrar reg({
    .id = "dio-mmap-same-range",
    .groups = {"auto", "quick", "mmap", "deadlock", "uring"},
    .description = "O_DIRECT read/write with the buffer mmapped onto the same file range must complete with full length",
    .fixed_by = {{"51bd9563b678", "btrfs: fix deadlock due to page faults during direct IO reads and writes"}},
    .fstests = {"generic/647", "generic/729"},
    .needs = {Need::IoUring},
    .params = {param::sizes("sizes", "4k,64k,1m,8m", "I/O sizes", 4096, 64 << 20),
               param::choices("ops", "read,write", "direct read into / write from the mapping", {"read", "write"}),
               param::choices("engines", "psync,io_uring", "pread/pwrite or io_uring read/write", {"psync", "io_uring"}),
               param::choices("maps", "shared,private", "MAP_SHARED or MAP_PRIVATE mapping of the file", {"shared", "private"}),
               param::choices("sources", "data,hole", "the range holds data or is a hole", {"data", "hole"})},
    .timeout_s = 180,
    .fn = run,
});

}  // namespace
}  // namespace dt
