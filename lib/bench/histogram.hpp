// Completion-latency histogram with log-linear buckets, the scheme fio uses
// for its clat percentiles: values below 2^kBits nanoseconds get a bucket
// each; above that every power of two is split into 2^kBits equal buckets,
// so a bucket is never wider than 1/2^kBits (1.6 %) of the values in it.
// Recording is an index computation and an increment (cheap enough for every
// I/O); percentiles are read from the cumulative counts.
#pragma once

#include <array>
#include <cstdint>

namespace dt {

class LatencyHistogram {
 public:
  static constexpr unsigned kBits = 6;                    // 64 buckets per power of two
  static constexpr unsigned kPerGroup = 1u << kBits;
  static constexpr unsigned kGroups = 64 - kBits + 1;     // covers every uint64_t
  static constexpr unsigned kBuckets = kGroups * kPerGroup;

  static unsigned bucket_of(uint64_t ns);
  // The smallest and largest value that lands in bucket `b`.
  static uint64_t bucket_low(unsigned b);
  static uint64_t bucket_high(unsigned b);

  void record(uint64_t ns) {
    ++counts_[bucket_of(ns)];
    ++total_;
    if (ns > max_) max_ = ns;
  }
  void merge(const LatencyHistogram& other);

  uint64_t count() const { return total_; }
  uint64_t max() const { return max_; }  // exact, not bucketed
  // The value below which a fraction `q` (0 < q <= 1) of the samples lie, as
  // the middle of the bucket holding that rank (fio reports bucket values
  // too); 0 when empty. q = 1 gives the exact maximum.
  double percentile(double q) const;

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t total_ = 0, max_ = 0;
};

}  // namespace dt
