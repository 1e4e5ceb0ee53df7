#include "lib/btrfs/chunk_map.hpp"

#include <gtest/gtest.h>
#include <linux/btrfs_tree.h>

#include <cstring>

namespace dt {
namespace {

constexpr uint64_t K64 = 64 * 1024;
constexpr uint64_t M = 1 << 20;

// A chunk item as the kernel stores it (little endian, packed).
std::vector<uint8_t> item(uint64_t length, uint64_t type, std::vector<ChunkStripe> stripes, uint16_t sub = 1) {
  std::vector<uint8_t> b(offsetof(btrfs_chunk, stripe) + stripes.size() * sizeof(btrfs_stripe));
  auto put64 = [&](size_t at, uint64_t v) {
    for (int i = 0; i < 8; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
  };
  put64(offsetof(btrfs_chunk, length), length);
  put64(offsetof(btrfs_chunk, stripe_len), K64);
  put64(offsetof(btrfs_chunk, type), type);
  b[offsetof(btrfs_chunk, num_stripes)] = static_cast<uint8_t>(stripes.size());
  b[offsetof(btrfs_chunk, sub_stripes)] = static_cast<uint8_t>(sub);
  for (size_t i = 0; i < stripes.size(); ++i) {
    size_t s = offsetof(btrfs_chunk, stripe) + i * sizeof(btrfs_stripe);
    put64(s + offsetof(btrfs_stripe, devid), stripes[i].devid);
    put64(s + offsetof(btrfs_stripe, offset), stripes[i].offset);
  }
  return b;
}

Chunk chunk(uint64_t logical, uint64_t length, uint64_t type, std::vector<ChunkStripe> stripes, uint16_t sub = 1) {
  auto b = item(length, type | BTRFS_BLOCK_GROUP_DATA, stripes, sub);
  auto c = parse_chunk_item(logical, b);
  EXPECT_TRUE(c.has_value());
  return *c;
}

TEST(ChunkMap, ParsesItem) {
  Chunk c = chunk(300 * M, 1024 * M, BTRFS_BLOCK_GROUP_RAID1, {{1, 22 * M}, {2, 1 * M}});
  EXPECT_EQ(c.logical, 300 * M);
  EXPECT_EQ(c.length, 1024 * M);
  EXPECT_EQ(c.stripe_len, K64);
  EXPECT_EQ(c.num_stripes, 2);
  ASSERT_EQ(c.stripes.size(), 2u);
  EXPECT_EQ(c.stripes[1].devid, 2u);
  EXPECT_EQ(c.stripes[1].offset, 1 * M);
  EXPECT_EQ(c.copies(), 2u);
  EXPECT_TRUE(c.is_data());
  EXPECT_EQ(profile_name(c.type), "raid1");
}

TEST(ChunkMap, RejectsTruncatedItem) {
  auto b = item(M, BTRFS_BLOCK_GROUP_RAID1, {{1, 0}, {2, 0}});
  b.resize(b.size() - 1);
  EXPECT_FALSE(parse_chunk_item(0, b).has_value());
}

TEST(ChunkMap, MirroredProfilesAreLinearOnEveryCopy) {
  Chunk c = chunk(100 * M, 256 * M, BTRFS_BLOCK_GROUP_RAID1C3, {{1, 10 * M}, {2, 20 * M}, {3, 30 * M}});
  auto p = map_copies(c, 100 * M + 5 * K64 + 4096);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].physical, 10 * M + 5 * K64 + 4096);
  EXPECT_EQ(p[1].physical, 20 * M + 5 * K64 + 4096);
  EXPECT_EQ(p[2].devid, 3u);
  EXPECT_EQ(contiguous_bytes(c, 100 * M + 4096), 256 * M - 4096);
  Chunk dup = chunk(0, 8 * M, BTRFS_BLOCK_GROUP_DUP, {{1, 40 * M}, {1, 48 * M}});
  auto d = map_copies(dup, 3 * M);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].devid, d[1].devid);
  EXPECT_EQ(d[1].physical, 51 * M);
}

TEST(ChunkMap, Raid0RotatesStripes) {
  Chunk c = chunk(0, 64 * M, BTRFS_BLOCK_GROUP_RAID0, {{1, M}, {2, 2 * M}, {3, 3 * M}});
  // Stripe element 4 -> device index 1, row 1.
  auto p = map_copies(c, 4 * K64 + 100);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].devid, 2u);
  EXPECT_EQ(p[0].physical, 2 * M + K64 + 100);
  EXPECT_EQ(contiguous_bytes(c, 4 * K64 + 100), K64 - 100);
}

