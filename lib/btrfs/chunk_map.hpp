// The btrfs chunk map: which device bytes hold a btrfs logical address.
// Parsed from the chunk tree (BTRFS_IOC_TREE_SEARCH_V2, never from
// btrfs-progs text) and evaluated the way the kernel's btrfs_map_block()
// places data: every stripe of single/dup/raid1* is a full copy, raid0 and
// raid10 rotate 64 KiB stripes over the devices, raid5/6 rotate the parity
// device by one per full stripe. The mapping and the parity arithmetic are
// pure, so they are unit-tested on hand-built chunks.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lib/btrfs/profile.hpp"

namespace dt {

struct ChunkStripe {
  uint64_t devid = 0;
  uint64_t offset = 0;  // physical byte offset of this stripe on its device
};

struct Chunk {
  uint64_t logical = 0;  // start in the btrfs logical address space
  uint64_t length = 0;
  uint64_t stripe_len = 0;
  uint64_t type = 0;  // BTRFS_BLOCK_GROUP_* flags
  uint16_t num_stripes = 0;
  uint16_t sub_stripes = 0;
  std::vector<ChunkStripe> stripes;

  bool contains(uint64_t l) const { return l >= logical && l - logical < length; }
  bool is_data() const;
  bool is_raid56() const;
  unsigned parity_stripes() const;  // 0, 1 (raid5) or 2 (raid6)
  unsigned data_stripes() const;    // per full stripe (raid56), else num_stripes
  // How many devices hold each data byte (2 for raid1/dup/raid10, 1 for raid0/raid5...).
  unsigned copies() const;
};

// One item of the chunk tree: key offset is the chunk's logical start.
// Returns nullopt if the item is shorter than its stripe count says.
std::optional<Chunk> parse_chunk_item(uint64_t key_offset, std::span<const uint8_t> item);

// Where one logical byte lives. For raid56 only the data stripe is named
// here; full_stripe() gives the parity.
struct Placement {
  uint64_t devid = 0;
  uint64_t physical = 0;
  unsigned stripe_index = 0;  // index into Chunk::stripes
};

// Every copy of `logical` (which must be inside `c`), in stripe order. The
// bytes from `logical` to the end of its stripe element (contiguous_bytes)
// are contiguous on every copy.
std::vector<Placement> map_copies(const Chunk& c, uint64_t logical);
uint64_t contiguous_bytes(const Chunk& c, uint64_t logical);

// A raid5/raid6 full stripe: the data stripe elements in logical order and P
// (and Q for raid6), each stripe_len bytes on one device.
struct FullStripe {
  uint64_t logical = 0;  // logical address of the first data byte
  std::vector<Placement> data;
  Placement p;
  std::optional<Placement> q;
};
FullStripe full_stripe(const Chunk& c, uint64_t logical);

// Parity arithmetic (raid5 P = xor, raid6 Q = sum of g^i * D_i over GF(2^8)
// with the polynomial 0x11d, the kernel's lib/raid6 convention).
void raid5_parity(const std::vector<std::span<const uint8_t>>& data, std::span<uint8_t> p);
void raid6_q(const std::vector<std::span<const uint8_t>>& data, std::span<uint8_t> q);

// The chunk containing `logical`, or nullptr.
const Chunk* find_chunk(const std::vector<Chunk>& chunks, uint64_t logical);

// Reads every chunk item of the filesystem holding fd (needs CAP_SYS_ADMIN).
// Throws std::system_error if the ioctl fails.
std::vector<Chunk> read_chunk_tree(int fd);

}  // namespace dt
