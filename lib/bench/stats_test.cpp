#include "lib/bench/stats.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace dt {
namespace {

TEST(Summarize, OddAndEvenSamples) {
  Summary s = summarize({5, 1, 3});
  EXPECT_EQ(s.n, 3u);
  EXPECT_DOUBLE_EQ(s.median, 3);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 5);
  EXPECT_DOUBLE_EQ(s.mean, 3);
  EXPECT_DOUBLE_EQ(s.stddev, 2);
  EXPECT_NEAR(s.cv, 2.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(summarize({4, 1, 2, 3}).median, 2.5);
}

TEST(Summarize, SingleSampleHasNoSpread) {
  Summary s = summarize({7});
  EXPECT_DOUBLE_EQ(s.median, 7);
  EXPECT_DOUBLE_EQ(s.stddev, 0);
  EXPECT_DOUBLE_EQ(s.cv, 0);
  EXPECT_EQ(summarize({}).n, 0u);
}

TEST(MannWhitney, CompletelySeparatedFiveAgainstFive) {
  MannWhitney r = mann_whitney_u({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10});
  EXPECT_DOUBLE_EQ(r.u, 0);
  EXPECT_TRUE(r.exact);
  EXPECT_NEAR(r.p, 2.0 / 252.0, 1e-12);  // two of C(10,5) arrangements are as extreme
  MannWhitney s = mann_whitney_u({6, 7, 8, 9, 10}, {1, 2, 3, 4, 5});
  EXPECT_DOUBLE_EQ(s.u, 25);
  EXPECT_NEAR(s.p, r.p, 1e-12);
}

TEST(MannWhitney, KnownExactValue) {
  // Five against four, U = 17: P(U >= 17) = P(U <= 3) = 7 / 126.
  MannWhitney r = mann_whitney_u({19, 22, 16, 29, 24}, {20, 11, 17, 12});
  EXPECT_DOUBLE_EQ(r.u, 17);
  EXPECT_TRUE(r.exact);
  EXPECT_NEAR(r.p, 14.0 / 126.0, 1e-12);
}

TEST(MannWhitney, TiesUseTheCorrectedNormalApproximation) {
  // U = 0.5; variance 9/12 * (7 - 6/30) = 5.1; z = (4.5 - 0.5 - 0.5) / sqrt(5.1).
  MannWhitney r = mann_whitney_u({1, 2, 3}, {3, 4, 5});
  EXPECT_DOUBLE_EQ(r.u, 0.5);
  EXPECT_FALSE(r.exact);
  EXPECT_NEAR(r.p, 0.1212, 5e-4);
  EXPECT_DOUBLE_EQ(mann_whitney_u({5, 5, 5}, {5, 5, 5}).p, 1.0);
}

TEST(MannWhitney, SmallSamplesCannotBeSignificant) {
  EXPECT_DOUBLE_EQ(mann_whitney_u({1}, {2}).p, 1.0);
  EXPECT_NEAR(min_two_sided_p(1, 5), 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(min_two_sided_p(3, 3), 0.1, 1e-12);
  EXPECT_NEAR(min_two_sided_p(4, 4), 2.0 / 70.0, 1e-12);
  EXPECT_THROW(mann_whitney_u({}, {1}), std::invalid_argument);
}

}  // namespace
}  // namespace dt
