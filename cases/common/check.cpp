#include "cases/common/check.hpp"

#include <unistd.h>

#include <cerrno>

#include "lib/btrfs/layout.hpp"
#include "lib/io/pattern.hpp"
#include "lib/sys/sys.hpp"

namespace dt {

bool check_read(Context& ctx, const std::string& what, int64_t res, const char* got, const char* want, uint64_t len,
                uint64_t off, uint64_t isize) {
  bool ok = true;
  std::string t = check_transfer(what.c_str(), res, len, off, isize, true);
  if (!t.empty()) {
    ctx.record_failure(t);
    ok = false;
  }
  if (res > 0) {
    uint64_t total = 0;
    auto bad = diff_ranges(got, want, static_cast<size_t>(res), off, 64, &total);
    if (!bad.empty()) {
      ctx.record_failure(what + ": " + describe_bad_ranges(bad, total));
      ok = false;
    }
  }
  return ok;
}

bool check_write(Context& ctx, const std::string& what, int64_t res, uint64_t len, uint64_t off) {
  std::string t = check_transfer(what.c_str(), res, len, off, 0, false);
  if (t.empty()) return true;
  ctx.record_failure(t);
  return false;
}

bool verify_file_range(Context& ctx, const std::string& what, int fd_direct, uint64_t off, const char* want,
                       uint64_t len, bool holes_are_errors) {
  AlignedBuffer got(len);
  uint64_t done = 0;
  while (done < len) {
    ssize_t n = ::pread(fd_direct, got.data() + done, len - done, static_cast<off_t>(off + done));
    if (n <= 0) {
      ctx.fail("{}: read-back at {:#x} returned {}{}", what, off + done, n,
               n < 0 ? " (" + errno_name(errno) + ")" : " (EOF)");
      return false;
    }
    done += static_cast<uint64_t>(n);
  }
  bool ok = true;
  uint64_t total = 0;
  auto bad = diff_ranges(got.data(), want, len, off, 64, &total);
  if (!bad.empty()) {
    ctx.record_failure(what + ": " + describe_bad_ranges(bad, total));
    ok = false;
  }
  for (const auto& h : holes_are_errors ? holes_in(fd_direct, off, len) : std::vector<Range>{}) {
    ctx.fail("{}: unexpected hole [{:#x},{:#x}) ({} bytes) inside the written range", what, h.start, h.end,
             h.end - h.start);
    ok = false;
  }
  return ok;
}

void report_written_layout(Context& ctx, const std::string& what, int fd, uint64_t off, uint64_t len) {
  auto extents = fiemap(fd);
  ctx.report_layout(what, describe_written_range(fd, extents, off, len), extents);
}

bool check_written_range(Context& ctx, const std::string& what, int fd_direct, uint64_t off, const char* want,
                         uint64_t len) {
  report_written_layout(ctx, what, fd_direct, off, len);
  return verify_file_range(ctx, what, fd_direct, off, want, len);
}

int64_t traced_io(Context& ctx, const std::string& key, const std::string& op, bool write, int fd, uint64_t off,
                  uint64_t len, const std::function<int64_t()>& io, PathCounts* counts) {
  PathReport pr{.op = op, .write = write};
  ctx.trace_start({fd});
  int64_t res = io();
  ctx.trace_stop(&pr, fd, off, len);
  if (counts) *counts = pr.counts;
  ctx.report_path(key, pr);
  return res;
}

int64_t traced_pwrite(Context& ctx, const std::string& key, const std::string& op, int fd, const void* buf,
                      uint64_t len, uint64_t off, PathCounts* counts) {
  return traced_io(
      ctx, key, op, true, fd, off, len,
      [&] {
        ssize_t n = ::pwrite(fd, buf, len, static_cast<off_t>(off));
        return n < 0 ? -static_cast<int64_t>(errno) : n;
      },
      counts);
}

int64_t traced_pread(Context& ctx, const std::string& key, const std::string& op, int fd, void* buf, uint64_t len,
                     uint64_t off) {
  return traced_io(ctx, key, op, false, fd, off, len, [&] {
    ssize_t n = ::pread(fd, buf, len, static_cast<off_t>(off));
    return n < 0 ? -static_cast<int64_t>(errno) : n;
  });
}

size_t report_copy_comparison(Context& ctx, const std::string& when, const CopyComparison& cmp) {
  constexpr size_t kMaxListed = 32;
  ctx.log("{}: compared {} blocks of {} on {} cop{}{}{}: {} differ", when, cmp.blocks, cmp.profile, cmp.max_copies,
          cmp.max_copies == 1 ? "y" : "ies",
          cmp.parity_stripes ? fmt::format(", parity of {} full stripes recomputed", cmp.parity_stripes) : "",
          cmp.not_comparable ? fmt::format(", {} bytes not comparable (inline/encoded/unwritten)", cmp.not_comparable)
                             : "",
          cmp.mismatches.size());
  if (!cmp.compared_anything()) ctx.fail("{}: no block had a second copy or parity to compare", when);
  for (size_t i = 0; i < cmp.mismatches.size() && i < kMaxListed; ++i)
    ctx.fail("{}: {}", when, describe_mismatch(cmp.mismatches[i]));
  if (cmp.mismatches.size() > kMaxListed)
    ctx.fail("{}: {} more mismatching blocks not listed", when, cmp.mismatches.size() - kMaxListed);
  ctx.metric("differing blocks", static_cast<double>(cmp.mismatches.size()), "blocks");
  return cmp.mismatches.size();
}

}  // namespace dt
