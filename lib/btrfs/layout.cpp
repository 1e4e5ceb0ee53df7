#include "lib/btrfs/layout.hpp"

#include <fcntl.h>
#include <linux/btrfs_tree.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>

#include "lib/btrfs/tree_search.hpp"
#include "lib/io/pattern.hpp"

namespace dt {

bool Extent::unwritten() const { return flags & FIEMAP_EXTENT_UNWRITTEN; }

std::vector<Extent> fiemap(int fd) {
  constexpr unsigned kBatch = 256;
  std::vector<Extent> out;
  uint64_t start = 0;
  for (;;) {
    size_t sz = sizeof(struct fiemap) + kBatch * sizeof(struct fiemap_extent);
    auto raw = std::make_unique<char[]>(sz);
    std::memset(raw.get(), 0, sz);
    auto* fm = reinterpret_cast<struct fiemap*>(raw.get());
    fm->fm_start = start;
    fm->fm_length = FIEMAP_MAX_OFFSET - start;
    fm->fm_flags = FIEMAP_FLAG_SYNC;
    fm->fm_extent_count = kBatch;
    if (::ioctl(fd, FS_IOC_FIEMAP, fm) != 0) throw_errno("FS_IOC_FIEMAP");
    if (fm->fm_mapped_extents == 0) break;
    bool last = false;
    for (unsigned i = 0; i < fm->fm_mapped_extents; ++i) {
      const fiemap_extent& e = fm->fm_extents[i];
      out.push_back({e.fe_logical, e.fe_physical, e.fe_length, e.fe_flags});
      if (e.fe_flags & FIEMAP_EXTENT_LAST) last = true;
    }
    if (last || fm->fm_mapped_extents < kBatch) break;
    const fiemap_extent& e = fm->fm_extents[fm->fm_mapped_extents - 1];
    start = e.fe_logical + e.fe_length;
  }
  return out;
}

bool LayoutSpec::parse(const std::string& letters, uint64_t piece_size, LayoutSpec* out) {
  LayoutSpec s;
  s.piece_size = piece_size;
  for (char c : letters) {
    if (c != 'D' && c != 'H' && c != 'P') return false;
    s.pieces.push_back(static_cast<Piece>(c));
  }
  if (s.pieces.empty() || piece_size == 0) return false;
  *out = s;
  return true;
}

std::string LayoutSpec::letters() const {
  std::string s;
  for (Piece p : pieces) s += static_cast<char>(p);
  return s;
}

LayoutSpec LayoutSpec::named(const std::string& mix, unsigned n, uint64_t piece_size) {
  LayoutSpec s;
  s.piece_size = piece_size;
  s.pieces.assign(n, Piece::Data);
  // The odd piece sits in the middle so that the read starts and ends on data:
  // a NOWAIT read must cross from data into it and out again.
  if (n >= 3 && mix == "hole") s.pieces[n / 2] = Piece::Hole;
  if (n >= 3 && mix == "prealloc") s.pieces[n / 2] = Piece::Prealloc;
  return s;
}

LayoutCheck check_layout(const LayoutSpec& spec, const std::vector<Extent>& extents) {
  LayoutCheck r;
  const uint64_t ps = spec.piece_size;
  const Extent* prev = nullptr;  // extent realising the previous non-hole piece
  size_t prev_index = 0;
  for (size_t i = 0; i < spec.pieces.size(); ++i) {
    const uint64_t lo = i * ps, hi = lo + ps;
    std::vector<const Extent*> overlapping;
    for (const auto& e : extents)
      if (e.logical < hi && e.logical + e.length > lo) overlapping.push_back(&e);
    const Piece want = spec.pieces[i];
    if (want == Piece::Hole) {
      if (overlapping.empty()) ++r.holes;
      else r.problems.push_back(fmt::format("piece {} at {:#x}: expected a hole, found an extent", i, lo));
      prev = nullptr;
      continue;
    }
    const char* kind = want == Piece::Data ? "data" : "prealloc";
    if (overlapping.empty()) {
      r.problems.push_back(fmt::format("piece {} at {:#x}: expected a {} extent, found a hole", i, lo, kind));
      prev = nullptr;
      continue;
    }
    const Extent& e = *overlapping.front();
    if (overlapping.size() > 1 || e.logical != lo || e.length != ps) {
      r.problems.push_back(fmt::format(
          "piece {} at {:#x}: expected its own {}-byte extent, FIEMAP shows [{:#x},+{:#x}) (merged or split)", i,
          lo, ps, e.logical, e.length));
      prev = nullptr;
      continue;
    }
    if (e.unwritten() != (want == Piece::Prealloc)) {
      r.problems.push_back(fmt::format("piece {} at {:#x}: expected {}, FIEMAP says {}", i, lo, kind,
                                       e.unwritten() ? "unwritten (prealloc)" : "written data"));
    }
    if (prev && prev->physical + prev->length == e.physical) {
      r.problems.push_back(fmt::format("pieces {} and {} are physically contiguous at {:#x}", prev_index, i,
                                       e.physical));
    }
    if (want == Piece::Data) ++r.data_extents;
    else ++r.prealloc_extents;
    prev = &e;
    prev_index = i;
  }
  r.ok = r.problems.empty();
  r.summary = fmt::format("layout {} ({}x{}): {} data extent{}, {} prealloc, {} hole{}, FIEMAP extents {}{}",
                          spec.letters(), spec.pieces.size(), format_size(ps), r.data_extents,
                          r.data_extents == 1 ? "" : "s", r.prealloc_extents, r.holes, r.holes == 1 ? "" : "s",
                          extents.size(), r.ok ? ", verified distinct" : ", NOT AS BUILT");
  return r;
}

std::vector<Range> holes_in(int fd, uint64_t off, uint64_t len) {
  std::vector<Range> out;
  const uint64_t end = off + len;
  uint64_t pos = off;
  while (pos < end) {
    off_t h = ::lseek(fd, static_cast<off_t>(pos), SEEK_HOLE);
    if (h < 0) {
      if (errno == ENXIO) break;  // pos is at or past EOF
      throw_errno("lseek SEEK_HOLE");
    }
    if (static_cast<uint64_t>(h) >= end) break;
    off_t d = ::lseek(fd, h, SEEK_DATA);
    uint64_t hole_end = (d < 0) ? end : std::min<uint64_t>(static_cast<uint64_t>(d), end);
    if (d < 0 && errno != ENXIO) throw_errno("lseek SEEK_DATA");
    out.push_back({static_cast<uint64_t>(h), hole_end});
    pos = hole_end;
  }
  return out;
}

LayoutCheck describe_written_range(int fd, const std::vector<Extent>& extents, uint64_t off, uint64_t len) {
  LayoutCheck chk;
  auto holes = holes_in(fd, off, len);
  for (const auto& e : extents) chk.data_extents += e.logical < off + len && e.logical + e.length > off;
  chk.holes = static_cast<unsigned>(holes.size());
  chk.ok = holes.empty();
  chk.summary = fmt::format("written range [{:#x},+{}): {} extent{}, {} hole{} ({})", off, format_size(len),
                            chk.data_extents, chk.data_extents == 1 ? "" : "s", chk.holes, chk.holes == 1 ? "" : "s",
                            chk.ok ? "FIEMAP and SEEK_HOLE verified" : "HOLES FOUND");
  return chk;
}

std::string describe_extents(const std::vector<Extent>& extents, size_t max) {
  std::string s;
  size_t n = 0;
  for (const auto& e : extents) {
    if (n++ == max) {
      s += fmt::format(" ...(+{})", extents.size() - max);
      break;
    }
    s += fmt::format(" [{:#x},+{:#x})@{:#x}{}", e.logical, e.length, e.physical, e.unwritten() ? "u" : "");
  }
  return s.empty() ? " (none)" : s;
}

Fd build_layout(const std::filesystem::path& path, const LayoutSpec& spec, uint64_t seed, int spacer_fd) {
  Fd fd = open_or_throw(path, O_RDWR | O_CREAT | O_TRUNC);
  const uint64_t ps = spec.piece_size;
  AlignedBuffer buf(ps);
  AlignedBuffer spacer(4096);
  std::memset(spacer.data(), 0x5c, spacer.size());
  auto add_spacer = [&] {
    if (::write(spacer_fd, spacer.data(), spacer.size()) != static_cast<ssize_t>(spacer.size()))
      throw_errno("spacer write");
    if (::fsync(spacer_fd) != 0) throw_errno("spacer fsync");
  };
  uint64_t prev_end = UINT64_MAX;  // physical end of the previous piece's extent
  for (size_t i = 0; i < spec.pieces.size(); ++i) {
    const uint64_t off = i * ps;
    if (spec.pieces[i] == Piece::Hole) {
      prev_end = UINT64_MAX;
      continue;
    }
    // Fragmented free space (files deleted by earlier cases) can still hand
    // out the blocks right after the previous piece; then punch the piece,
    // let the spacer take those blocks, and place it again.
    for (int attempt = 0;; ++attempt) {
      if (spec.pieces[i] == Piece::Data) {
        fill_pattern(buf.data(), ps, off, seed);
        if (::pwrite(fd.get(), buf.data(), ps, static_cast<off_t>(off)) != static_cast<ssize_t>(ps))
          throw_errno("build_layout pwrite " + path.string());
      } else if (::fallocate(fd.get(), 0, static_cast<off_t>(off), static_cast<off_t>(ps)) != 0) {
        throw_errno("build_layout fallocate " + path.string());
      }
      // Persist this piece's extent before the spacer allocates the next blocks.
      if (::fsync(fd.get()) != 0) throw_errno("fsync " + path.string());
      add_spacer();
      const Extent* mine = nullptr;
      const auto extents = fiemap(fd.get());
      for (const auto& e : extents)
        if (e.logical <= off && off < e.logical + e.length) mine = &e;
      const bool adjacent = mine && (mine->logical != off || mine->physical == prev_end);
      if (!adjacent || attempt == 8) {
        prev_end = mine ? mine->physical + (off + ps - mine->logical) : UINT64_MAX;
        break;
      }
      if (::fallocate(fd.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(off),
                      static_cast<off_t>(ps)) != 0)
        throw_errno("build_layout punch " + path.string());
      if (::fsync(fd.get()) != 0) throw_errno("fsync " + path.string());
      add_spacer();
    }
  }
  if (::ftruncate(fd.get(), static_cast<off_t>(spec.file_size())) != 0) throw_errno("ftruncate");
  if (::fsync(fd.get()) != 0) throw_errno("fsync " + path.string());
  // Clean pages left by building would be counted as page-cache residency of
  // the I/O under test: drop them.
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);
  return fd;
}

std::optional<uint64_t> file_extent_items(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  uint64_t n = 0;
  try {
    tree_search(fd, 0, st.st_ino, BTRFS_EXTENT_DATA_KEY, "file extent items", [&](const TreeItem&) { ++n; });
  } catch (const std::system_error&) {
    return std::nullopt;
  }
  return n;
}

}  // namespace dt
