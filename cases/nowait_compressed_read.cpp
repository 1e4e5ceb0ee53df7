// Description: a NOWAIT O_DIRECT read over a regular extent followed by a
// compressed extent (or of an inline extent) must return every byte or
// EAGAIN, never a short count. Before a4527e1853f8 ("btrfs: return -EAGAIN
// for NOWAIT dio reads/writes on compressed and inline extents") the direct
// read did the regular extent, then answered -ENOTBLK at the compressed one
// to fall back to buffered; the buffered read, still NOWAIT, found the
// compressed range not cached (or the buffer not faulted in) and returned
// only what the direct part had read: QEMU and MariaDB saw short reads
// (btrfs/linux#538). On kernels with ca93e44bfb5f a multi-extent NOWAIT
// read already answers EAGAIN first, which this case counts and reports.
// The compressed extent comes from `btrfs property set compression zstd`
// and a buffered write of compressible data; FIEMAP must flag it encoded.
#include <fcntl.h>
#include <linux/fiemap.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>

#include "lib/btrfs/layout.hpp"
#include "cases/common/check.hpp"
#include "lib/harness/context.hpp"
#include "cases/common/read_matrix.hpp"
#include "lib/io/pattern.hpp"
#include "cases/common/read_methods.hpp"

namespace dt {
namespace {

// Compressible data that still names its page: each 4 KiB page is one byte
// value derived from its offset and the seed.
void fill_compressible(char* buf, size_t len, uint64_t file_off, uint64_t seed) {
  for (size_t p = 0; p < len; p += 4096)
    std::memset(buf + p, static_cast<int>(((file_off + p) / 4096 * 31 + seed) % 251 + 1), std::min<size_t>(4096, len - p));
}

void set_compression(int fd) {
  if (::fsetxattr(fd, "btrfs.compression", "zstd", 4, 0) != 0) throw_errno("set btrfs.compression=zstd");
}

// "regular+compressed": [0, piece) a regular extent written with O_DIRECT,
// [piece, 2*piece) a compressed extent. "inline": `piece` bytes (< 2 KiB) in
// an inline extent. Returns the expected content; the layout is proven by the caller.
std::vector<char> build(const std::filesystem::path& path, const std::string& layout, uint64_t piece, uint64_t seed,
                        int spacer) {
  std::filesystem::remove(path);
  std::vector<char> want;
  if (layout == "inline") {
    want.resize(piece);
    fill_compressible(want.data(), piece, 0, seed);
    Fd f = open_or_throw(path, O_RDWR | O_CREAT | O_TRUNC);
    write_all(f.get(), std::string_view(want.data(), want.size()));
    if (::fsync(f.get()) != 0) throw_errno("fsync");
    return want;
  }
  want.resize(2 * piece);
  fill_pattern(want.data(), piece, 0, seed);
  fill_compressible(want.data() + piece, piece, piece, seed);
  {
    Fd d = open_or_throw(path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
    AlignedBuffer b(piece);
    std::memcpy(b.data(), want.data(), piece);
    if (::pwrite(d.get(), b.data(), piece, 0) != static_cast<ssize_t>(piece)) throw_errno("pwrite regular extent");
    if (::fsync(d.get()) != 0) throw_errno("fsync");
  }
  // A spacer block between them, so the two extents are not adjacent on disk.
  AlignedBuffer gap(4096);
  if (::write(spacer, gap.data(), 4096) != 4096 || ::fsync(spacer) != 0) throw_errno("spacer write");
  Fd f = open_or_throw(path, O_RDWR);
  set_compression(f.get());
  if (::pwrite(f.get(), want.data() + piece, piece, static_cast<off_t>(piece)) != static_cast<ssize_t>(piece))
    throw_errno("buffered write of the compressed extent");
  if (::fsync(f.get()) != 0) throw_errno("fsync");
  return want;
}

// FIEMAP proof of the layout: extent 0 plain, extent 1 encoded (compressed),
// or one inline extent.
LayoutCheck check(const std::string& layout, const std::vector<Extent>& ex, uint64_t piece) {
  LayoutCheck c;
  std::string kinds;
  for (const Extent& e : ex)
    kinds += fmt::format("{}{:#x} {}", kinds.empty() ? "" : ", ", e.logical,
                         e.flags & FIEMAP_EXTENT_DATA_INLINE ? "inline"
                         : e.flags & FIEMAP_EXTENT_ENCODED   ? "encoded (compressed)"
                                                             : "plain");
  if (layout == "inline") {
    c.ok = ex.size() == 1 && (ex[0].flags & FIEMAP_EXTENT_DATA_INLINE);
    if (!c.ok) c.problems.push_back("expected one inline extent (FIEMAP_EXTENT_DATA_INLINE)");
  } else {
    c.ok = ex.size() == 2 && ex[0].logical == 0 && !(ex[0].flags & FIEMAP_EXTENT_ENCODED) && ex[1].logical == piece &&
           (ex[1].flags & FIEMAP_EXTENT_ENCODED);
    if (!c.ok) c.problems.push_back("expected a plain extent at 0 and an encoded (compressed) extent after it");
    c.data_extents = static_cast<unsigned>(ex.size());
  }
  c.summary = fmt::format("{}: {}{}", layout, kinds.empty() ? "no extents" : kinds, c.ok ? ", verified" : "");
  return c;
}

void run(Context& ctx) {
  const uint64_t piece = ctx.param_u64("extent-size");
  const unsigned iterations = ctx.iterations(2);
  NowaitReads tally;
  Ring ring(4);
  for (const Variant& v : ctx.variants()) {
    if (!v.checksummed) {
      ctx.log("{}: skipped: btrfs compresses only files with data checksums (not NOCOW)", v.name);
      continue;
    }
    Fd spacer = open_or_throw(v.dir / "spacer", O_RDWR | O_CREAT | O_APPEND);
    for (const std::string& layout : ctx.param_list("layouts")) {
      const uint64_t p = layout == "inline" ? 1000 : piece;
      const auto path = v.dir / layout;
      const std::string name = fmt::format("{}/{}-{}", v.name, layout, format_size(p));
      const std::vector<char> want = build(path, layout, p, ctx.seed(), spacer.get());
      const uint64_t isize = want.size();
      Fd fd = open_or_throw(path, O_RDONLY | O_DIRECT);
      const auto extents = fiemap(fd.get());
      if (!ctx.report_layout(name, check(layout, extents, p), extents)) continue;
      // The read asks for whole pages; an inline file ends inside the first.
      const size_t len = (isize + 4095) / 4096 * 4096;
      // The compressed range must not be cached, as in the report: the
      // buffered fallback would then find its pages and not cut short.
      nowait_read_matrix(ctx, ring, v.name, name, fd.get(), len, want.data(), isize, iterations, &tally, true);
    }
  }
  report_nowait_reads(ctx, tally);
}

const CaseRegistrar reg({
    .id = "nowait-compressed-read",
    .groups = {"auto", "quick", "nowait", "read", "uring", "compress"},
    .description = "NOWAIT O_DIRECT read over a regular then a compressed extent, or an inline one: full or EAGAIN",
    .fixed_by = {{"a4527e1853f8", "btrfs: return -EAGAIN for NOWAIT dio reads/writes on compressed and inline extents"}},
    .needs = {Need::IoUring, Need::Compression},
    .params = {param::choices("layouts", "regular+compressed,inline", "what the read covers",
                               {"regular+compressed", "inline"}),
               param::size("extent-size", "64k", "size of the regular and of the compressed extent", 8192, 128 << 10),
               param::choices("methods", "readv,read,preadv2-nowait", "how the read is submitted",
                               split(kNowaitReadMethods, ',')),
               param::choices("touch", "none,first,all", "buffer pages faulted in before the read",
                               split(kTouchPatterns, ','))},
    .timeout_s = 120,
    .fn = run,
});

}  // namespace
}  // namespace dt
