#include "lib/torture/model.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "lib/io/pattern.hpp"

namespace dt {
namespace {

std::vector<uint8_t> expected(const FileModel& m, uint64_t off, uint64_t len, std::vector<uint8_t>* undef = nullptr) {
  std::vector<uint8_t> w(len), u(len);
  m.expect(off, len, w.data(), u.data());
  if (undef) *undef = u;
  return w;
}

std::vector<uint8_t> pattern(uint64_t off, uint64_t len, uint64_t seed) {
  std::vector<uint8_t> v(len);
  fill_pattern(reinterpret_cast<char*>(v.data()), len, off, seed);
  return v;
}

TEST(FileModel, WriteExtendsWithZeroGapAndOverwrites) {
  FileModel m;
  m.write_pattern(8192, 4096, 7);
  EXPECT_EQ(m.size(), 12288u);
  EXPECT_EQ(expected(m, 0, 8192), std::vector<uint8_t>(8192, 0));
  EXPECT_EQ(expected(m, 8192, 4096), pattern(8192, 4096, 7));
  m.write_pattern(10000, 100, 9);
  auto got = expected(m, 9990, 120);
  auto want = pattern(9990, 120, 7);
  auto mid = pattern(10000, 100, 9);
  std::copy(mid.begin(), mid.end(), want.begin() + 10);
  EXPECT_EQ(got, want);
  ASSERT_EQ(m.data_ranges().size(), 1u);
  EXPECT_EQ(m.data_ranges()[0], std::make_pair(uint64_t{8192}, uint64_t{12288}));
}

TEST(FileModel, ReadPastSizeIsZeroAndTruncateForgets) {
  FileModel m;
  m.write_pattern(0, 8192, 3);
  m.truncate(100);
  EXPECT_EQ(m.size(), 100u);
  m.truncate(4096);
  auto got = expected(m, 0, 8192);
  auto want = pattern(0, 100, 3);
  want.resize(8192, 0);
  EXPECT_EQ(got, want);
}

TEST(FileModel, PunchAndZeroKeepSize) {
  FileModel m;
  m.write_pattern(0, 16384, 5);
  m.zero(4096, 4096);
  m.zero(15000, 100000);  // clipped to the size
  EXPECT_EQ(m.size(), 16384u);
  auto got = expected(m, 0, 16384);
  auto want = pattern(0, 16384, 5);
  std::fill(want.begin() + 4096, want.begin() + 8192, 0);
  std::fill(want.begin() + 15000, want.end(), 0);
  EXPECT_EQ(got, want);
  EXPECT_EQ(m.data_ranges().size(), 2u);
}

TEST(FileModel, CopyKeepsPositionOfSource) {
  FileModel a, b;
  a.write_pattern(0, 65536, 11);
  b.copy_from(a, 4096, 100, 8192);
  EXPECT_EQ(b.size(), 8292u);
  EXPECT_EQ(expected(b, 100, 8192), pattern(4096, 8192, 11));
  // Copy within one file, overlapping.
  a.copy_from(a, 0, 1000, 4096);
  EXPECT_EQ(expected(a, 1000, 4096), pattern(0, 4096, 11));
  EXPECT_EQ(expected(a, 0, 1000), pattern(0, 1000, 11));
}

TEST(FileModel, UndefinedIsAdoptedThenStable) {
  FileModel m;
  m.write_pattern(0, 8192, 1);
  m.write_undefined(1000, 3000);
  EXPECT_TRUE(m.has_undefined());
  std::vector<uint8_t> undef;
  expected(m, 0, 8192, &undef);
  EXPECT_EQ(undef[999], 0);
  EXPECT_EQ(undef[1000], 1);
  EXPECT_EQ(undef[3999], 1);
  EXPECT_EQ(undef[4000], 0);
  std::vector<uint8_t> seen(8192, 0x42);
  m.adopt(0, 8192, seen.data());
  EXPECT_FALSE(m.has_undefined());
  auto after = expected(m, 0, 8192, &undef);
  EXPECT_EQ(after[1000], 0x42);
  EXPECT_EQ(after[3999], 0x42);
  EXPECT_EQ(after[0], pattern(0, 1, 1)[0]);
  EXPECT_EQ(std::count(undef.begin(), undef.end(), 1), 0);
  // Observed bytes travel with a copy.
  FileModel c;
  c.copy_from(m, 2000, 0, 10);
  EXPECT_EQ(expected(c, 0, 10), std::vector<uint8_t>(10, 0x42));
}

TEST(FileModel, UndefineStaysInsideTheSize) {
  FileModel m;
  m.write_pattern(0, 8192, 4);
  m.undefine(4096, 100000);
  EXPECT_EQ(m.size(), 8192u);
  std::vector<uint8_t> undef;
  expected(m, 0, 8192, &undef);
  EXPECT_EQ(undef[4095], 0);
  EXPECT_EQ(undef[4096], 1);
  EXPECT_EQ(undef[8191], 1);
  m.undefine(9000, 10);
  EXPECT_EQ(m.size(), 8192u);
}

TEST(FileModel, UndefinedSeenAsZerosMayBeAHole) {
  FileModel m;
  m.write_pattern(0, 8192, 4);
  m.undefine(0, 8192);
  std::vector<uint8_t> zeros(8192, 0);
  m.adopt(0, 8192, zeros.data());
  EXPECT_TRUE(m.data_ranges().empty());
  EXPECT_EQ(expected(m, 0, 8192), zeros);
  // Block by block: a zero block among data blocks may be a hole.
  FileModel n;
  n.write_pattern(0, 12288, 4);
  n.undefine(0, 12288);
  std::vector<uint8_t> seen(12288, 7);
  std::fill(seen.begin() + 4096, seen.begin() + 8192, 0);
  n.adopt(0, 12288, seen.data());
  ASSERT_EQ(n.data_ranges().size(), 2u);
  EXPECT_EQ(n.data_ranges()[1].first, 8192u);
  EXPECT_EQ(expected(n, 0, 12288), seen);
}

TEST(FileModel, SegmentsMergeAndDescribe) {
  FileModel m;
  m.write_pattern(0, 4096, 2);
  m.write_pattern(4096, 4096, 2);
  EXPECT_EQ(m.segments().size(), 1u);
  EXPECT_NE(m.describe().find("pattern"), std::string::npos);
}

}  // namespace
}  // namespace dt
