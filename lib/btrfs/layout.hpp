// Building and verifying on-disk file layouts. FIEMAP merges physically
// contiguous extents, so a "4-extent file" is never assumed: the builder
// interleaves a spacer file to force distinct physical placement, and
// check_layout() proves the result piece by piece.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "lib/sys/sys.hpp"

namespace dt {

struct Extent {
  uint64_t logical = 0;
  uint64_t physical = 0;
  uint64_t length = 0;
  uint32_t flags = 0;  // FIEMAP_EXTENT_*
  bool unwritten() const;
};

// FIEMAP with FIEMAP_FLAG_SYNC over the whole file.
std::vector<Extent> fiemap(int fd);

// One piece of a layout: a data extent, a hole, or a preallocated extent.
enum class Piece : char { Data = 'D', Hole = 'H', Prealloc = 'P' };

struct LayoutSpec {
  std::vector<Piece> pieces;
  uint64_t piece_size = 4096;

  uint64_t file_size() const { return pieces.size() * piece_size; }
  // "DDHP" -> pieces; returns false on other letters.
  static bool parse(const std::string& letters, uint64_t piece_size, LayoutSpec* out);
  std::string letters() const;
  // Named mixes used by the cases: "data" (n data extents), "hole" (one hole
  // in the middle), "prealloc" (one preallocated extent in the middle).
  static LayoutSpec named(const std::string& mix, unsigned n, uint64_t piece_size);
};

struct LayoutCheck {
  bool ok = false;
  unsigned data_extents = 0;
  unsigned prealloc_extents = 0;
  unsigned holes = 0;
  std::vector<std::string> problems;
  std::string summary;  // one line for the case log and summary.json
};

// Pure logic: does this FIEMAP output realise this spec, with every data and
// prealloc piece its own extent, not physically contiguous with its neighbour?
LayoutCheck check_layout(const LayoutSpec& spec, const std::vector<Extent>& extents);

// [start, end) ranges SEEK_HOLE/SEEK_DATA report as holes inside [off, off+len).
struct Range {
  uint64_t start = 0, end = 0;
};
std::vector<Range> holes_in(int fd, uint64_t off, uint64_t len);

// What a write left in [off, off+len): extents overlapping it and holes.
// ok is false when there is a hole; the holes themselves are failures that
// verify_file_range() reports with their offsets.
LayoutCheck describe_written_range(int fd, const std::vector<Extent>& extents, uint64_t off, uint64_t len);

std::string describe_extents(const std::vector<Extent>& extents, size_t max = 16);

// How many file extent items (EXTENT_DATA keys) the file has in its
// subvolume's tree: what a read or a NOCOW write looks up, and what FIEMAP
// hides by merging physically contiguous items. nullopt where the tree
// cannot be searched (not root, not btrfs, a block device).
std::optional<uint64_t> file_extent_items(int fd);

// Creates `path` (truncating it) with the spec's pieces, filling data pieces
// with fill_pattern(seed); between pieces it appends to `spacer` and syncs,
// so that consecutive pieces land on non-adjacent disk blocks.
Fd build_layout(const std::filesystem::path& path, const LayoutSpec& spec, uint64_t seed, int spacer_fd);

}  // namespace dt
