#include "lib/btrfs/chunk_map.hpp"

#include <linux/btrfs.h>
#include <linux/btrfs_tree.h>

#include <algorithm>
#include <cstring>

#include "lib/btrfs/tree_search.hpp"

namespace dt {

namespace {
uint64_t le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

// GF(2^8) multiply by 2 with the raid6 polynomial x^8+x^4+x^3+x^2+1.
uint8_t gf_mul2(uint8_t v) { return static_cast<uint8_t>((v << 1) ^ ((v & 0x80) ? 0x1d : 0)); }
}  // namespace

bool Chunk::is_data() const { return type & BTRFS_BLOCK_GROUP_DATA; }
bool Chunk::is_raid56() const { return type & BTRFS_BLOCK_GROUP_RAID56_MASK; }
unsigned Chunk::parity_stripes() const {
  if (type & BTRFS_BLOCK_GROUP_RAID6) return 2;
  if (type & BTRFS_BLOCK_GROUP_RAID5) return 1;
  return 0;
}
unsigned Chunk::data_stripes() const { return num_stripes - parity_stripes(); }
unsigned Chunk::copies() const {
  if (type & (BTRFS_BLOCK_GROUP_RAID1_MASK | BTRFS_BLOCK_GROUP_DUP)) return num_stripes;
  if (type & BTRFS_BLOCK_GROUP_RAID10) return sub_stripes;
  return 1;  // single, raid0, raid5, raid6
}

std::optional<Chunk> parse_chunk_item(uint64_t key_offset, std::span<const uint8_t> item) {
  constexpr size_t kHead = offsetof(btrfs_chunk, stripe);
  if (item.size() < kHead) return std::nullopt;
  const uint8_t* p = item.data();
  Chunk c;
  c.logical = key_offset;
  c.length = le64(p + offsetof(btrfs_chunk, length));
  c.stripe_len = le64(p + offsetof(btrfs_chunk, stripe_len));
  c.type = le64(p + offsetof(btrfs_chunk, type));
  c.num_stripes = le16(p + offsetof(btrfs_chunk, num_stripes));
  c.sub_stripes = le16(p + offsetof(btrfs_chunk, sub_stripes));
  if (c.num_stripes == 0 || c.stripe_len == 0) return std::nullopt;
  if (item.size() < kHead + c.num_stripes * sizeof(btrfs_stripe)) return std::nullopt;
  for (unsigned i = 0; i < c.num_stripes; ++i) {
    const uint8_t* s = p + kHead + i * sizeof(btrfs_stripe);
    c.stripes.push_back({le64(s + offsetof(btrfs_stripe, devid)), le64(s + offsetof(btrfs_stripe, offset))});
  }
  if ((c.type & BTRFS_BLOCK_GROUP_RAID10) && (c.sub_stripes == 0 || c.num_stripes % c.sub_stripes)) return std::nullopt;
  if (c.is_raid56() && c.num_stripes <= c.parity_stripes()) return std::nullopt;
  return c;
}

uint64_t contiguous_bytes(const Chunk& c, uint64_t logical) {
  const uint64_t off = logical - c.logical;
  // Copies of single/dup/raid1* are linear over the whole chunk.
  if (!(c.type & (BTRFS_BLOCK_GROUP_RAID0 | BTRFS_BLOCK_GROUP_RAID10 | BTRFS_BLOCK_GROUP_RAID56_MASK)))
    return c.length - off;
  return std::min(c.stripe_len - off % c.stripe_len, c.length - off);
}

std::vector<Placement> map_copies(const Chunk& c, uint64_t logical) {
  const uint64_t off = logical - c.logical;
  const uint64_t stripe_off = off % c.stripe_len;
  uint64_t nr = off / c.stripe_len;  // stripe element number in the chunk
  std::vector<Placement> out;
  auto place = [&](unsigned idx, uint64_t row) {
    out.push_back({c.stripes[idx].devid, c.stripes[idx].offset + row * c.stripe_len + stripe_off, idx});
  };
  if (c.type & BTRFS_BLOCK_GROUP_RAID0) {
    place(static_cast<unsigned>(nr % c.num_stripes), nr / c.num_stripes);
  } else if (c.type & BTRFS_BLOCK_GROUP_RAID10) {
    const unsigned factor = c.num_stripes / c.sub_stripes;
    const unsigned first = static_cast<unsigned>(nr % factor) * c.sub_stripes;
    for (unsigned k = 0; k < c.sub_stripes; ++k) place(first + k, nr / factor);
  } else if (c.is_raid56()) {
    const unsigned nd = c.data_stripes();
    const uint64_t row = nr / nd;
    place(static_cast<unsigned>((nr % nd + row) % c.num_stripes), row);
  } else {
    for (unsigned i = 0; i < c.num_stripes; ++i) place(i, nr);
  }
  return out;
}

FullStripe full_stripe(const Chunk& c, uint64_t logical) {
  const unsigned nd = c.data_stripes();
  const uint64_t row = (logical - c.logical) / c.stripe_len / nd;
  FullStripe fs;
  fs.logical = c.logical + row * nd * c.stripe_len;
  auto at = [&](unsigned k) {
    const unsigned idx = static_cast<unsigned>((row + k) % c.num_stripes);
    return Placement{c.stripes[idx].devid, c.stripes[idx].offset + row * c.stripe_len, idx};
  };
  for (unsigned k = 0; k < nd; ++k) fs.data.push_back(at(k));
  fs.p = at(nd);
  if (c.parity_stripes() == 2) fs.q = at(nd + 1);
  return fs;
}

void raid5_parity(const std::vector<std::span<const uint8_t>>& data, std::span<uint8_t> p) {
  std::fill(p.begin(), p.end(), 0);
  for (const auto& d : data)
    for (size_t i = 0; i < p.size(); ++i) p[i] ^= d[i];
}

void raid6_q(const std::vector<std::span<const uint8_t>>& data, std::span<uint8_t> q) {
  // Horner's rule from the highest data index: Q = ((D_n-1 * g + D_n-2) * g ...) + D_0.
  std::fill(q.begin(), q.end(), 0);
  for (size_t k = data.size(); k-- > 0;)
    for (size_t i = 0; i < q.size(); ++i) q[i] = gf_mul2(q[i]) ^ data[k][i];
}

const Chunk* find_chunk(const std::vector<Chunk>& chunks, uint64_t logical) {
  auto it = std::upper_bound(chunks.begin(), chunks.end(), logical,
                             [](uint64_t l, const Chunk& c) { return l < c.logical; });
  if (it == chunks.begin()) return nullptr;
  --it;
  return it->contains(logical) ? &*it : nullptr;
}

std::vector<Chunk> read_chunk_tree(int fd) {
  std::vector<Chunk> out;
  tree_search(fd, BTRFS_CHUNK_TREE_OBJECTID, BTRFS_FIRST_CHUNK_TREE_OBJECTID, BTRFS_CHUNK_ITEM_KEY, "chunk tree",
              [&](const TreeItem& item) {
                if (auto c = parse_chunk_item(item.offset, item.data)) out.push_back(std::move(*c));
              });
  std::sort(out.begin(), out.end(), [](const Chunk& a, const Chunk& b) { return a.logical < b.logical; });
  return out;
}

}  // namespace dt
