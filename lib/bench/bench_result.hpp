// A benchmark run as plain structs, and their JSON form: what `bench` saves
// and `compare` and `ab` read. Nothing here measures or touches the kernel.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

}  // namespace dt
