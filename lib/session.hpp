// One `diotorture run`: where it runs (a --test-dir or a self-provisioned
// loop btrfs), the cases in order, the results directory, and what happens
// after a case leaves a task stuck in the kernel.
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "lib/registry.hpp"
#include "lib/runner.hpp"
#include "lib/workspace.hpp"

namespace dt {

struct SessionConfig {
  std::vector<const CaseInfo*> cases;
  FilesystemChoice fs;
  std::filesystem::path results_root = "results";
  RunnerOptions runner;
};

// Throws SetupError for anything the user must fix before a case can run.
// Returns the exit status (0, 1 or 3).
int run_session(const SessionConfig& cfg, std::ostream& out);

// "2026-11-21T15-04-05" in UTC, plus "-N" if that directory already exists.
std::string make_run_id(const std::filesystem::path& results_root);
// Points results_root/latest at run_id (atomically, by rename).
void point_latest(const std::filesystem::path& root, const std::string& run_id);
// "2026-11-21T15:04:05Z".
std::string utc_timestamp();

}  // namespace dt
