// One `diotorture bench`: checks what the options ask for, provisions the
// filesystem and the targets (the same way `run` does), runs the cells,
// writes bench.json and prints the table. cmd/bench.cpp only parses options.
#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "lib/bench/bench.hpp"
#include "lib/btrfs/workspace.hpp"

namespace dt {

// The columns bench can measure, in the order the table shows them.
const std::vector<std::string>& bench_target_names();

struct BenchSessionConfig {
  BenchOptions opts;                 // sizes, repetitions, engines, engine options
  std::vector<std::string> targets;  // empty: all of bench_target_names()
  std::string device;                // --device: a block device to overwrite
  bool force_device = false;
  bool quick = false;
  std::string label;
  std::filesystem::path results_root = "results";
  FilesystemRequest fs;
};

// Throws SetupError for anything the user must fix, Interrupted on
// SIGINT/SIGTERM (after everything it created is removed). Returns 0.
int run_bench_session(const BenchSessionConfig& cfg, std::ostream& out);

}  // namespace dt
