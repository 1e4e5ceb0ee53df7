// Running someone else's program on the tool's filesystem, under the same
// watchdog and kernel-log check as a case: how a torture run's repro.c is
// shown to reproduce on a kernel (`diotorture exec`, also inside `vm`).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "lib/run/watchdog.hpp"

namespace dt {

struct ProgramRun {
  ChildOutcome outcome;
  std::string output;                    // stdout and stderr, interleaved as written
  std::vector<std::string> kernel_log;   // logged while it ran
  std::vector<std::string> kernel_findings;
};

// Runs argv[0] with `dir` inserted as its first argument (a repro.c takes the
// directory to work in there), in its own process group, killed after
// timeout_s seconds (a hang: stacks kept).
ProgramRun run_program(const std::vector<std::string>& argv, const std::filesystem::path& dir, unsigned timeout_s);

}  // namespace dt
