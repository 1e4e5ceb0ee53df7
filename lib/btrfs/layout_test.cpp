#include "lib/btrfs/layout.hpp"

#include <gtest/gtest.h>
#include <linux/fiemap.h>

namespace dt {
namespace {

constexpr uint64_t K4 = 4096;

LayoutSpec spec(const char* letters) {
  LayoutSpec s;
  EXPECT_TRUE(LayoutSpec::parse(letters, K4, &s));
  return s;
}

TEST(Layout, SeparateNonContiguousExtentsVerify) {
  std::vector<Extent> e = {{0, 0x100000, K4, 0}, {K4, 0x102000, K4, 0}, {2 * K4, 0x104000, K4, FIEMAP_EXTENT_LAST}};
  auto r = check_layout(spec("DDD"), e);
  EXPECT_TRUE(r.ok) << r.summary;
  EXPECT_EQ(3u, r.data_extents);
  EXPECT_NE(std::string::npos, r.summary.find("verified distinct"));
}

TEST(Layout, MergedExtentIsNotAsBuilt) {
  // FIEMAP merged two pieces that were physically contiguous.
  std::vector<Extent> e = {{0, 0x100000, 2 * K4, 0}};
  auto r = check_layout(spec("DD"), e);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(std::string::npos, r.problems.at(0).find("merged or split"));
}

TEST(Layout, PhysicallyContiguousNeighboursAreRejected) {
  std::vector<Extent> e = {{0, 0x100000, K4, 0}, {K4, 0x101000, K4, 0}};
  auto r = check_layout(spec("DD"), e);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(std::string::npos, r.problems.at(0).find("physically contiguous"));
}

TEST(Layout, HoleAndPreallocAreChecked) {
  std::vector<Extent> e = {{0, 0x100000, K4, 0}, {2 * K4, 0x108000, K4, FIEMAP_EXTENT_UNWRITTEN},
                           {3 * K4, 0x10a000, K4, 0}};
  auto r = check_layout(spec("DHPD"), e);
  EXPECT_TRUE(r.ok) << (r.problems.empty() ? "" : r.problems[0]);
  EXPECT_EQ(1u, r.holes);
  EXPECT_EQ(1u, r.prealloc_extents);
  EXPECT_EQ(2u, r.data_extents);
}

TEST(Layout, MissingHoleOrWrongKindIsReported) {
  std::vector<Extent> e = {{0, 0x100000, K4, 0}, {K4, 0x108000, K4, 0}};
  auto r = check_layout(spec("DP"), e);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(std::string::npos, r.problems.at(0).find("expected prealloc"));
  r = check_layout(spec("DH"), e);
  EXPECT_NE(std::string::npos, r.problems.at(0).find("expected a hole"));
  r = check_layout(spec("DDD"), e);
  EXPECT_NE(std::string::npos, r.problems.at(0).find("found a hole"));
}

TEST(Layout, NamedMixesPutTheOddPieceInTheMiddle) {
  EXPECT_EQ("DDHDD", LayoutSpec::named("hole", 5, K4).letters());
  EXPECT_EQ("DDPD", LayoutSpec::named("prealloc", 4, K4).letters());
  EXPECT_EQ("DD", LayoutSpec::named("hole", 2, K4).letters());
  LayoutSpec s;
  EXPECT_FALSE(LayoutSpec::parse("DXD", K4, &s));
}

}  // namespace
}  // namespace dt
