// One `diotorture torture` run: the filesystem (Workspace, as for `run`),
// the results directory (results/<run>/torture/: oplog.jsonl written as it
// goes, then minimal.jsonl, repro.c, summary.json), the engine in a child
// under the watchdog with the kernel log scanned around it, the progress
// display, and on a failure the shrinker and the C reproducer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "lib/btrfs/workspace.hpp"

namespace dt {

struct TortureConfig {
  FilesystemChoice fs;
  std::filesystem::path results_root = "results";
  uint64_t seed = 1;
  uint64_t ops = 0;           // 0: run for duration_s
  double duration_s = 60;
  unsigned files = 4;
  std::string file_kinds = "both";  // both (alternating), nocow, datasum
  std::string ops_mix;        // "" = every op
  std::string events = "all";
  std::filesystem::path replay;  // an oplog.jsonl to rerun instead of generating
  bool shrink = true;
  unsigned shrink_budget_s = 300;
  unsigned stall_s = 120;     // no progress for this long: a hang
  bool progress = true;       // false: one line a minute even on a terminal
  std::string inject;         // test-only (DIOTORTURE_TORTURE_INJECT)
  std::filesystem::path coverage_baseline;  // a coverage.txt: what is new against it
  // "thorough": every read-back after every op; "fast": read-backs owed and
  // settled on a seeded schedule, before a read of the range, before events
  // and at the end (docs/torture.md: it reads back as many bytes, later).
  std::string checks = "thorough";
  // Devices the user hands over for device events on a scratch pool (each
  // checked as a pool device is); with none there, device events are not run.
  std::vector<std::string> spare_devs;
  // Set by a campaign (lib/torture/campaign): the run's directory name under
  // results_root instead of a timestamp, and the judge of a failure: the
  // known-failures reason for it ("" when not known). A known failure is
  // recorded ("known" in summary.json) and not shrunk.
  std::string run_name;
  std::function<std::string(const std::string& kind, const std::string& op, const std::string& msg)> known;
};

// Throws SetupError for bad input. Returns 0 pass, 1 fail, 3 hang.
int run_torture(const TortureConfig& cfg, std::ostream& out);

}  // namespace dt
