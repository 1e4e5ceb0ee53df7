// Benchmark results as plain structs, their JSON form (what `bench` saves
// and `compare` reads), the comparison of runs with a significance test per
// cell, and the writers: text and markdown tables in the shape of seed 002's
// table, JSON, and an SVG chart. Nothing here measures or touches the kernel.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/bench/stats.hpp"

namespace dt {

// Completion latency of one repetition, microseconds, from its histogram.
struct LatencyPoint {
  double p50 = 0, p99 = 0, p999 = 0, max = 0;
};

// One target x engine x workload, measured `repetitions` times.
struct BenchCell {
  std::string target;  // "nodatasum", "checksummed", "device"
  std::string engine;  // "psync", "io_uring"
  std::string op;      // the workload: "read", "write" (sequential), "randread-4k-qd1", ...
  uint64_t bytes = 0;  // per repetition
  uint64_t block_size = 0;  // of each I/O (0 in files from before workloads: the run's block_size)
  bool iops = false;        // reported as I/O operations per second
  unsigned iodepth = 1, jobs = 1;
  std::vector<LatencyPoint> clat_us;  // per repetition (empty in older files)
  std::vector<double> seconds;
  std::vector<double> cpu_seconds;         // the whole process: every thread, io_uring workers too
  std::vector<double> thread_cpu_seconds;  // the submitting thread only (how fio counts its CPU)
  // The most physically contiguous runs any of its I/O buffers lies in
  // (0: unknown): a block in more runs than the device's segment limit
  // splits every bio, which costs CPU a kernel change did not cause.
  size_t buffer_runs = 0;
  std::string path;  // "direct", "buffered", "mixed", "unproven", "block device"
  std::string path_detail;

  std::vector<double> mib_per_s() const;
  std::vector<double> cpu_s_per_gib() const;
  // The reported throughput: IOPS or MiB/s, per repetition.
  std::vector<double> rate() const;
  std::string rate_unit() const { return iops ? "IOPS" : "MiB/s"; }
};

struct BenchRun {
  std::string label;
  std::string run_id, started, hostname, kernel;
  std::string tool_version;  // diotorture's git describe
  // What one sample of a cell is: "repetition" (one bench run), or "round"
  // (an `ab` aggregate whose samples are the medians of rounds).
  std::string sample = "repetition";
  nlohmann::json config = nlohmann::json::object();      // block_size, file_size, repetitions, engines, ...
  nlohmann::json filesystem = nlohmann::json::object();  // provisioning, profile, devices, device
  // Per target, the laid-out file as the kernel holds it: {"extent_items": N}
  // (FIEMAP merges contiguous extents; a tool laying out the "same" file can
  // leave 4 items where ours leaves 1024, and every lookup differs).
  nlohmann::json layouts = nlohmann::json::object();
  std::vector<BenchCell> cells;

  const BenchCell* find(const std::string& target, const std::string& engine, const std::string& op) const;
  std::vector<std::string> targets() const;  // in first-seen order
  std::vector<std::string> engines() const;
};

nlohmann::json bench_to_json(const BenchRun& run);
// Throws SetupError naming `source` and what is wrong with it.
BenchRun bench_from_json(const nlohmann::json& j, const std::string& source);

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

// Seed-002-shaped tables, one per engine: rows "Read (label)", "Diff", ...,
// one column per target, MiB/s medians; Diff marked with the verdict.
std::string render_text(const std::vector<BenchRun>& runs, const Comparison& c);
// `chart`: where the SVG chart is published, relative to the page (embedded as an image), or empty.
std::string render_markdown(const std::vector<BenchRun>& runs, const Comparison& c, const std::string& chart = "");
std::string render_json(const std::vector<BenchRun>& runs, const Comparison& c);
std::string render_svg(const std::vector<BenchRun>& runs, const Comparison& c);

// The table `bench` prints for one run: per cell median, min-max, CV, CPU
// seconds per GiB and the path the kernel took.
std::string render_run(const BenchRun& run);
// What an A/A comparison says about the machine's noise.
std::string render_calibration(const Comparison& c);

}  // namespace dt
