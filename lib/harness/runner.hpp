// Runs one case in a forked child under the supervisor (lib/run/watchdog.hpp).
// The runner, not the case, owns the timeout, the kernel-log check, the
// per-case files and the verdict.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "lib/harness/context.hpp"
#include "lib/harness/registry.hpp"
#include "lib/harness/results.hpp"

namespace dt {

struct RunnerOptions {
  std::optional<unsigned> timeout_s;  // overrides every case's default
  RunParams params;
  std::string run_id;
};

// Where a case works: <test_dir>/diotorture-<id>, made empty before it runs
// and left as it was afterwards, so the filesystem check after the case sees
// what the case wrote; the session removes it after that.
std::filesystem::path case_work_dir(const std::filesystem::path& test_dir, const std::string& id);

// Writes <results_dir>/<id>.full, and <id>.dmesg / <id>.stacks when there is
// something to show; each file is complete (atomically renamed) on return.
// Throws Interrupted after killing the child if the user interrupts.
CaseResult run_case(const CaseInfo& info, const std::filesystem::path& test_dir,
                    const std::filesystem::path& results_dir, const RunnerOptions& opts);

}  // namespace dt
