#include "lib/harness/runner.hpp"
#include "lib/harness/require.hpp"

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <liburing.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "lib/harness/kmsg.hpp"
#include "lib/sys/interrupt.hpp"

namespace dt {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kExitNotRun = 77;
constexpr int kExitCaseError = 70;

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// Waits up to `ms` for the process behind pidfd to exit.
bool wait_exit(int pidfd, int ms) {
  pollfd p{pidfd, POLLIN, 0};
  return ::poll(&p, 1, ms) == 1;
}

[[noreturn]] void child_main(const CaseInfo& info, const RunParams& params, const fs::path& work_dir, int log_fd,
                             int event_fd) {
  unblock_interrupts_in_child();
  ::setpgid(0, 0);  // the watchdog kills the whole group
  int code = 0;
  {
    try {
      Context ctx(info, params, work_dir, log_fd, event_fd);
      try {
        info.fn(ctx);
      } catch (const NotRun& n) {
        write_all(event_fd, nlohmann::json{{"type", "notrun"}, {"reason", n.reason}}.dump() + "\n");
        code = kExitNotRun;
      }
    } catch (const std::exception& e) {
      std::string msg = fmt::format("case aborted: {}", e.what());
      std::string line = "FAIL: " + msg + "\n";
      std::string ev = nlohmann::json{{"type", "fail"}, {"msg", msg}}.dump() + "\n";
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
  std::string stat = read_file_or_empty(fmt::format("/proc/{}/stat", pid));
  auto rp = stat.rfind(')');
  if (rp == std::string::npos || rp + 2 >= stat.size()) return '?';
  return stat[rp + 2];
}

std::string task_stacks(pid_t pid) {
  std::string out;
  std::error_code ec;
  for (const auto& t : fs::directory_iterator(fmt::format("/proc/{}/task", pid), ec)) {
    const std::string tid = t.path().filename().string();
    std::string stat = read_file_or_empty(t.path() / "stat");
    auto lp = stat.find('('), rp = stat.rfind(')');
    std::string comm = lp != std::string::npos && rp != std::string::npos ? stat.substr(lp + 1, rp - lp - 1) : "?";
    char state = rp != std::string::npos && rp + 2 < stat.size() ? stat[rp + 2] : '?';
    out += fmt::format("task {} ({}) state {} wchan {}\n", tid, comm, state,
                       read_file_or_empty(t.path() / "wchan"));
    std::string stack = read_file_or_empty(t.path() / "stack");
    out += stack.empty() ? "  (no kernel stack available)\n" : stack;
    out += "\n";
  }
  return out.empty() ? "(process already gone)\n" : out;
}

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

  const fs::path work = test_dir / ("diotorture-" + info.id);
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

  const unsigned timeout_s = opts.timeout_s.value_or(info.timeout_s);
  RunParams child_params = opts.params;
  child_params.timeout_s = timeout_s;
  pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) child_main(info, child_params, work, log.get(), ev_write.get());
  ::setpgid(pid, pid);  // also set here: no race with the kill below
  ev_write.reset();
  Fd pidfd(pidfd_open(pid));
  if (!pidfd) throw_errno("pidfd_open");
  ::fcntl(ev_read.get(), F_SETFL, O_NONBLOCK);

  const auto deadline = t0 + std::chrono::seconds(timeout_s);
  std::string pending;
  auto drain = [&] {
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(ev_read.get(), buf, sizeof buf);
      if (n <= 0) break;
      pending.append(buf, static_cast<size_t>(n));
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
    r.reason = fmt::format("no progress after {}s timeout ({})", timeout_s, where);
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
  if (!r.stuck_in_d_state) fs::remove_all(work, ec);
  return finish(r);
}

}  // namespace dt
