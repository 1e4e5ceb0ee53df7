#include "lib/harness/runner.hpp"
#include "lib/harness/require.hpp"

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <liburing.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <system_error>
#include <nlohmann/json.hpp>

#include "lib/harness/case_events.hpp"
#include "lib/btrfs/copies.hpp"
#include "lib/run/kmsg.hpp"
#include "lib/sys/interrupt.hpp"
#include "lib/sys/owned.hpp"

namespace dt {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kExitNotRun = 77;
constexpr int kExitCaseError = 70;

// Below this much free space a failure with ENOSPC is the filesystem being
// full, not a kernel bug.
constexpr uint64_t kNearlyFull = 256ull << 20;

uint64_t free_bytes(const fs::path& p) {
  struct statvfs sv {};
  if (::statvfs(p.c_str(), &sv) != 0) return UINT64_MAX;
  return static_cast<uint64_t>(sv.f_bavail) * sv.f_frsize;
}

bool mentions_out_of_space(const std::vector<std::string>& failures) {
  for (const auto& f : failures)
    if (f.find("ENOSPC") != std::string::npos || f.find("No space left on device") != std::string::npos) return true;
  return false;
}

std::string out_of_space_reason(const std::string& what, const fs::path& work) {
  return fmt::format("out of space ({} free on {}): {}; free some space, or give a bigger --scratch-size or "
                     "another --test-dir",
                     fmt::format("{}M", free_bytes(work) == UINT64_MAX ? 0 : free_bytes(work) >> 20),
                     work.parent_path().string(), what);
}

// How recent the last sign of progress must be for a timeout to count as
// "timed out while making progress": half the timeout, at most 10s.
double progress_window_s(unsigned timeout_s) { return std::max(1.0, std::min(10.0, timeout_s / 2.0)); }

// The kernel's names ("loop4") of the devices of the filesystem under `dir`;
// empty if unknown (then no kernel-log line is excluded).
std::vector<std::string> filesystem_device_names(const fs::path& dir) {
  std::vector<std::string> names;
  try {
    Fd fd = open_or_throw(dir, O_RDONLY | O_DIRECTORY);
    for (const auto& d : btrfs_devices(fd.get()).devices) {
      names.push_back(fs::path(d.path).filename().string());
      // The kernel says "dm-3" where the path is /dev/mapper/name.
      std::error_code ec;
      const fs::path real = fs::canonical(d.path, ec);
      if (!ec) names.push_back(real.filename().string());
    }
  } catch (const std::exception&) {
    names.clear();
  }
  return names;
}

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// Waits up to `ms` for the process behind pidfd to exit.
bool wait_exit(int pidfd, int ms) {
  pollfd p{pidfd, POLLIN, 0};
  return ::poll(&p, 1, ms) == 1;
}

[[noreturn]] void child_main(const CaseInfo& info, const RunParams& params, const fs::path& work_dir, int log_fd,
                             int event_fd, pid_t parent) {
  unblock_interrupts_in_child();
  // If the run is killed (kill -9, a CI time limit), the case must not go on
  // holding the scratch mount the next run or `diotorture clean` reclaims.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(kExitCaseError);
  ::setpgid(0, 0);  // the watchdog kills the whole group
  int code = 0;
  {
    try {
      Context ctx(info, params, work_dir, log_fd, event_fd);
      try {
        info.fn(ctx);
      } catch (const NotRun& n) {
        write_all(event_fd, event::notrun(n.reason));
        code = kExitNotRun;
      } catch (const std::system_error& e) {
        // A full filesystem is the set-up's problem, not the kernel's.
        if (e.code() != std::errc::no_space_on_device) throw;
        write_all(event_fd, nlohmann::json{{"type", "notrun"}, {"reason", out_of_space_reason(e.what(), work_dir)}}
                                    .dump() +
                                "\n");
        code = kExitNotRun;
      }
    } catch (const std::exception& e) {
      std::string msg = fmt::format("case aborted: {}", e.what());
      std::string line = "FAIL: " + msg + "\n";
      std::string ev = event::fail(msg);
      (void)!::write(log_fd, line.data(), line.size());
      (void)!::write(event_fd, ev.data(), ev.size());
      code = kExitCaseError;
    }
  }
  // _exit: the parent's objects (the scratch filesystem!) must not be destroyed here.
  ::_exit(code);
}

}  // namespace

