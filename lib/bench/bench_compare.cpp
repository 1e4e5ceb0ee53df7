#include "lib/bench/bench_compare.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace dt {

using nlohmann::json;

int Comparison::exit_code() const {
  return std::any_of(cells.begin(), cells.end(), [](const CellComparison& c) { return c.regression(); }) ? 1 : 0;
}

Verdict judge(const std::vector<double>& bs, const std::vector<double>& os, Better better, double threshold_pct,
              double alpha) {
  Verdict v;
  v.better = better;
  v.base = summarize(bs);
  v.other = summarize(os);
  v.diff_pct = v.base.median > 0 ? (v.other.median - v.base.median) / v.base.median * 100 : 0;
  v.test = mann_whitney_u(bs, os);
  // A test that cannot reach alpha is reported as such, never as "no change".
  v.testable = min_two_sided_p(bs.size(), os.size()) < alpha;
  v.significant = v.testable && v.test.p < alpha;
  v.regression = v.significant && v.worse_pct() > threshold_pct;
  // The noise of both sides, relative to the baseline's level.
  const double sd = std::sqrt((v.base.stddev * v.base.stddev + v.other.stddev * v.other.stddev) / 2);
  const double sigmas = detectable_shift_sigmas(bs.size(), os.size(), alpha);
  v.detectable_pct = std::isinf(sigmas) ? sigmas : v.base.median > 0 ? sigmas * sd / v.base.median * 100 : 0;
  return v;
}

namespace {
std::vector<double> p99s(const BenchCell& c) {
  std::vector<double> v;
  for (const auto& l : c.clat_us) v.push_back(l.p99);
  return v;
}
}  // namespace

Comparison compare_runs(const std::vector<BenchRun>& runs, double threshold_pct, double alpha,
                        double latency_threshold_pct) {
  Comparison c;
  c.threshold_pct = threshold_pct;
  c.alpha = alpha;
  c.latency_threshold_pct = latency_threshold_pct;
  std::map<std::string, int> seen;
  for (const auto& r : runs) {
    std::string l = r.label.empty() ? "unlabelled" : r.label;
    if (int n = ++seen[l]; n > 1) l += fmt::format("#{}", n);
    c.labels.push_back(l);
  }
  if (runs.size() < 2) return c;
  const BenchRun& base = runs[0];
  c.sample = base.sample;
  auto differs = [&](size_t i, const char* key, bool only_if_both) {
    const json a = base.config.value(key, json()), b = runs[i].config.value(key, json());
    if (only_if_both && (a.is_null() || b.is_null())) return std::string();
    return a == b ? std::string()
                  : fmt::format("{} differs: {} has {}, {} has {}", key, c.labels[0], a.dump(), c.labels[i], b.dump());
  };
  for (size_t i = 1; i < runs.size(); ++i) {
    if (runs[i].sample != base.sample)
      c.incomparable.push_back(fmt::format("{} holds {}s, {} holds {}s", c.labels[0], base.sample, c.labels[i],
                                           runs[i].sample));
    // What a cell measures: different values mean different experiments.
    for (const char* key : {"block_size", "file_size", "iodepth", "fixed_buffers", "fixed_files"})
      if (auto d = differs(i, key, false); !d.empty()) c.incomparable.push_back(d);
    // Runs from before a key existed have no value for it: not a difference.
    for (const char* key : {"random_bytes", "submit_batch"})
      if (auto d = differs(i, key, true); !d.empty()) c.incomparable.push_back(d);
    // Worth knowing, but the comparison stands (ab --kernel host compares a host with a VM on purpose).
    for (const char* key : {"machine", "repetitions"})
      if (auto d = differs(i, key, false); !d.empty()) c.notes.push_back(d);
    for (const auto& cell : runs[i].cells) {
      const BenchCell* b = base.find(cell.target, cell.engine, cell.op);
      if (!b) continue;
      CellComparison x{cell.target, cell.engine, cell.op, c.labels[i]};
      x.rate = judge(b->rate(), cell.rate(), Better::Higher, threshold_pct, alpha);
      // Latency has its own verdict: a patch can keep the throughput and
      // still make the slowest completions slower.
      x.has_p99 = !b->clat_us.empty() && !cell.clat_us.empty();
      if (x.has_p99) x.p99 = judge(p99s(*b), p99s(cell), Better::Lower, latency_threshold_pct, alpha);
      if (b->path != cell.path && !b->path.empty() && !cell.path.empty())
        c.notes.push_back(fmt::format("{} {} {}: the path differs: {} {}, {} {}", cell.target, cell.engine, cell.op,
                                      c.labels[0], b->path, c.labels[i], cell.path));
      c.cells.push_back(std::move(x));
    }
  }
  return c;
}

namespace {
// The verdict of `measure` in a cell, or nullptr when the cell has none.
const Verdict* measure_of(const CellComparison& x, Better measure) {
  if (measure == Better::Higher) return &x.rate;
  return x.has_p99 ? &x.p99 : nullptr;
}
}  // namespace

double false_gate_threshold(const Comparison& c, Better measure) {
  double t = 0;
  for (const auto& x : c.cells)
    if (const Verdict* v = measure_of(x, measure); v && v->significant && v->worse_pct() > 0)
      t = std::max(t, v->worse_pct());
  return t;
}

double suggested_threshold(const Comparison& c, Better measure) {
  double t = 0;
  for (const auto& x : c.cells) {
    const Verdict* v = measure_of(x, measure);
    if (!v) continue;
    t = std::max(t, std::abs(v->diff_pct));
    if (!std::isinf(v->detectable_pct)) t = std::max(t, v->detectable_pct);
  }
  return std::ceil(t);
}

}  // namespace dt
