// The torture engine: builds the starting files (checksummed and NOCOW, with
// verified multi-extent layouts), then runs steps — generated from the seed,
// or replayed from an op log — against the model, checking after every op:
// the result is exactly what the model allows, the affected range reads back
// the same through O_DIRECT and through the page cache, holes only where the
// model has them, i_size and st_blocks sane; every so often (and at the end)
// every RAID copy is compared and the kernel log scanned; at the end every
// file is verified in full and a read-only scrub must find nothing (here, or
// in the parent's filesystem check: final_scrub).
// It stops at the first failure: that prefix of the op log is what the
// shrinker reduces.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "lib/torture/op.hpp"

namespace dt {

struct EngineConfig {
  std::filesystem::path work_dir;  // a fresh, empty directory on the filesystem under test
  LogHeader header;
  Mix mix;
  bool replaying = false;
  std::vector<Step> replay;        // the steps to run when replaying
  uint64_t max_ops = 0;            // generate this many steps (0: until duration_s)
  double duration_s = 0;
  std::string inject;              // test-only: "uffd-wrong-page", "uffd-hang"
  bool final_checks = true;        // full verification, copies and scrub at the end
  // The read-only scrub among the final checks. The main run leaves it to
  // the parent's filesystem check (check_filesystem: scrub, then btrfs check
  // unmounted), so it is not done twice; shrink candidates scrub themselves.
  bool final_scrub = true;
  unsigned copies_every = 128;     // ops between copy comparisons
  // --checks thorough: every read-back (O_DIRECT, page cache, SEEK_HOLE)
  // after every op, as before --checks fast existed. Fast (false): each op's
  // own answer, data and i_size at once; the read-backs of what it changed
  // owed until the seeded schedule, an op that reads or destroys the range,
  // an event, or the end (PendingRanges).
  bool thorough_checks = false;
  std::vector<std::string> spares; // blank devices of the tool's own for device events
  int oplog_fd = -1;               // each finished step is appended here as a JSON line
  int report_fd = -1;              // progress, start and failure lines for the parent
};

// A failure as the engine reports it (also the line type "fail" in the op log).
struct Failure {
  uint64_t seq = 0;
  std::string kind;  // short-read, data, hole, isize, blocks, error, eio, copies, scrub, kernel-log, hang
  std::string op;    // the op or event at fault, or "final" for the end checks
  std::string msg;
  // What the repro must check to see the same thing: {"what": "data", "file",
  // "off", "len", "via": "buffer"|"dio"|"page-cache"|"mmap", "expect": [[start,
  // end, "zero"|"pattern"|"any", seed, shift]...]}, {"what": "short-read",
  // "want"}, {"what": "hole", "file", "off", "len"}, {"what": "isize", ...}.
  nlohmann::json check;
};
nlohmann::json failure_to_json(const Failure& f);
Failure failure_from_json(const nlohmann::json& j);

// Runs in the child process. Returns 0 (all checks passed) or 1 (a failure,
// reported on report_fd and in the op log).
int run_engine(const EngineConfig& cfg);

// The kernel-log lines that can be this run's: without lines about other
// devices, and without lines another diotorture run's self-test planted
// ("... [planted by diotorture run ID]"): a torture run plants nothing.
std::vector<std::string> own_kernel_lines(const std::vector<std::string>& lines,
                                          const std::vector<std::string>& devices);

// The inject switch of the integration test (DIOTORTURE_TORTURE_INJECT).
std::string injection_from_env();

}  // namespace dt
