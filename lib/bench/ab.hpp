// `diotorture ab`: the analysis of an interleaved A/B benchmark. Each round
// is one boot of one kernel running `bench`; rounds alternate A B B A A B ...
// so slow drift of the machine (thermal, other tenants, a filling disk)
// hits both sides alike. The verdict of a cell is a Mann-Whitney U test on
// the round medians -- between-boot variation is what a nightly job sees,
// and the repetitions inside one boot understate it -- and the spread of the
// repetitions inside each round is reported beside it. Pure logic: nothing
// here boots or measures (ab_rounds.hpp does).
#pragma once

#include <string>
#include <vector>

#include "lib/bench/bench_report.hpp"

namespace dt {

// The side (0 = A, 1 = B) of each of 2 * rounds boots: A B B A A B B A ...
std::vector<unsigned> abba_order(unsigned rounds);

// One side's rounds folded into a run whose samples are the round medians
// (sample = "round"): per cell the median rate, CPU per GiB and latency of
// each round, in round order. Throws SetupError when the rounds do not hold
// the same cells (a round that measured something else).
BenchRun aggregate_rounds(const std::vector<BenchRun>& rounds, const std::string& label);

struct AbAnalysis {
  std::vector<BenchRun> sides;  // the two aggregates, A first
  Comparison comparison;
};

// A against B across rounds: every cell's throughput and p99 completion
// latency judged on the round medians (`threshold_pct`: the slowdown that
// fails, `latency_threshold_pct`: the p99 rise that fails), with the
// within-round CV of both sides and, when `calibration` (A and B are the
// same kernel), what thresholds would have gated falsely.
AbAnalysis analyse_ab(const std::vector<BenchRun>& a_rounds, const std::vector<BenchRun>& b_rounds,
                      const std::string& label_a, const std::string& label_b, double threshold_pct, double alpha,
                      bool calibration, double latency_threshold_pct = 10);

}  // namespace dt
