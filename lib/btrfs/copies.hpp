// The copy reader: every stored copy of a file's bytes, read from the devices
// themselves. File range -> btrfs logical addresses (FIEMAP) -> the chunk map
// (chunk_map.hpp) -> (devid, physical offset) of every copy -> O_DIRECT reads
// of the device paths the filesystem reports (BTRFS_IOC_FS_INFO/DEV_INFO), so
// it works the same on self-provisioned loop devices and on a user's
// multi-device mount. Nothing here writes, except corrupt_copy(), which the
// self-tests use on scratch devices only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "lib/btrfs/chunk_map.hpp"
#include "lib/sys/sys.hpp"

namespace dt {

struct BtrfsDevice {
  uint64_t devid = 0;
  std::string path;
  uint64_t total_bytes = 0;
  uint64_t bytes_used = 0;
};

struct BtrfsFsDevices {
  std::string fsid;
  uint32_t sectorsize = 4096;
  std::vector<BtrfsDevice> devices;
  std::string csum_type;  // "crc32c", "xxhash64", ...
};

// BTRFS_IOC_FS_INFO + BTRFS_IOC_DEV_INFO for every devid up to max_id.
BtrfsFsDevices btrfs_devices(int fd);

// "devid 1 /dev/loop0 (4G)" for every device of the btrfs holding `dir`,
// for run headers and result files.
std::vector<std::string> describe_btrfs_devices(const std::filesystem::path& dir);

// One place a block lives: a copy, a raid56 data stripe element, P or Q.
struct CopyLocation {
  std::string role;  // "copy 1", "copy 2", ..., "data 0", "P", "Q"
  uint64_t devid = 0;
  uint64_t physical = 0;
};

struct BlockMismatch {
  std::string kind;  // "copies differ", "P parity mismatch", "Q parity mismatch"
  uint64_t file_offset = 0;
  uint64_t logical = 0;
  std::vector<CopyLocation> locations;  // every copy of this block (raid56: data element, P, Q)
  std::vector<unsigned> differing;      // indices into locations: the odd ones out / the bad parity
  std::string differs_note = "differs"; // how a differing location is marked in the description
  uint32_t first_diff = 0;              // first differing byte inside the block
  uint32_t count = 0;                   // differing bytes inside the block
};

struct CopyComparison {
  std::string profile;            // data profile(s) of the chunks the range lives in
  uint64_t blocks = 0;            // file blocks compared
  unsigned max_copies = 0;        // copies per block (1 for raid0/raid5/raid6/single)
  uint64_t parity_stripes = 0;    // raid56 full stripes whose parity was recomputed
  uint64_t not_comparable = 0;    // bytes in inline/encoded/unwritten/delalloc extents
  std::vector<BlockMismatch> mismatches;
  bool compared_anything() const { return blocks > 0 && (max_copies > 1 || parity_stripes > 0); }
};

// Pure: which of `copies` differ from the reference copy, the first
// differing byte and how many bytes differ (the largest count over the
// copies). The reference is the content a strict majority of copies holds;
// without one (two copies that disagree) it is copies[0] and nothing says
// which copy is right.
struct BlockDiff {
  std::vector<unsigned> differing;
  unsigned reference = 0;
  bool majority = false;
  uint32_t first_diff = 0;
  uint32_t count = 0;
};
BlockDiff diff_copies(const std::vector<std::span<const uint8_t>>& copies);

std::string describe_mismatch(const BlockMismatch& m);

class CopyReader {
 public:
  // `path` is any file or directory on the filesystem (needs root).
  explicit CopyReader(const std::filesystem::path& path);

  const BtrfsFsDevices& devices() const { return devs_; }
  const std::vector<Chunk>& chunks() const { return chunks_; }
  // Re-reads the devices and the chunk tree: writes may have allocated new
  // chunks, device add/remove/replace changed where they are.
  void refresh();
  // "raid1" (or "raid1+single" while a conversion is half done).
  std::string data_profile() const;
  // Fewest copies any data chunk keeps, and whether any data chunk has parity.
  unsigned min_data_copies() const;
  bool data_has_parity() const;

  // Reads `out.size()` bytes at `physical` of device `devid` with O_DIRECT.
  void read(uint64_t devid, uint64_t physical, std::span<uint8_t> out);
  const std::string& device_path(uint64_t devid) const;

  // Syncs fd's data, then compares every copy (and raid56 parity) of every
  // sectorsize block of [off, off+len).
  CopyComparison compare(int fd, uint64_t off, uint64_t len);

  // Every copy of the block at file offset `off` (for the self-tests).
  std::vector<CopyLocation> locate(int fd, uint64_t off);

 private:
  int device_fd(uint64_t devid);
  void compare_mirrored(const Chunk& c, uint64_t logical, uint64_t len, uint64_t file_off, CopyComparison* out);
  // Logical start of each compared file run -> (file offset, length).
  struct FileRun {
    uint64_t file_off = 0, len = 0;
  };
  using LogicalIndex = std::map<uint64_t, FileRun>;
  void check_parity(const Chunk& c, uint64_t stripe_logical, const LogicalIndex& index, CopyComparison* out);

  std::filesystem::path path_;
  Fd fs_fd_;
  BtrfsFsDevices devs_;
  std::vector<Chunk> chunks_;
  std::map<uint64_t, Fd> dev_fds_;
};

// A read-only scrub (BTRFS_IOC_SCRUB with BTRFS_SCRUB_READONLY) of every
// device, summed: it verifies data checksums and metadata on every copy and
// repairs nothing. Blocks until done.
struct ScrubTotals {
  uint64_t data_bytes = 0, read_errors = 0, csum_errors = 0, verify_errors = 0, super_errors = 0,
           uncorrectable = 0, no_csum_blocks = 0;
  uint64_t errors() const { return read_errors + csum_errors + verify_errors + super_errors + uncorrectable; }
  // Errors in data or metadata. A superblock copy with an older generation is
  // not one after a power cut: btrfs writes the copies without a flush
  // between them and rewrites them all at the next commit.
  uint64_t errors_beyond_supers() const { return errors() - super_errors; }
  std::string summary() const;
};
ScrubTotals scrub_readonly(int fs_fd, const BtrfsFsDevices& devs);

// Overwrites `len` bytes at `physical` on device `path` with O_DIRECT (after
// reading the aligned block around it), flipping every bit. Only for
// self-tests on devices this tool provisioned.
void corrupt_copy(const std::string& device_path, uint64_t physical, uint32_t len);

}  // namespace dt
