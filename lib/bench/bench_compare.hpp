// Comparing benchmark runs: per cell and measure a verdict from the
// two-sided Mann-Whitney U test (significant? a regression beyond the
// threshold? what change could these samples have detected?), and what an
// A/A calibration says about the thresholds.
#pragma once

#include <string>
#include <vector>

#include "lib/bench/bench_result.hpp"
#include "lib/bench/stats.hpp"

namespace dt {

// Which way a measure gets worse: throughput when it falls, latency when it rises.
enum class Better { Higher, Lower };

// One measure of one cell judged across its samples (repetitions, or round
// medians for `ab`): the two-sided Mann-Whitney U test, and whether the
// change is a regression -- significant and worse, in the measure's bad
// direction, by more than the threshold.
struct Verdict {
  Better better = Better::Higher;
  Summary base, other;
  double diff_pct = 0;       // (other - base) / base, medians
  MannWhitney test;
  bool testable = false;     // enough samples for p < alpha to be possible at all
  bool significant = false;  // testable and p < alpha
  bool regression = false;   // significant and worse by more than the threshold
  // The smallest change these samples could have detected (80 % power at
  // alpha), in percent of the baseline: from the spread and the sample count.
  // Infinity when not testable. "No significant change" means "smaller than this".
  double detectable_pct = 0;
  // Signed so that a positive value is a change for the worse (a slowdown, a
  // rise of latency), as the thresholds are stated.
  double worse_pct() const { return better == Better::Higher ? -diff_pct : diff_pct; }
};

// Judges `other` against `base`.
Verdict judge(const std::vector<double>& base, const std::vector<double>& other, Better better, double threshold_pct,
              double alpha);

struct CellComparison {
  std::string target, engine, op, label;  // label of the run compared with the baseline
  Verdict rate;                           // throughput (MiB/s or IOPS): higher is better
  // p99 completion latency, microseconds, one sample per repetition (or
  // round): lower is better. Judged only when both runs recorded latency.
  Verdict p99;
  bool has_p99 = false;
  // `ab` only: median within-round CV of each side, percent (-1: not known).
  double within_cv_base = -1, within_cv_other = -1;
  bool regression() const { return rate.regression || (has_p99 && p99.regression); }
};

struct Comparison {
  std::vector<std::string> labels;  // baseline first, made unique
  double threshold_pct = 5, alpha = 0.05;
  double latency_threshold_pct = 10;  // the p99 rise that is a regression when significant
  std::vector<CellComparison> cells;
  std::vector<std::string> notes;  // differences worth knowing (machine, path taken)
  // Configuration differences that make the runs measure different things
  // (block size, file size, engine settings, workloads).
  std::vector<std::string> incomparable;
  std::string sample = "repetition";  // what a sample is (see BenchRun::sample)
  bool calibration = false;           // an A/A run: every significant change is a false alarm
  int exit_code() const;              // 1 if any regression (throughput or p99), else 0
};

// The first run is the baseline; every other run is compared with it.
// `latency_threshold_pct`: the p99 rise that fails when significant.
Comparison compare_runs(const std::vector<BenchRun>& runs, double threshold_pct, double alpha,
                        double latency_threshold_pct = 10);
// For a calibration (A/A) comparison, of throughput (Better::Higher) or p99
// latency (Better::Lower): the threshold below which this run would have
// gated falsely, percent (0 when no cell was significantly worse), and the
// threshold this run suggests (the largest of that, every cell's |diff| and
// its detectable change, rounded up).
double false_gate_threshold(const Comparison& c, Better measure = Better::Higher);
double suggested_threshold(const Comparison& c, Better measure = Better::Higher);

}  // namespace dt
