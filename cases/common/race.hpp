// Direct writes from buffers that user space keeps changing while the writes
// are in flight (seed 002). Without stable pages or bounce buffers, each
// device a block goes to may DMA a different version of the buffer, and a
// checksum computed before submission may not match the bytes that land.
// The cases decide what to check afterwards; this only runs the race.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lib/harness/context.hpp"
#include "lib/harness/registry.hpp"
#include "lib/io/iopath.hpp"

namespace dt {

struct RaceConfig {
  std::string engine;  // "pwrite" or "uring"
  uint64_t block_size = 0;
  unsigned queue_depth = 1;  // writes in flight (uring; pwrite is always 1)
  unsigned mutators = 1;     // threads changing the buffers
  std::string name() const;  // "uring-64k-qd8-m1"
};

struct RaceResult {
  unsigned writes = 0;
  unsigned bad_writes = 0;   // errors and short writes, each a FAIL already
  uint64_t mutations = 0;    // buffer sweeps the mutators completed
  double seconds = 0;
  PathReport path;           // judged
};

// The parameters both race cases declare: engines, block-sizes,
// queue-depths, mutators, file-size.
std::vector<ParamSpec> race_params(const std::string& default_file_size);

// The engine x block size x queue depth x mutators matrix from those params
// (pwrite only at queue depth 1). Throws SetupError for a bad engine name.
std::vector<RaceConfig> race_matrix(const Context& ctx);

// Overwrites [0, file_size) of fd (opened O_DIRECT) once with cfg.block_size
// writes while cfg.mutators threads rewrite every buffer in a loop. Traces
// the path under key `path_key` and reports it; every failed or short write
// is a FAIL. Returns what happened.
RaceResult race_writes(Context& ctx, const std::string& path_key, int fd, uint64_t file_size, const RaceConfig& cfg,
                       uint64_t seed);

// Pre-fills [0, file_size) with a pattern through O_DIRECT (or the page
// cache when the kernel refuses direct I/O), then fsyncs.
void prefill(int fd, uint64_t file_size, uint64_t seed);

}  // namespace dt
