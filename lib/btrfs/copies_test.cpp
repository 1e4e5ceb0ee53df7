#include "lib/btrfs/copies.hpp"

#include <gtest/gtest.h>

namespace dt {
namespace {

TEST(DiffCopies, IdenticalCopiesDoNotDiffer) {
  std::vector<uint8_t> a(4096, 7), b(4096, 7);
  BlockDiff d = diff_copies({a, b});
  EXPECT_TRUE(d.differing.empty());
  EXPECT_EQ(d.count, 0u);
}

TEST(DiffCopies, NamesTheDifferingCopyFirstByteAndCount) {
  std::vector<uint8_t> a(4096, 0), b(4096, 0), c(4096, 0);
  c[100] = 1;
  c[101] = 1;
  c[4095] = 9;
  BlockDiff d = diff_copies({a, b, c});
  ASSERT_EQ(d.differing.size(), 1u);
  EXPECT_EQ(d.differing[0], 2u);
  EXPECT_EQ(d.first_diff, 100u);
  EXPECT_EQ(d.count, 3u);
}

TEST(DiffCopies, MajorityNamesTheOddCopyEvenIfItIsTheFirst) {
  std::vector<uint8_t> a(512, 1), b(512, 0), c(512, 0);
  a[0] = 0;
  a[7] = 0;
  BlockDiff d = diff_copies({a, b, c});
  EXPECT_TRUE(d.majority);
  EXPECT_EQ(d.reference, 1u);
  EXPECT_EQ(d.differing, (std::vector<unsigned>{0}));
  EXPECT_EQ(d.first_diff, 1u);
  EXPECT_EQ(d.count, 510u);
}

TEST(DiffCopies, TwoDisagreeingCopiesHaveNoMajority) {
  std::vector<uint8_t> a(512, 1), b(512, 2);
  BlockDiff d = diff_copies({a, b});
  EXPECT_FALSE(d.majority);
  EXPECT_EQ(d.reference, 0u);
  EXPECT_EQ(d.differing, (std::vector<unsigned>{1}));
  EXPECT_EQ(d.count, 512u);
}

TEST(DescribeMismatch, ListsEveryCopyAndMarksTheBadOne) {
  BlockMismatch m{.kind = "copies differ", .file_offset = 0x3000, .logical = 0x1503000};
  m.locations = {{"copy 1", 1, 0x1503000}, {"copy 2", 2, 0x103000}};
  m.differing = {1};
  m.first_diff = 17;
  m.count = 4096;
  EXPECT_EQ(describe_mismatch(m),
            "copies differ at file offset 0x3000, logical 0x1503000: first differing byte 17 of the block, 4096 "
            "bytes differ; copy 1 devid 1 physical 0x1503000, copy 2 devid 2 physical 0x103000 (differs)");
}

}  // namespace
}  // namespace dt