char process_state(pid_t pid) {
  TaskStat st;
  return read_task_stat(fmt::format("/proc/{}/stat", pid), &st) ? st.state : '?';
}

std::string task_stacks(pid_t pid) {
  std::string out;
  std::error_code ec;
  for (const auto& t : fs::directory_iterator(fmt::format("/proc/{}/task", pid), ec)) {
    const std::string tid = t.path().filename().string();
    TaskStat st;
    if (!read_task_stat(t.path() / "stat", &st)) st.comm = "?";
    out += fmt::format("task {} ({}) state {} wchan {}\n", tid, st.comm, st.state,
                       read_file_or_empty(t.path() / "wchan"));
    std::string stack = read_file_or_empty(t.path() / "stack");
    out += stack.empty() ? "  (no kernel stack available)\n" : stack;
    out += "\n";
  }
  return out.empty() ? "(process already gone)\n" : out;
}

fs::path case_work_dir(const fs::path& test_dir, const std::string& id) { return test_dir / ("diotorture-" + id); }

CaseResult run_case(const CaseInfo& info, const fs::path& test_dir, const fs::path& results_dir,
                    const RunnerOptions& opts) {
  CaseResult r;
  r.id = info.id;
  const auto t0 = Clock::now();
  const fs::path full = results_dir / (info.id + ".full");
  const fs::path full_tmp = results_dir / (info.id + ".full.tmp");
  Fd log = open_or_throw(full_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  auto logf = [&](const std::string& s) { write_all(log.get(), s + "\n"); };
  logf(fmt::format("case {}: {}", info.id, info.description));
  logf(fmt::format("groups: {}; requires: {}", fmt::join(info.groups, ","), describe_needs(info.needs)));
  for (const auto& k : info.fixed_by) logf(fmt::format("fixed by: {} {}", k.hash, k.subject));
  for (const auto& k : info.regressed_by) logf(fmt::format("regressed by: {} {}", k.hash, k.subject));
  if (!info.fstests.empty()) logf(fmt::format("fstests: {}", fmt::join(info.fstests, " ")));
  if (!info.fs.empty()) logf(fmt::format("filesystem: {}", info.fs.describe()));
  std::string params;
  for (const auto& p : info.params) {
    auto it = opts.params.overrides.find(p.name);
    params += fmt::format(" {}={}", p.name, it == opts.params.overrides.end() ? p.default_value : it->second);
  }
  logf(fmt::format("seed {}; iterations {}; parameters:{}", opts.params.seed,
                   opts.params.iterations ? std::to_string(opts.params.iterations) : "case default",
                   params.empty() ? " (none)" : params));

  auto finish = [&](CaseResult& res) -> CaseResult& {
    res.duration_s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (res.status == Status::Fail || res.status == Status::Hang) res.hint = fix_hint(info);
    if (!res.hint.empty()) logf("hint: " + res.hint);
    logf(fmt::format("status {}{} after {:.2f}s", status_name(res.status),
                     res.reason.empty() ? "" : ": " + res.reason, res.duration_s));
    ::fsync(log.get());
    log.reset();
    fs::rename(full_tmp, full);
    return res;
  };

  const fs::path work = case_work_dir(test_dir, info.id);
  std::error_code ec;
  fs::remove_all(work, ec);
  fs::create_directories(work);

  // Declared needs, checked here so cases never test for them themselves.
  if (std::string why = unmet_needs(info, work); !why.empty()) {
    r.status = Status::NotRun;
    r.reason = why;
    fs::remove_all(work, ec);
    return finish(r);
  }

  int pfd[2];
  if (::pipe2(pfd, O_CLOEXEC) != 0) throw_errno("pipe");
  Fd ev_read(pfd[0]), ev_write(pfd[1]);
  KmsgWatch kmsg(fmt::format("begin {} {}", opts.run_id, info.id));
  const std::vector<std::string> own_devices = filesystem_device_names(test_dir);

  const unsigned timeout_s = opts.timeout_s.value_or(info.timeout_s);
  RunParams child_params = opts.params;
  child_params.timeout_s = timeout_s;
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) child_main(info, child_params, work, log.get(), ev_write.get(), parent);
  ::setpgid(pid, pid);  // also set here: no race with the kill below
  ev_write.reset();
  Fd pidfd(pidfd_open(pid));
  if (!pidfd) throw_errno("pidfd_open");
  ::fcntl(ev_read.get(), F_SETFL, O_NONBLOCK);

  const auto deadline = t0 + std::chrono::seconds(timeout_s);
  // The last sign of life from the case: an event, or its log growing. A
  // timeout right after one is a --timeout too short, not a stuck kernel.
  auto last_progress = Clock::time_point{};
  off_t log_size = 0;
  auto note_log_growth = [&] {
    struct stat st {};
    if (::fstat(log.get(), &st) == 0 && st.st_size != log_size) {
      log_size = st.st_size;
      last_progress = Clock::now();
    }
  };
  note_log_growth();  // the runner's own header lines are not the case's progress
  last_progress = {};
  std::string pending;
  auto drain = [&] {
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(ev_read.get(), buf, sizeof buf);
      if (n <= 0) break;
      pending.append(buf, static_cast<size_t>(n));
      last_progress = Clock::now();
    }
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      apply_event(&r, pending.substr(0, nl));
      pending.erase(0, nl + 1);
    }
  };

  bool exited = false, hung = false, interrupted_now = false;
  while (!exited) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      hung = true;
      break;
    }
    pollfd fds[3] = {{pidfd.get(), POLLIN, 0}, {ev_read.get(), POLLIN, 0}, {interrupt_fd(), POLLIN, 0}};
    int n = ::poll(fds, interrupt_fd() >= 0 ? 3 : 2, static_cast<int>(std::min<long long>(left, 1000)));
    if (n < 0 && errno != EINTR) throw_errno("poll");
    if (fds[1].revents) drain();
    note_log_growth();
    if (fds[0].revents & POLLIN) exited = true;
    if (interrupt_fd() >= 0 && (fds[2].revents & POLLIN) && interrupted()) {
      interrupted_now = true;
      break;
    }
  }

  if (hung) {
    std::string stacks = task_stacks(pid);
    const std::string where = fmt::format("main task in state {} at {}", process_state(pid),
                                          trim(read_file_or_empty(fmt::format("/proc/{}/wchan", pid))));
    ::kill(-pid, SIGKILL);
    bool died = wait_exit(pidfd.get(), 2000);
    char state = process_state(pid);
    r.status = Status::Hang;
    drain();
    note_log_growth();
    const double quiet_s = last_progress == Clock::time_point{}
                               ? static_cast<double>(timeout_s)
                               : std::chrono::duration<double>(Clock::now() - last_progress).count();
    if (quiet_s <= progress_window_s(timeout_s))
      r.reason = fmt::format("timed out while making progress: the case last reported progress {:.1f}s before the "
                             "{}s timeout ({}); it needs a longer --timeout",
                             quiet_s, timeout_s, where);
    else
      r.reason = fmt::format("no progress after {}s timeout (nothing reported for {:.1f}s; {})", timeout_s, quiet_s,
                             where);
    if (!died && state == 'D') {
      r.stuck_in_d_state = true;
      r.reason += "; still in D state after SIGKILL (the kernel cannot release it)";
      stacks += "\nAfter SIGKILL (2s later):\n" + task_stacks(pid);
    }
    write_file_atomic(results_dir / (info.id + ".stacks"),
                      fmt::format("case {} hung after {}s; tasks at the timeout:\n{}", info.id, timeout_s, stacks));
    logf("watchdog: " + r.reason + "; stacks in " + info.id + ".stacks");
    if (died) ::waitpid(pid, nullptr, 0);
  } else if (interrupted_now) {
    ::kill(-pid, SIGKILL);
    if (wait_exit(pidfd.get(), 2000)) ::waitpid(pid, nullptr, 0);
    logf("interrupted by signal; case killed");
    remove_stale_trace_instances(pid);
    finish(r);
    throw Interrupted();
  } else {
    int status = 0;
    ::waitpid(pid, &status, 0);
    drain();
    if (WIFSIGNALED(status)) {
      r.status = Status::Fail;
      r.reason = fmt::format("case process killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
      r.failures.push_back(r.reason);
    } else if (WEXITSTATUS(status) == kExitNotRun && r.status == Status::Pass) {
      r.status = Status::NotRun;
    }
  }
  remove_stale_trace_instances(pid);

  // The kernel log since the marker, whatever the case's own verdict.
  std::vector<std::string> klog = kmsg.collect();
  // Other runs and filesystems on this host log too: a line planted by
  // another run, or a btrfs message about another device, is not this case's.
  std::erase_if(klog, [&](const std::string& l) {
    return planted_by_another_run(l, owner_token()) || about_another_device(l, own_devices);
  });
  auto findings = scan_kernel_log(klog);
  std::erase_if(findings, [&](const KmsgFinding& f) {
    for (const auto& e : info.expected_kernel_log)
      if (f.line.find(e) != std::string::npos) {
        logf("kernel log (expected, provoked by the case): " + f.line);
        return true;
      }
    return false;
  });
  if (!findings.empty()) {
    std::string text;
    for (const auto& l : klog) text += l + "\n";
    write_file_atomic(results_dir / (info.id + ".dmesg"), text);
    for (const auto& f : findings) r.kernel_log_findings.push_back(f.line);
    std::string msg = fmt::format("kernel log: {} (see {}.dmesg)", findings.front().line, info.id);
    logf("FAIL: " + msg);
    if (r.status != Status::Hang) {
      if (r.status != Status::Fail) r.reason = msg;
      r.status = Status::Fail;
      r.failures.push_back(msg);
    }
  }
  // ENOSPC that a case reported as a failure: on a filesystem that really is
  // (nearly) full that is the set-up, and the case did not run; with room
  // left it may be a kernel ENOSPC bug and stays a FAIL, with a note.
  // A failure on a filesystem the case filled up proves nothing about the
  // kernel either; its text is kept as a note.
  const uint64_t avail = r.status == Status::Fail ? free_bytes(work) : UINT64_MAX;
  // A case about space pressure (group enospc) fills its filesystem on
  // purpose: its ENOSPC verdicts stand.
  // So does a case that sized a filesystem of its own: it chose how full it gets.
  const bool about_space =
      std::find(info.groups.begin(), info.groups.end(), "enospc") != info.groups.end() || info.fs.size != 0;
  if (r.status == Status::Fail && r.kernel_log_findings.empty() && !about_space &&
      (avail < kNearlyFull || mentions_out_of_space(r.failures))) {
    if (avail < kNearlyFull) {
      r.notes.push_back("failure on a full filesystem: " + r.reason);
      r.status = Status::NotRun;
      r.reason = out_of_space_reason(r.reason, work);
      r.failures.clear();
    } else {
      r.notes.push_back(fmt::format("ENOSPC with {} still free on {}: a kernel space-accounting bug?",
                                    format_size(avail), test_dir.string()));
    }
  }
  return finish(r);
}

}  // namespace dt
