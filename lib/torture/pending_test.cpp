#include "lib/torture/pending.hpp"

#include <gtest/gtest.h>

namespace dt {
namespace {

TEST(PendingRanges, LaterOpsTakeOverWhatTheyChangeAndTakeClips) {
  PendingRanges p;
  p.add(0, 100, "pwrite");
  p.add(50, 150, "punch");  // the second half is now the punch's
  EXPECT_EQ(p.bytes(), 150u);
  auto got = p.take(20, 60);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], (PendingPiece{20, 50, "pwrite"}));
  EXPECT_EQ(got[1], (PendingPiece{50, 60, "punch"}));
  EXPECT_EQ(p.bytes(), 110u);  // [0,20) and [60,150) still owed
  auto rest = p.take_all();
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0], (PendingPiece{0, 20, "pwrite"}));
  EXPECT_EQ(rest[1], (PendingPiece{60, 150, "punch"}));
  EXPECT_TRUE(p.empty());
}

TEST(PendingRanges, NeighboursOfOneOpJoinAndOthersStaySeparate) {
  PendingRanges p;
  p.add(0, 10, "pwrite");
  p.add(10, 20, "pwrite");
  p.add(30, 40, "pwrite");
  p.add(20, 30, "pwrite");
  EXPECT_EQ(p.take_all(), (std::vector<PendingPiece>{{0, 40, "pwrite"}}));
  p.add(0, 10, "pwrite");
  p.add(10, 20, "uring-write");
  EXPECT_EQ(p.take_all().size(), 2u);
  EXPECT_TRUE(p.take(0, 0).empty());
}

TEST(ReadBackDue, ASeededScheduleOfAboutOneInSixteen) {
  unsigned due = 0;
  for (uint64_t seq = 1; seq <= 16000; ++seq) due += read_back_due(1, seq);
  EXPECT_GT(due, 800u);
  EXPECT_LT(due, 1200u);
  for (uint64_t seq = 1; seq <= 100; ++seq) EXPECT_EQ(read_back_due(7, seq), read_back_due(7, seq));
  unsigned differ = 0;
  for (uint64_t seq = 1; seq <= 1000; ++seq) differ += read_back_due(1, seq) != read_back_due(2, seq);
  EXPECT_GT(differ, 50u);  // another seed, another schedule
}

}  // namespace
}  // namespace dt
