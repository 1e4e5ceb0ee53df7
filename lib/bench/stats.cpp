#include "lib/bench/stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <tuple>
#include <numeric>
#include <stdexcept>

namespace dt {

Summary summarize(std::vector<double> xs) {
  Summary s;
  s.n = xs.size();
  if (xs.empty()) return s;
  std::sort(xs.begin(), xs.end());
  s.min = xs.front();
  s.max = xs.back();
  s.median = xs.size() % 2 ? xs[xs.size() / 2] : (xs[xs.size() / 2 - 1] + xs[xs.size() / 2]) / 2;
  s.mean = std::accumulate(xs.begin(), xs.end(), 0.0) / static_cast<double>(xs.size());
  if (xs.size() > 1) {
    double ss = 0;
    for (double x : xs) ss += (x - s.mean) * (x - s.mean);
    s.stddev = std::sqrt(ss / static_cast<double>(xs.size() - 1));
    s.cv = s.mean != 0 ? s.stddev / s.mean : 0;
  }
  return s;
}

namespace {
// counts[k]: arrangements of n1 + n2 distinct values in which U of the first
// sample equals k (recurrence on whether the largest value is in sample 1).
std::vector<double> u_distribution(size_t n1, size_t n2) {
  // f[i][j] is a vector over k; build iteratively over i, j.
  std::vector<std::vector<std::vector<double>>> f(n1 + 1, std::vector<std::vector<double>>(n2 + 1));
  for (size_t i = 0; i <= n1; ++i) {
    for (size_t j = 0; j <= n2; ++j) {
      auto& v = f[i][j];
      v.assign(i * j + 1, 0.0);
      if (i == 0 || j == 0) {
        v[0] = 1;
        continue;
      }
      // Largest value in sample 1: it beats all j of sample 2.
      for (size_t k = 0; k < f[i - 1][j].size(); ++k) v[k + j] += f[i - 1][j][k];
      // Largest value in sample 2: it adds nothing to U.
      for (size_t k = 0; k < f[i][j - 1].size(); ++k) v[k] += f[i][j - 1][k];
    }
  }
  return f[n1][n2];
}

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

// The exact two-sided p of U when values tie, conditional on the ties seen
// (a permutation test): every way to pick which n1 of the pooled values are
// the first sample is equally likely under "no difference", and U is the
// first sample's rank sum (midranks for ties) less n1 (n1 + 1) / 2. Doubled
// midranks are integers, so the rank-sum distribution is counted exactly.
// Latency percentiles tie often (they are histogram bucket values), and the
// normal approximation is too liberal for the few samples `ab` has.
double exact_p_with_ties(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<std::pair<double, int>> pooled;  // value, sample
  for (double x : a) pooled.emplace_back(x, 0);
  for (double y : b) pooled.emplace_back(y, 1);
  std::sort(pooled.begin(), pooled.end());
  const size_t n = pooled.size(), n1 = a.size();
  std::vector<size_t> rank2(n);  // doubled midranks
  size_t observed = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && pooled[j].first == pooled[i].first) ++j;
    for (size_t k = i; k < j; ++k) rank2[k] = i + 1 + j;  // 2 x the mean of ranks i+1 .. j
    i = j;
  }
  for (size_t k = 0; k < n; ++k)
    if (pooled[k].second == 0) observed += rank2[k];
  const size_t max_sum = n * (n + 1);  // every value's doubled rank
  // ways[c][s]: subsets of c of the values seen so far whose doubled ranks sum to s.
  std::vector<std::vector<double>> ways(n1 + 1, std::vector<double>(max_sum + 1, 0.0));
  ways[0][0] = 1;
  for (size_t k = 0; k < n; ++k)
    for (size_t c = std::min(n1, k + 1); c >= 1; --c)
      for (size_t s = max_sum; s >= rank2[k]; --s) ways[c][s] += ways[c - 1][s - rank2[k]];
  double lower = 0, upper = 0, total = 0;
  for (size_t s = 0; s <= max_sum; ++s) {
    total += ways[n1][s];
    if (s <= observed) lower += ways[n1][s];
    if (s >= observed) upper += ways[n1][s];
  }
  return std::min(1.0, 2 * std::min(lower, upper) / total);
}
}  // namespace

double min_two_sided_p(size_t n1, size_t n2) {
  if (n1 == 0 || n2 == 0) return 1;
  auto d = u_distribution(n1, n2);
  double total = std::accumulate(d.begin(), d.end(), 0.0);
  return std::min(1.0, 2 * d[0] / total);
}

