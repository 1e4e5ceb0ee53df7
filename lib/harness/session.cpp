#include "lib/harness/session.hpp"

#include "lib/run/results_dir.hpp"

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
#include "lib/btrfs/fscheck.hpp"
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

// Gives the case the filesystem it declares (CaseInfo::fs), or the run's own
// again after a case that had one. "" when ready, else why the case cannot run.
std::string prepare_filesystem(const CaseInfo& c, Workspace& ws) {
  if (c.fs == ws.spec()) return {};
  if (!ws.scratch())
    return fmt::format("needs a filesystem of its own ({}), and a --test-dir is not ours to format; run without "
                       "--test-dir (self-provisioned) or with a scratch device pool",
                       c.fs.describe());
  try {
    ws.remake(c.fs);
  } catch (const SetupError& e) {
    return fmt::format("could not make its filesystem ({}): {}", c.fs.describe(), e.what());
  }
  return {};
}

// fstests' _check_scratch_fs after every case: what the checkers find fails
// the case, with their output in <id>.fsck.
void check_after_case(const CaseInfo& c, Workspace& ws, const fs::path& results_dir, CaseResult* r) {
  FsCheck chk = check_filesystem(ws.dir(), ws.scratch());
  r->fs_check = chk.summary;
  if (chk.ok) return;
  write_file_atomic(results_dir / (c.id + ".fsck"), chk.output);
  const std::string msg = fmt::format("filesystem check after the case: {} (see {}.fsck)", chk.summary, c.id);
  r->failures.push_back(msg);
  if (r->status == Status::Pass) {
    r->status = Status::Fail;
    r->reason = msg;
    r->hint = fix_hint(c);
  }
}

}  // namespace

// The cases one after another, results written after each.
static void run_cases(const SessionConfig& cfg, Workspace& ws, fs::path& test_dir, const fs::path& dir,
                      const RunnerOptions& ropts, std::ostream& out, RunInfo& info, std::vector<CaseResult>& results,
                      const std::function<void()>& describe_fs);

int run_session(const SessionConfig& cfg, std::ostream& out) {
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
  info.hostname = host_name();
  info.btrfs_progs = btrfs_progs_version();
  info.seed = cfg.runner.params.seed;
  info.tool_version = tool_version();
  for (const CaseInfo* c : cfg.cases) info.selected.push_back(c->id);
  RunnerOptions ropts = cfg.runner;
  ropts.run_id = info.run_id;

  out << ws.reclaimed();
  out << fmt::format("KERNEL    -- {}\nFSTYP     -- {} ({})\nTEST_DIR  -- {} ({})\nDEVICES   -- {}\nPROGS     -- {}\n"
                     "KNOWN     -- {}\nRESULTS   -- {}\n\n",
                     info.kernel, info.fstype, info.profile.empty() ? "?" : info.profile, info.test_dir,
                     info.provisioning, info.devices.empty() ? "?" : fmt::format("{}", fmt::join(info.devices, "; ")),
                     info.btrfs_progs,
                     cfg.known_failures_file.empty()
                         ? "none"
                         : fmt::format("{} ({} entries{})", cfg.known_failures_file.string(), cfg.known_failures.size(),
                                       cfg.strict ? ", --strict" : ""),
                     dir.string());
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
    CaseResult r;
    if (std::string why = prepare_filesystem(c, ws); !why.empty()) {
      r.id = c.id;
      r.status = Status::NotRun;
      r.reason = why;
    } else {
      test_dir = ws.dir();
      r = run_case(c, test_dir, dir, ropts);
      if (!c.fs.empty()) r.notes.push_back("ran on a filesystem of its own: " + ws.scratch()->describe());
      if (r.status != Status::NotRun && !r.stuck_in_d_state && !c.skip_fs_check) check_after_case(c, ws, dir, &r);
      // A stuck task may still use it; otherwise the case's files go now.
      std::error_code ec;
      if (!r.stuck_in_d_state) fs::remove_all(case_work_dir(test_dir, c.id), ec);
    }
    apply_known_failures(&r, cfg.known_failures, info.kernel, cfg.strict);
    out << fmt::format("{:<6} {:>6.1f}s{}\n", status_name(r.status), r.duration_s,
                       r.reason.empty() ? "" : "  " + r.reason);
    if (r.status != Status::NotRun) out << "    " << layout_line(r) << "\n    " << path_line(r) << "\n";
    if (!r.combinations.empty()) out << "    " << combination_line(r) << "\n";
    for (const auto& n : r.notes) out << "    note: " << n << "\n";
    if (!r.fs_check.empty()) out << "    fs check: " << r.fs_check << "\n";
    if (!r.hint.empty()) out << "    hint: " << r.hint << "\n";
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
