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
  std::vector<BenchCell> cells;

  const BenchCell* find(const std::string& target, const std::string& engine, const std::string& op) const;
  std::vector<std::string> targets() const;  // in first-seen order
  std::vector<std::string> engines() const;
};

nlohmann::json bench_to_json(const BenchRun& run);
// Throws SetupError naming `source` and what is wrong with it.
BenchRun bench_from_json(const nlohmann::json& j, const std::string& source);

struct CellComparison {
  std::string target, engine, op, label;  // label of the run compared with the baseline
  Summary base, other;                    // MiB/s
  double diff_pct = 0;                    // (other - base) / base, medians
  MannWhitney test;
  bool testable = false;     // enough repetitions for p < alpha to be possible at all
  bool significant = false;  // testable and p < alpha
  bool regression = false;   // significant and slower by more than the threshold
  // The smallest change these samples could have detected (80 % power at
  // alpha), in percent of the baseline: from the spread and the sample count.
  // Infinity when not testable. "No significant change" means "smaller than this".
  double detectable_pct = 0;
  // `ab` only: median within-round CV of each side, percent (-1: not known).
  double within_cv_base = -1, within_cv_other = -1;
  LatencyPoint base_lat, other_lat;  // medians over the samples; 0 when not recorded
};

struct Comparison {
  std::vector<std::string> labels;  // baseline first, made unique
  double threshold_pct = 5, alpha = 0.05;
  std::vector<CellComparison> cells;
  std::vector<std::string> notes;  // differences worth knowing (machine, path taken)
  // Configuration differences that make the runs measure different things
  // (block size, file size, engine settings, workloads).
  std::vector<std::string> incomparable;
  std::string sample = "repetition";  // what a sample is (see BenchRun::sample)
  bool calibration = false;           // an A/A run: every significant change is a false alarm
  int exit_code() const;              // 1 if any regression, else 0
};

// Compares one cell's samples (throughput; higher is better) and fills the
// verdict fields of `x`.
void judge_cell(CellComparison* x, const std::vector<double>& base, const std::vector<double>& other,
                double threshold_pct, double alpha);

// The first run is the baseline; every other run is compared with it.
Comparison compare_runs(const std::vector<BenchRun>& runs, double threshold_pct, double alpha);
// For a calibration (A/A) comparison: the threshold below which this run
// would have gated falsely, percent (0 when no cell was significantly slower),
// and the threshold this run suggests (the largest of that, every cell's
// |diff| and its detectable change, rounded up).
double false_gate_threshold(const Comparison& c);
double suggested_threshold(const Comparison& c);

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
