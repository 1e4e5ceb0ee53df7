#include "lib/bench/histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace dt {
namespace {

using H = LatencyHistogram;

TEST(LatencyHistogram, SmallValuesHaveABucketEach) {
  for (uint64_t v = 0; v < H::kPerGroup; ++v) {
    EXPECT_EQ(H::bucket_of(v), v);
    EXPECT_EQ(H::bucket_low(static_cast<unsigned>(v)), v);
    EXPECT_EQ(H::bucket_high(static_cast<unsigned>(v)), v);
  }
}

TEST(LatencyHistogram, BucketsTileTheRangeWithoutGapsOrOverlap) {
  // Consecutive buckets meet exactly, and every value lands in the bucket
  // whose bounds hold it, up to the top of the 64-bit range.
  for (unsigned b = 0; b + 1 < H::kBuckets; ++b) {
    ASSERT_LE(H::bucket_low(b), H::bucket_high(b)) << b;
    ASSERT_EQ(H::bucket_high(b) + 1, H::bucket_low(b + 1)) << b;
  }
  EXPECT_EQ(H::bucket_high(H::kBuckets - 1), UINT64_MAX);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = rng() >> (rng() % 64);
    const unsigned b = H::bucket_of(v);
    ASSERT_LT(b, H::kBuckets);
    ASSERT_GE(v, H::bucket_low(b)) << v;
    ASSERT_LE(v, H::bucket_high(b)) << v;
  }
}

TEST(LatencyHistogram, BucketWidthIsAtMostOneSixtyFourthOfItsValues) {
  for (unsigned b = H::kPerGroup; b < H::kBuckets; ++b) {
    const double lo = static_cast<double>(H::bucket_low(b)), hi = static_cast<double>(H::bucket_high(b));
    ASSERT_LE((hi - lo + 1) / lo, 1.0 / H::kPerGroup + 1e-12) << b;
  }
}

TEST(LatencyHistogram, PercentilesOfAKnownDistribution) {
  // 1..100000 ns, once each: the q-quantile is q * 100000, within a bucket.
  H h;
  for (uint64_t v = 1; v <= 100000; ++v) h.record(v);
  EXPECT_EQ(h.count(), 100000u);
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const double want = q * 100000;
    EXPECT_NEAR(h.percentile(q), want, want / H::kPerGroup) << q;
  }
  EXPECT_DOUBLE_EQ(h.percentile(1.0), 100000);
  EXPECT_EQ(h.max(), 100000u);
}

TEST(LatencyHistogram, OneSlowOutlierShowsOnlyInTheTail) {
  // 999 completions at 10 us, one at 5 ms: p50 and p99 are 10 us, p99.9
  // still 10 us (rank 999), the maximum the outlier -- as fio reports it.
  H h;
  for (int i = 0; i < 999; ++i) h.record(10000);
  h.record(5000000);
  EXPECT_NEAR(h.percentile(0.5), 10000, 10000.0 / H::kPerGroup);
  EXPECT_NEAR(h.percentile(0.99), 10000, 10000.0 / H::kPerGroup);
  EXPECT_NEAR(h.percentile(0.999), 10000, 10000.0 / H::kPerGroup);
  EXPECT_DOUBLE_EQ(h.percentile(1.0), 5000000);
  h.record(5000000);  // now two of 1001 are slow: rank 1000 is an outlier
  EXPECT_NEAR(h.percentile(0.999), 5000000, 5000000.0 / H::kPerGroup);
}

TEST(LatencyHistogram, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> lat(10, 1);  // around 22 us, long tail
  H a, b, all;
  std::vector<uint64_t> values;
  for (int i = 0; i < 20000; ++i) {
    const auto v = static_cast<uint64_t>(lat(rng));
    (i % 3 ? a : b).record(v);
    all.record(v);
    values.push_back(v);
  }
  a.merge(b);
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.99, 0.999}) {
    EXPECT_DOUBLE_EQ(a.percentile(q), all.percentile(q));
    const double exact = static_cast<double>(values[static_cast<size_t>(q * values.size()) - 1]);
    EXPECT_NEAR(a.percentile(q), exact, exact / H::kPerGroup + 1) << q;
  }
  EXPECT_EQ(a.max(), values.back());
  EXPECT_EQ(a.count(), 20000u);
}

TEST(LatencyHistogram, EmptyReportsZero) {
  H h;
  EXPECT_EQ(h.percentile(0.5), 0);
  EXPECT_EQ(h.percentile(1.0), 0);
}

}  // namespace
}  // namespace dt
