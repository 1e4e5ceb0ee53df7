#include "lib/crash/points.hpp"

#include <gtest/gtest.h>

namespace dt {
namespace {

// W W F(2) M0 W F(5) W M1 F(8) W W W F(12) M2 W
WriteLog sample() {
  WriteLog wl;
  const char* kinds = "WWFMWFWMFWWWFMW";
  for (uint64_t i = 0; kinds[i]; ++i) {
    LogEntry e;
    e.index = i;
    if (kinds[i] == 'F') e.flags = kLogFlush;
    else e.nr_sectors = 8;
    wl.entries.push_back(e);
  }
  return wl;
}

}  // namespace

TEST(CrashPoints, EveryFlushAfterTheFirstAckAndTheEnd) {
  const WriteLog wl = sample();
  const std::vector<uint64_t> markers = {3, 7, 13};
  auto pts = choose_crash_points(wl, markers, {0, 0, 1});
  ASSERT_EQ(pts.size(), 4u);  // flushes 5, 8, 12 and the end
  EXPECT_EQ(pts[0].cut, 6u);
  EXPECT_EQ(pts[0].acked, 1u);  // only ack 0 (marker at 3) before entry 6
  EXPECT_EQ(pts[1].acked, 2u);  // marker 7 < 9
  EXPECT_EQ(pts[2].acked, 2u);  // marker 13 is after flush 12
  EXPECT_EQ(pts[3].cut, wl.entries.size());
  EXPECT_EQ(pts[3].acked, 3u);
}

TEST(CrashPoints, FlushesRightAfterAnAckComeFirst) {
  const WriteLog wl = sample();
  auto pts = choose_crash_points(wl, {3, 7, 13}, {1, 0, 1});
  // One point: the last of the "first flush after an ack" ones (5 after 3, 8 after 7), plus the end.
  ASSERT_EQ(pts.size(), 2u);
  EXPECT_EQ(pts[0].cut, 9u);
}

TEST(CrashPoints, SubsetsKeepOnlyUnflushedWrites) {
  const WriteLog wl = sample();
  auto pts = choose_crash_points(wl, {3, 7, 13}, {0, 3, 42});
  for (const auto& p : pts) {
    for (uint64_t i : p.extra) {
      EXPECT_GE(i, p.applied_upto);
      EXPECT_LT(i, p.cut);
      EXPECT_TRUE(wl.entries[i].write());
    }
    if (!p.extra.empty()) {
      EXPECT_GT(p.cut, p.applied_upto);
    }
  }
  // The same seed gives the same states.
  auto again = choose_crash_points(wl, {3, 7, 13}, {0, 3, 42});
  ASSERT_EQ(again.size(), pts.size());
  for (size_t i = 0; i < pts.size(); ++i) EXPECT_EQ(again[i].extra, pts[i].extra);
}

}  // namespace dt
