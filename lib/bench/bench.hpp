// `diotorture bench`: direct reads and writes as named workloads -- seed
// 002's sequential 1 MiB reads and writes, random 4 KiB I/O at queue depth 1
// and 32, a 70/30 mix, several jobs in parallel. Google Benchmark is the timing harness (manual time, one
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
#include "lib/bench/histogram.hpp"

namespace dt {

// An io_uring engine's ring is used only by the thread that made it
// (SINGLE_ISSUER, DEFER_TASKRUN, a registered ring fd): every engine is made
// by the thread that runs its passes -- a job's in its own thread.
struct EngineOptions {
  unsigned iodepth = 1;        // io_uring requests in flight
  bool fixed_buffers = false;  // io_uring_register_buffers + READ/WRITE_FIXED
  bool fixed_files = false;    // io_uring_register_files + IOSQE_FIXED_FILE
  // Enter the kernel after every this many prepared requests; 0 = once per
  // refill of the queue. 1 is fio's default (iodepth_batch_submit=1): a
  // refill of more than two requests submitted at once runs under a block
  // plug, which holds every request back until the last one is queued.
  unsigned submit_batch = 1;
};

// One timed pass of a workload over a file or device.
struct PassSpec {
  bool random = false;      // offsets uniformly at random (fio's norandommap) instead of in order
  unsigned read_pct = 100;  // 100 reads, 0 writes, 70: each I/O a read with probability 0.7
  uint64_t base = 0;        // offsets fall in [base, base + region)
  uint64_t region = 0;
  uint64_t bytes = 0;       // transferred in the pass
  uint64_t seed = 1;        // of the offsets and the read/write choices
  LatencyHistogram* latency = nullptr;  // every completion's latency, submission to completion
};

// An I/O engine: a table of {name, description, factory}, fio style.
class IoEngine {
 public:
  virtual ~IoEngine() = default;
  // Transfers spec.bytes in block-size pieces. Throws std::runtime_error on
  // an error or a short transfer.
  virtual void pass(const PassSpec& spec) = 0;
  // How many physically contiguous runs its worst I/O buffer lies in (see
  // lib/sys/physmem.hpp); 0 when unknown.
  virtual size_t buffer_runs() const { return 0; }
};

struct EngineInfo {
  const char* name;
  const char* description;
  unsigned max_iodepth;  // psync: 1
  std::unique_ptr<IoEngine> (*make)(int fd, uint64_t block_size, const EngineOptions& opts);
};
const std::vector<EngineInfo>& bench_engines();
const EngineInfo* find_engine(const std::string& name);

// A named workload preset (`--workloads`). Every cell is target x engine x
// workload; a workload whose queue depth an engine cannot reach is skipped
// for that engine.
struct Workload {
  const char* name;  // the cell's "op": "read", "write", "randread-4k-qd1", ...
  const char* description;
  bool random;
  unsigned read_pct;
  uint64_t block_size;  // 0: --block-size
  unsigned iodepth;     // 0: --iodepth
  unsigned jobs;        // threads in parallel, each with its own engine and share of the bytes
  bool iops;            // reported as IOPS (small random blocks) rather than MiB/s
};
const std::vector<Workload>& bench_workloads();
const Workload* find_workload(const std::string& name);
// Expands group names ("seq", "random", "all") and checks every name; throws
// SetupError with the known names and a "did you mean".
std::vector<std::string> expand_workloads(const std::vector<std::string>& names);

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
  std::vector<std::string> workloads = {"read", "write"};  // seed 002's table
  uint64_t random_bytes = 256ull << 20;  // transferred per repetition by a random workload
  EngineOptions engine;
  bool progress = false;                 // a live line on the terminal
  bool progress_lines = false;           // a plain line per cell (for `ab`, which reads a guest's console)
  std::filesystem::path gbench_json;     // Google Benchmark's own JSON, if set
};

// Runs every target x engine x workload cell and returns the results
// (label, kernel and filesystem are for the caller to fill).
BenchRun run_benchmarks(const BenchOptions& opts, const std::vector<BenchTarget>& targets, std::ostream& out);

}  // namespace dt
