#include "lib/bench/stats.hpp"

#include <algorithm>
#include <cmath>
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

}  // namespace dt
