#include "lib/io/pattern.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

namespace dt {
namespace {

TEST(Pattern, SameBytesForSameOffsetWhateverTheStart) {
  std::vector<char> whole(8192), part(1000);
  fill_pattern(whole.data(), whole.size(), 0, 42);
  fill_pattern(part.data(), part.size(), 3, 42);  // unaligned start
  EXPECT_EQ(0, memcmp(whole.data() + 3, part.data(), part.size()));
}

TEST(Pattern, SeedAndOffsetChangeTheData) {
  std::vector<char> a(4096), b(4096), c(4096);
  fill_pattern(a.data(), a.size(), 0, 1);
  fill_pattern(b.data(), b.size(), 0, 2);
  fill_pattern(c.data(), c.size(), 4096, 1);
  EXPECT_NE(0, memcmp(a.data(), b.data(), a.size()));
  EXPECT_NE(0, memcmp(a.data(), c.data(), a.size()));  // a shifted block is detectable
}

TEST(Pattern, NoAllZeroWord) {
  std::vector<char> a(1 << 16);
  fill_pattern(a.data(), a.size(), 0, 7);
  for (size_t i = 0; i < a.size(); i += 8) {
    uint64_t w;
    memcpy(&w, a.data() + i, 8);
    ASSERT_NE(0u, w) << i;
  }
}

TEST(DiffRanges, ReportsZeroFilledAndWrongRangesWithOffsets) {
  std::vector<char> want(16384), got;
  fill_pattern(want.data(), want.size(), 0x10000, 5);
  got = want;
  std::fill(got.begin() + 4096, got.begin() + 8192, 0);  // a zeroed page
  got[12000] ^= 1;                                          // one flipped byte
  uint64_t total = 0;
  auto r = diff_ranges(got.data(), want.data(), got.size(), 0x10000, 64, &total);
  ASSERT_EQ(2u, r.size());
  EXPECT_EQ(0x10000u + 4096, r[0].off);
  EXPECT_EQ(4096u, r[0].len);
  EXPECT_TRUE(r[0].zero_filled);
  EXPECT_EQ(0x10000u + 12000, r[1].off);
  EXPECT_EQ(1u, r[1].len);
  EXPECT_FALSE(r[1].zero_filled);
  EXPECT_EQ(4097u, total);
  std::string d = describe_bad_ranges(r, total);
  EXPECT_NE(std::string::npos, d.find("first bad byte at offset 0x11000")) << d;
  EXPECT_NE(std::string::npos, d.find("[0x11000,0x12000) zero-filled")) << d;
}

TEST(DiffRanges, IdenticalBuffersHaveNoRange) {
  std::vector<char> a(5000);
  fill_pattern(a.data(), a.size(), 0, 1);
  EXPECT_TRUE(diff_ranges(a.data(), a.data(), a.size(), 0).empty());
}

TEST(DiffRanges, CapsTheListButCountsEveryByte) {
  std::vector<char> want(512 * 100, 'a'), got(512 * 100, 'a');
  for (size_t s = 0; s < 100; s += 2) got[s * 512] = 'b';  // 50 separate bad sectors
  uint64_t total = 0;
  auto r = diff_ranges(got.data(), want.data(), got.size(), 0, 10, &total);
  EXPECT_EQ(10u, r.size());
  EXPECT_EQ(50u, total);
}

TEST(CheckTransfer, ShortReadInsideIsizeIsAFailure) {
  std::string m = check_transfer("io_uring readv", 4096, 8192, 0, 8192, true);
  EXPECT_EQ("short read (io_uring readv): 4096 of 8192 bytes at offset 0x0, range inside i_size 0x2000", m);
}

TEST(CheckTransfer, ReadStoppingAtEofIsLegal) {
  EXPECT_EQ("", check_transfer("read", 100, 8192, 8000, 8100, true));
  EXPECT_EQ("", check_transfer("read", 8192, 8192, 0, 8192, true));
}

TEST(CheckTransfer, ShortWriteAndErrors) {
  EXPECT_EQ("short write (pwrite): 10 of 20 bytes at offset 0x40", check_transfer("pwrite", 10, 20, 0x40, 0, false));
  EXPECT_EQ("pread of 20 bytes at offset 0x0 failed: EIO", check_transfer("pread", -EIO, 20, 0, 100, true));
}

}  // namespace
}  // namespace dt
