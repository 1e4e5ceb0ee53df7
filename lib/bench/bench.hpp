// `diotorture bench`: sequential direct reads and writes, seed 002's
// benchmark. Google Benchmark is the timing harness (manual time, one
// iteration per repetition, bytes-processed counters); every measured value
// also lands in plain structs (bench_report.hpp) that the writers print.
//
// One repetition of a write cell: drop the target's cached pages, write the whole file with
// O_DIRECT, fdatasync (a buffered fallback must pay for its writeback), time
// both. A read cell: drop its cached pages, read the whole file with O_DIRECT. Before
// the timed repetitions each file is written once untimed (so every timed
// write overwrites allocated blocks, as with fio's laid-out files) and a
// short traced probe records the path the kernel takes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "lib/bench/bench_report.hpp"

namespace dt {

struct EngineOptions {
  unsigned iodepth = 1;        // io_uring requests in flight
  bool fixed_buffers = false;  // io_uring_register_buffers + READ/WRITE_FIXED
  bool fixed_files = false;    // io_uring_register_files + IOSQE_FIXED_FILE
};

// An I/O engine: a table of {name, description, factory}, fio style.
class SequentialEngine {
 public:
  virtual ~SequentialEngine() = default;
  // Reads or writes [0, size) in block_size pieces from/to the engine's
  // buffers. Throws std::runtime_error on an error or a short transfer.
  virtual void pass(bool write, uint64_t size) = 0;
};

struct EngineInfo {
  const char* name;
  const char* description;
  std::unique_ptr<SequentialEngine> (*make)(int fd, uint64_t block_size, const EngineOptions& opts);
};
const std::vector<EngineInfo>& bench_engines();
const EngineInfo* find_engine(const std::string& name);

struct BenchTarget {
  std::string name;  // "nodatasum", "checksummed", "device"
  std::filesystem::path path;
  bool block_device = false;
};

struct BenchOptions {
  uint64_t block_size = 1 << 20;
  uint64_t file_size = 4ull << 30;
  unsigned repetitions = 5;
  std::vector<std::string> engines = {"psync", "io_uring"};
  EngineOptions engine;
  bool progress = false;                 // a live line on the terminal
  std::filesystem::path gbench_json;     // Google Benchmark's own JSON, if set
};

// Runs every target x engine x {write, read} cell and returns the results
// (label, kernel and filesystem are for the caller to fill).
BenchRun run_benchmarks(const BenchOptions& opts, const std::vector<BenchTarget>& targets, std::ostream& out);

}  // namespace dt
