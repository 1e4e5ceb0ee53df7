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

// One target x engine x operation, measured `repetitions` times.
struct BenchCell {
  std::string target;  // "nodatasum", "checksummed", "device"
  std::string engine;  // "psync", "io_uring"
  std::string op;      // "read", "write"
  uint64_t bytes = 0;  // per repetition
  std::vector<double> seconds;
  std::vector<double> cpu_seconds;         // the whole process: every thread, io_uring workers too
  std::vector<double> thread_cpu_seconds;  // the submitting thread only (how fio counts its CPU)
  std::string path;  // "direct", "buffered", "mixed", "unproven", "block device"
  std::string path_detail;

  std::vector<double> mib_per_s() const;
  std::vector<double> cpu_s_per_gib() const;
};

struct BenchRun {
  std::string label;
  std::string run_id, started, hostname, kernel;
  std::string tool_version;  // diotorture's git describe
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
};

struct Comparison {
  std::vector<std::string> labels;  // baseline first, made unique
  double threshold_pct = 5, alpha = 0.05;
  std::vector<CellComparison> cells;
  std::vector<std::string> notes;  // configuration differences worth knowing
  int exit_code() const;           // 1 if any regression, else 0
};

// The first run is the baseline; every other run is compared with it.
Comparison compare_runs(const std::vector<BenchRun>& runs, double threshold_pct, double alpha);

// Seed-002-shaped tables, one per engine: rows "Read (label)", "Diff", ...,
// one column per target, MiB/s medians; Diff marked with the verdict.
std::string render_text(const std::vector<BenchRun>& runs, const Comparison& c);
std::string render_markdown(const std::vector<BenchRun>& runs, const Comparison& c);
std::string render_json(const std::vector<BenchRun>& runs, const Comparison& c);
std::string render_svg(const std::vector<BenchRun>& runs, const Comparison& c);

// The table `bench` prints for one run: per cell median, min-max, CV, CPU
// seconds per GiB and the path the kernel took.
std::string render_run(const BenchRun& run);

}  // namespace dt