MannWhitney mann_whitney_u(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.empty() || b.empty()) throw std::invalid_argument("Mann-Whitney U needs two non-empty samples");
  MannWhitney r;
  bool ties = false;
  for (double x : a)
    for (double y : b) {
      if (x > y) r.u += 1;
      else if (x == y) r.u += 0.5, ties = true;
    }
  std::vector<double> all(a);
  all.insert(all.end(), b.begin(), b.end());
  std::sort(all.begin(), all.end());
  if (std::adjacent_find(all.begin(), all.end()) != all.end()) ties = true;
  const double n1 = static_cast<double>(a.size()), n2 = static_cast<double>(b.size());
  if (!ties && a.size() + b.size() <= 40) {
    auto d = u_distribution(a.size(), b.size());
    const double total = std::accumulate(d.begin(), d.end(), 0.0);
    const size_t u = static_cast<size_t>(r.u);
    double lower = 0, upper = 0;
    for (size_t k = 0; k <= u; ++k) lower += d[k];
    for (size_t k = u; k < d.size(); ++k) upper += d[k];
    r.p = std::min(1.0, 2 * std::min(lower, upper) / total);
    r.exact = true;
    return r;
  }
  if (a.size() + b.size() <= 40) {
    r.p = exact_p_with_ties(a, b);
    r.exact = true;
    return r;
  }
  // Normal approximation with the tie correction of the variance and a
  // continuity correction.
  const double n = n1 + n2;
  double tie_term = 0;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    while (j < all.size() && all[j] == all[i]) ++j;
    const double t = static_cast<double>(j - i);
    tie_term += t * t * t - t;
    i = j;
  }
  const double mean = n1 * n2 / 2;
  const double var = n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1)));
  if (var <= 0) {
    r.p = 1;  // every value equal
    return r;
  }
  const double z = (std::abs(r.u - mean) - 0.5) / std::sqrt(var);
  r.p = std::min(1.0, 2 * (1 - normal_cdf(std::max(0.0, z))));
  return r;
}

uint64_t SeededNormal::next_u64() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double SeededNormal::uniform() { return (static_cast<double>(next_u64() >> 11) + 0.5) / 9007199254740992.0; }

double SeededNormal::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  const double r = std::sqrt(-2 * std::log(uniform())), t = 2 * M_PI * uniform();
  spare_ = r * std::sin(t);
  has_spare_ = true;
  return r * std::cos(t);
}

double detectable_shift_sigmas(size_t n1, size_t n2, double alpha, double power) {
  if (n1 == 0 || n2 == 0 || min_two_sided_p(n1, n2) >= alpha) return std::numeric_limits<double>::infinity();
  static std::mutex mu;
  static std::map<std::tuple<size_t, size_t, double, double>, double> cache;
  std::lock_guard lock(mu);
  const auto key = std::make_tuple(n1, n2, alpha, power);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  // The exact test rejects when U <= k or U >= n1*n2 - k, k the largest
  // value whose two-sided p is below alpha.
  const auto d = u_distribution(n1, n2);
  const double total = std::accumulate(d.begin(), d.end(), 0.0);
  double cdf = 0;
  size_t k = 0;
  for (size_t u = 0; u < d.size(); ++u) {
    cdf += d[u];
    if (2 * cdf / total >= alpha) break;
    k = u;
  }
  const double nn = static_cast<double>(n1 * n2);
  auto power_at = [&](double shift) {
    SeededNormal rng(12345);  // the same draws for every shift: a smooth, monotone curve
    const int sims = 2000;
    int hits = 0;
    std::vector<double> a(n1), b(n2);
    for (int s = 0; s < sims; ++s) {
      for (auto& x : a) x = rng.normal();
      for (auto& x : b) x = rng.normal() + shift;
      double u = 0;
      for (double x : a)
        for (double y : b) u += x > y;
      hits += u <= static_cast<double>(k) || u >= nn - static_cast<double>(k);
    }
    return static_cast<double>(hits) / sims;
  };
  double lo = 0, hi = 1;
  while (power_at(hi) < power && hi < 64) hi *= 2;
  for (int i = 0; i < 24; ++i) {
    const double mid = (lo + hi) / 2;
    (power_at(mid) < power ? lo : hi) = mid;
  }
  return cache[key] = hi;
}

}  // namespace dt