TEST(ChunkMap, Raid10PairsSubStripes) {
  Chunk c = chunk(0, 64 * M, BTRFS_BLOCK_GROUP_RAID10, {{1, 0}, {2, 0}, {3, 0}, {4, 0}}, 2);
  EXPECT_EQ(c.copies(), 2u);
  auto p0 = map_copies(c, 0);
  ASSERT_EQ(p0.size(), 2u);
  EXPECT_EQ(p0[0].devid, 1u);
  EXPECT_EQ(p0[1].devid, 2u);
  auto p1 = map_copies(c, K64);
  EXPECT_EQ(p1[0].devid, 3u);
  EXPECT_EQ(p1[1].devid, 4u);
  EXPECT_EQ(p1[0].physical, 0u);
  auto p2 = map_copies(c, 2 * K64 + 8);
  EXPECT_EQ(p2[0].devid, 1u);
  EXPECT_EQ(p2[0].physical, K64 + 8);
}

TEST(ChunkMap, Raid5RotatesParity) {
  Chunk c = chunk(0, 64 * M, BTRFS_BLOCK_GROUP_RAID5, {{1, 0}, {2, 0}, {3, 0}});
  EXPECT_EQ(c.data_stripes(), 2u);
  EXPECT_EQ(c.copies(), 1u);
  // Row 0: data on 1, 2; parity on 3.  Row 1: data on 2, 3; parity on 1.
  auto f0 = full_stripe(c, 100);
  EXPECT_EQ(f0.logical, 0u);
  EXPECT_EQ(f0.data[0].devid, 1u);
  EXPECT_EQ(f0.data[1].devid, 2u);
  EXPECT_EQ(f0.p.devid, 3u);
  EXPECT_FALSE(f0.q.has_value());
  auto f1 = full_stripe(c, 3 * K64 + 5);
  EXPECT_EQ(f1.logical, 2 * K64);
  EXPECT_EQ(f1.data[0].devid, 2u);
  EXPECT_EQ(f1.data[1].devid, 3u);
  EXPECT_EQ(f1.p.devid, 1u);
  EXPECT_EQ(f1.p.physical, K64);
  // map_copies agrees with full_stripe about where data lives.
  auto d = map_copies(c, 3 * K64 + 5);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].devid, 3u);
  EXPECT_EQ(d[0].physical, K64 + 5);
}

TEST(ChunkMap, Raid6HasPAndQ) {
  Chunk c = chunk(0, 64 * M, BTRFS_BLOCK_GROUP_RAID6, {{1, 0}, {2, 0}, {3, 0}, {4, 0}});
  EXPECT_EQ(c.data_stripes(), 2u);
  auto f = full_stripe(c, 0);
  EXPECT_EQ(f.p.devid, 3u);
  ASSERT_TRUE(f.q.has_value());
  EXPECT_EQ(f.q->devid, 4u);
  auto g = full_stripe(c, 2 * K64);
  EXPECT_EQ(g.p.devid, 4u);
  EXPECT_EQ(g.q->devid, 1u);
}

TEST(ChunkMap, FindChunk) {
  std::vector<Chunk> cs = {chunk(M, M, 0, {{1, 0}}), chunk(4 * M, 2 * M, 0, {{1, M}})};
  EXPECT_EQ(find_chunk(cs, 0), nullptr);
  EXPECT_EQ(find_chunk(cs, M)->logical, M);
  EXPECT_EQ(find_chunk(cs, 2 * M), nullptr);
  EXPECT_EQ(find_chunk(cs, 6 * M - 1)->logical, 4 * M);
  EXPECT_EQ(find_chunk(cs, 6 * M), nullptr);
}

TEST(Parity, Raid5IsXorAndRebuildsAMissingElement) {
  std::vector<uint8_t> a = {1, 2, 3, 0xff}, b = {0x10, 0x20, 0x30, 0x0f}, p(4);
  raid5_parity({a, b}, p);
  EXPECT_EQ(p, (std::vector<uint8_t>{0x11, 0x22, 0x33, 0xf0}));
  std::vector<uint8_t> rebuilt(4);
  raid5_parity({p, b}, rebuilt);
  EXPECT_EQ(rebuilt, a);
}

TEST(Parity, Raid6QKnownValues) {
  // Q = D0 + g*D1 + g^2*D2 over GF(2^8), g = 2, polynomial 0x11d.
  std::vector<uint8_t> d0 = {1, 0, 0, 0}, d1 = {1, 0x80, 0, 0}, d2 = {0, 0, 1, 0x80}, q(4);
  raid6_q({d0, d1, d2}, q);
  EXPECT_EQ(q[0], 3);     // 1 + 2
  EXPECT_EQ(q[1], 0x1d);  // 2 * 0x80 wraps through the polynomial
  EXPECT_EQ(q[2], 4);     // g^2
  EXPECT_EQ(q[3], 0x3a);  // 4 * 0x80 = 2 * 0x1d
}

}  // namespace
}  // namespace dt
