// One `diotorture run`: where it runs (a --test-dir or a self-provisioned
// loop btrfs), the cases in order, the results directory, and what happens
// after a case leaves a task stuck in the kernel.
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "lib/btrfs/workspace.hpp"
#include "lib/harness/known_failures.hpp"
#include "lib/harness/registry.hpp"
#include "lib/harness/runner.hpp"
#include "lib/harness/kcidb.hpp"

namespace dt {

struct SessionConfig {
  std::vector<const CaseInfo*> cases;
  FilesystemChoice fs;
  std::filesystem::path results_root = "results";
  RunnerOptions runner;
  std::filesystem::path known_failures_file;  // "" when none
  std::vector<KnownFailure> known_failures;
  bool strict = false;  // a listed failure still fails the run
  KcidbIds kcidb;       // the ids kcidb.json names
};

// Throws SetupError for anything the user must fix before a case can run.
// Returns the exit status (0, 1 or 3).
int run_session(const SessionConfig& cfg, std::ostream& out);

}  // namespace dt
