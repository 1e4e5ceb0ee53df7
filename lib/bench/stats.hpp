// Statistics for benchmark repetitions: a summary of one sample, and the
// Mann–Whitney U test between two samples. U is used rather than a t-test
// because throughput samples are few, often skewed by one slow run, and not
// normal; U only compares ranks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dt {

struct Summary {
  size_t n = 0;
  double median = 0, min = 0, max = 0, mean = 0;
  double stddev = 0;  // sample standard deviation (n-1)
  double cv = 0;      // stddev / mean, 0 when n < 2
};
Summary summarize(std::vector<double> xs);

struct MannWhitney {
  double u = 0;        // U of the first sample: pairs (a_i, b_j) with a_i > b_j, ties counted 1/2
  double p = 1;        // two-sided
  // Exact permutation distribution (up to 40 values; with ties, conditional
  // on them) or, for larger samples, the normal approximation.
  bool exact = false;
};
// Throws std::invalid_argument if either sample is empty.
MannWhitney mann_whitney_u(const std::vector<double>& a, const std::vector<double>& b);

// The smallest two-sided p an exact U test can give for these sizes: with
// 3 against 3 it is 0.1, so such a comparison can never be significant at 0.05.
double min_two_sided_p(size_t n1, size_t n2);

// The smallest shift, in standard deviations of the samples, that an exact
// two-sided U test at `alpha` with these sample sizes finds with probability
// `power` (normal noise, no ties). Found by a seeded, deterministic
// simulation against the test's exact critical values, so it holds for small
// samples where the asymptotic formula is too optimistic. Infinity when no
// outcome can reach alpha (e.g. 3 against 3 at 0.05).
double detectable_shift_sigmas(size_t n1, size_t n2, double alpha, double power = 0.8);

// A small seeded generator (splitmix64) with normal deviates (Box-Muller):
// the same numbers on every platform, for simulations and tests.
class SeededNormal {
 public:
  explicit SeededNormal(uint64_t seed) : state_(seed) {}
  uint64_t next_u64();
  double uniform();  // (0, 1)
  double normal();   // mean 0, sd 1
 private:
  uint64_t state_;
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace dt
