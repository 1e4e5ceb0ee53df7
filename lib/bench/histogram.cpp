#include "lib/bench/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace dt {

unsigned LatencyHistogram::bucket_of(uint64_t ns) {
  if (ns < kPerGroup) return static_cast<unsigned>(ns);
  const unsigned msb = 63u - static_cast<unsigned>(std::countl_zero(ns));  // >= kBits
  const unsigned group = msb - kBits + 1;
  const unsigned offset = static_cast<unsigned>((ns >> (msb - kBits)) & (kPerGroup - 1));
  return group * kPerGroup + offset;
}

uint64_t LatencyHistogram::bucket_low(unsigned b) {
  const unsigned group = b / kPerGroup, offset = b % kPerGroup;
  if (group == 0) return offset;
  const unsigned shift = group - 1;  // msb - kBits
  return (uint64_t{kPerGroup} + offset) << shift;
}

uint64_t LatencyHistogram::bucket_high(unsigned b) {
  const unsigned group = b / kPerGroup;
  if (group == 0) return b;
  return bucket_low(b) + ((uint64_t{1} << (group - 1)) - 1);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (unsigned i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
  if (other.max_ > max_) max_ = other.max_;
}

double LatencyHistogram::percentile(double q) const {
  if (total_ == 0) return 0;
  if (q >= 1) return static_cast<double>(max_);
  // The rank of the q-quantile, 1-based, as fio counts it.
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(total_))));
  uint64_t seen = 0;
  for (unsigned b = 0; b < kBuckets; ++b) {
    seen += counts_[b];
    if (seen >= rank) {
      const double mid = (static_cast<double>(bucket_low(b)) + static_cast<double>(bucket_high(b))) / 2;
      // Never report more than was seen.
      return std::min(mid, static_cast<double>(max_));
    }
  }
  return static_cast<double>(max_);
}

}  // namespace dt
