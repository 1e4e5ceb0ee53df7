#include "lib/bench/stats.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
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

TEST(MannWhitney, TiesInSmallSamplesUseTheExactConditionalDistribution) {
  // Midranks 1 2 3.5 | 3.5 5 6: U = 0.5. Of the C(6,3) = 20 ways to pick the
  // first sample, two have a rank sum as small (1 2 3.5, with either 3.5), so
  // p = 2 x 2/20 = 0.2 (the normal approximation would say 0.12).
  MannWhitney r = mann_whitney_u({1, 2, 3}, {3, 4, 5});
  EXPECT_DOUBLE_EQ(r.u, 0.5);
  EXPECT_TRUE(r.exact);
  EXPECT_NEAR(r.p, 0.2, 1e-12);
  EXPECT_DOUBLE_EQ(mann_whitney_u({5, 5, 5}, {5, 5, 5}).p, 1.0);
  // Without ties it agrees with the exact distribution of U.
  EXPECT_NEAR(mann_whitney_u({1, 2, 3, 4, 5}, {5.5, 7, 8, 9, 10}).p, 2.0 / 252.0, 1e-12);
  // Ties at the edge between the samples: 1 1 2 | 2 3 3, U = 0.5 again, and
  // only the one arrangement with both 1s and a 2 is as extreme: p = 2 x 2/20.
  EXPECT_NEAR(mann_whitney_u({1, 1, 2}, {2, 3, 3}).p, 0.2, 1e-12);
}

TEST(MannWhitney, LargeTiedSamplesUseTheCorrectedNormalApproximation) {
  std::vector<double> a, b;
  for (int i = 0; i < 21; ++i) a.push_back(i % 3), b.push_back(2 + i % 3);
  MannWhitney r = mann_whitney_u(a, b);
  EXPECT_FALSE(r.exact);
  // Pooled: 7 0s, 7 1s, 14 2s, 7 3s, 7 4s; U = 7 x 7 x 0.5 (a's 2s against b's 2s).
  EXPECT_DOUBLE_EQ(r.u, 24.5);
  const double n = 42, tie = 4 * (7 * 7 * 7 - 7) + (14 * 14 * 14 - 14);
  const double var = 21.0 * 21.0 / 12 * ((n + 1) - tie / (n * (n - 1)));
  EXPECT_NEAR(r.p, std::erfc((220.5 - 24.5 - 0.5) / std::sqrt(var) / std::sqrt(2.0)), 1e-12);
}

TEST(MannWhitney, SmallSamplesCannotBeSignificant) {
  EXPECT_DOUBLE_EQ(mann_whitney_u({1}, {2}).p, 1.0);
  EXPECT_NEAR(min_two_sided_p(1, 5), 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(min_two_sided_p(3, 3), 0.1, 1e-12);
  EXPECT_NEAR(min_two_sided_p(4, 4), 2.0 / 70.0, 1e-12);
  EXPECT_THROW(mann_whitney_u({}, {1}), std::invalid_argument);
}

// The proofs `ab` rests on, with synthetic samples from a seeded generator
// (deterministic: the same numbers on every run and platform).
std::vector<double> normal_sample(SeededNormal& rng, size_t n, double mean, double cv) {
  std::vector<double> v;
  for (size_t i = 0; i < n; ++i) v.push_back(mean * (1 + cv * rng.normal()));
  return v;
}

TEST(ABProof, FivePercentShiftWithTwoPercentNoiseOverTenRoundsIsFlagged) {
  SeededNormal rng(2026);
  // One comparison as the issue states it ...
  const auto a = normal_sample(rng, 10, 1000, 0.02), b = normal_sample(rng, 10, 950, 0.02);
  EXPECT_LT(mann_whitney_u(a, b).p, 0.05);
  // ... and that it is no lucky draw: 1000 such comparisons, flagged in nearly all.
  int flagged = 0;
  for (int k = 0; k < 1000; ++k)
    flagged += mann_whitney_u(normal_sample(rng, 10, 1000, 0.02), normal_sample(rng, 10, 950, 0.02)).p < 0.05;
  EXPECT_GE(flagged, 990) << flagged << " of 1000";
  std::cout << "[ proof    ] 5 % shift, CV 2 %, 10 against 10: flagged in " << flagged << " of 1000\n";
}

TEST(ABProof, IdenticalDistributionsAreFlaggedAtMostAlphaOfTheTime) {
  SeededNormal rng(7);
  for (double alpha : {0.05, 0.01}) {
    int flagged = 0;
    for (int k = 0; k < 1000; ++k)
      flagged += mann_whitney_u(normal_sample(rng, 10, 1000, 0.02), normal_sample(rng, 10, 1000, 0.02)).p < alpha;
    EXPECT_LE(flagged, static_cast<int>(alpha * 1000)) << "alpha " << alpha;
    std::cout << "[ proof    ] identical, alpha " << alpha << ": flagged in " << flagged << " of 1000\n";
    EXPECT_GT(flagged, 0) << "a test that never fires proves nothing";
  }
}

TEST(ABProof, DetectableShiftHasTheStatedPower) {
  // 10 against 10 at 0.05: about 1.3 sd (asymptotically (1.96 + 0.84) * sqrt(2/10) / sqrt(3/pi) = 1.28).
  const double d = detectable_shift_sigmas(10, 10, 0.05);
  EXPECT_GT(d, 1.1);
  EXPECT_LT(d, 1.6);
  // Checked against fresh draws (another seed than the search used): about 80 % found.
  SeededNormal rng(99);
  int hits = 0;
  for (int k = 0; k < 1000; ++k) {
    std::vector<double> a, b;
    for (int i = 0; i < 10; ++i) a.push_back(rng.normal()), b.push_back(d + rng.normal());
    hits += mann_whitney_u(a, b).p < 0.05;
  }
  std::cout << "[ proof    ] detectable shift 10 v 10: " << d << " sd, found in " << hits << " of 1000\n";
  EXPECT_GT(hits, 740);
  EXPECT_LT(hits, 860);
  // Fewer samples, a larger detectable shift; none at all below 4 against 4.
  EXPECT_GT(detectable_shift_sigmas(5, 5, 0.05), d);
  EXPECT_TRUE(std::isinf(detectable_shift_sigmas(3, 3, 0.05)));
  EXPECT_FALSE(std::isinf(detectable_shift_sigmas(4, 4, 0.05)));
  // 5 % with 2 % noise is 2.5 sd: beyond what 10 rounds can detect, as the flagging test shows.
  EXPECT_LT(d * 2.0, 5.0);
}

TEST(SeededNormal, IsDeterministicAndStandard) {
  SeededNormal a(5), b(5);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.normal(), b.normal());
  SeededNormal r(1);
  std::vector<double> v;
  for (int i = 0; i < 20000; ++i) v.push_back(r.normal());
  Summary s = summarize(v);
  EXPECT_NEAR(s.mean, 0, 0.03);
  EXPECT_NEAR(s.stddev, 1, 0.03);
}

}  // namespace
}  // namespace dt
