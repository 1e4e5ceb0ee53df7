#include "lib/harness/results_dir.hpp"
#include "lib/harness/session.hpp"
#include "lib/io/uring.hpp"

#include <sys/mount.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <ctime>
#include <csignal>
#include <cstring>
#include <functional>
#include <memory>

#include "lib/btrfs/copies.hpp"
#include "lib/btrfs/fsinfo.hpp"
#include "lib/harness/results.hpp"
#include "lib/io/iopath.hpp"
#include "lib/sys/interrupt.hpp"
#include "lib/sys/version.hpp"

namespace dt {
namespace fs = std::filesystem;

namespace {
void write_results(const fs::path& dir, const RunInfo& info, const std::vector<CaseResult>& results) {
  write_file_atomic(dir / "summary.json", summary_json(info, results));
  write_file_atomic(dir / "junit.xml", junit_xml(info, results));
  write_file_atomic(dir / "check.log", check_log(info, results));
}

}  // namespace

// The cases one after another, results written after each.
static void run_cases(const SessionConfig& cfg, Workspace& ws, fs::path& test_dir, const fs::path& dir,
                      const RunnerOptions& ropts, std::ostream& out, RunInfo& info, std::vector<CaseResult>& results,
                      const std::function<void()>& describe_fs);

int run_session(const SessionConfig& cfg, std::ostream& out) {
  for (const CaseInfo* c : cfg.cases) {
    if (c->requires_mask & kNeedsIoUring) {
      if (std::string why = io_uring_unavailable_reason(); !why.empty())
        throw SetupError(fmt::format("{}, and case {} needs it; enable it (sysctl kernel.io_uring_disabled=0) or "
                                     "leave such cases out with -x uring",
                                     why, c->id));
    }
  }
  Workspace ws(cfg.fs);
  fs::path test_dir = ws.dir();
  RunInfo info;
  info.provisioning = ws.provisioning();
  ensure_tracefs();
  throw_if_interrupted();

  info.run_id = make_run_dir(cfg.results_root);
  const fs::path dir = cfg.results_root / info.run_id;
  auto describe_fs = [&] {
    MountInfo mi = mount_info_for(test_dir);
    info.test_dir = test_dir.string();
    info.fstype = mi.fstype;
    info.profile = btrfs_profile(test_dir);
    info.mount_options = mi.options + "," + mi.super_options;
    // The devices as the filesystem itself reports them, so a multi-device
    // --test-dir is described as truly as a self-provisioned one.
    info.devices.clear();
    if (mi.fstype == "btrfs") {
      try {
        info.devices = describe_btrfs_devices(test_dir);
      } catch (const std::exception& e) {
        info.devices.push_back(std::string("unknown: ") + e.what());
      }
    }
  };
  describe_fs();
  info.started = utc_timestamp();
  info.kernel = kernel_release();
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  info.hostname = host;
  info.btrfs_progs = btrfs_progs_version();
  info.seed = cfg.runner.params.seed;
  info.tool_version = tool_version();
  for (const CaseInfo* c : cfg.cases) info.selected.push_back(c->id);
  RunnerOptions ropts = cfg.runner;
  ropts.run_id = info.run_id;

  out << ws.reclaimed();
  out << fmt::format("KERNEL    -- {}\nFSTYP     -- {} ({})\nTEST_DIR  -- {} ({})\nDEVICES   -- {}\nPROGS     -- {}\n"
                     "RESULTS   -- {}\n\n",
                     info.kernel, info.fstype, info.profile.empty() ? "?" : info.profile, info.test_dir,
                     info.provisioning, info.devices.empty() ? "?" : fmt::format("{}", fmt::join(info.devices, "; ")),
                     info.btrfs_progs, dir.string());
  out.flush();

  std::vector<CaseResult> results;
  write_results(dir, info, results);
  // A run that stops early says so in its records, with the cases that did
  // not run, before the error or interrupt goes on to main.
  auto stop = [&](const std::string& outcome, const std::string& reason, int status) {
    mark_stopped(&info, &results, outcome, reason, status);
    try {
      write_results(dir, info, results);
    } catch (const std::exception&) {
    }
  };
  try {
    run_cases(cfg, ws, test_dir, dir, ropts, out, info, results, describe_fs);
  } catch (const Interrupted&) {
    const int sig = interrupt_signal() ? interrupt_signal() : SIGINT;
    stop("interrupted", sigabbrev_np(sig) ? std::string("SIG") + sigabbrev_np(sig) : "a signal", 128 + sig);
    throw;
  } catch (const std::exception& e) {
    stop("aborted", e.what(), 2);
    throw;
  }
  if (info.outcome == "running") info.outcome = "complete";
  write_results(dir, info, results);
  out << "\n" << run_summary(results);
  out << "Results in " << dir.string() << "\n";
  return run_exit_code(info, results);
}

static void run_cases(const SessionConfig& cfg, Workspace& ws, fs::path& test_dir, const fs::path& dir,
                      const RunnerOptions& ropts, std::ostream& out, RunInfo& info,
                      std::vector<CaseResult>& results, const std::function<void()>& describe_fs) {
  for (size_t i = 0; i < cfg.cases.size(); ++i) {
    const CaseInfo& c = *cfg.cases[i];
    out << fmt::format("{:<28} ", c.id);
    out.flush();
    CaseResult r = run_case(c, test_dir, dir, ropts);
    out << fmt::format("{:<6} {:>6.1f}s{}\n", status_name(r.status), r.duration_s,
                       r.reason.empty() ? "" : "  " + r.reason);
    if (r.status != Status::NotRun) out << "    " << layout_line(r) << "\n    " << path_line(r) << "\n";
    for (const auto& n : r.notes) out << "    note: " << n << "\n";
    out.flush();
    const bool stuck = r.stuck_in_d_state;
    results.push_back(std::move(r));
    write_results(dir, info, results);
    if (stuck && i + 1 < cfg.cases.size()) {
      if (!ws.can_reprovision()) {
        out << fmt::format("stopping: {} left a task in D state on {}; the remaining {} cases were not run. "
                           "Reboot before testing this filesystem again.\n",
                           c.id, test_dir.string(), cfg.cases.size() - i - 1);
        mark_stopped(&info, &results, "aborted", c.id + " left a task in D state on " + test_dir.string(), 3);
        break;
      }
      out << fmt::format("{} left a task in D state: abandoning {} and continuing on a fresh scratch filesystem\n",
                         c.id, ws.scratch()->describe());
      ws.reprovision();
      test_dir = ws.dir();
      describe_fs();
    }
  }
}

}  // namespace dt
