#include "lib/run/watchdog.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "lib/sys/interrupt.hpp"
#include "lib/sys/sys.hpp"

namespace dt {
namespace fs = std::filesystem;

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

namespace {

constexpr int kExitChildError = 70;  // EX_SOFTWARE: the body threw

[[noreturn]] void child(const std::function<int(int)>& body, const WatchdogOptions& opts, pid_t parent, Fd& rd,
                        Fd& wr) {
  unblock_interrupts_in_child();
  if (opts.die_with_parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(kExitChildError);  // the parent died before prctl
  }
  ::setpgid(0, 0);  // the supervisor kills the whole group
  rd.reset();
  int code = kExitChildError;
  try {
    code = body(wr.get());
  } catch (const std::exception& e) {
    std::string line = nlohmann::json{{"type", "abort"}, {"msg", e.what()}}.dump() + "\n";
    (void)!::write(wr.get(), line.data(), line.size());
  }
  ::_exit(code);
}

}  // namespace

ChildOutcome run_watched(const std::function<int(int)>& body, const WatchdogOptions& opts) {
  using Clock = std::chrono::steady_clock;
  ChildOutcome out;
  int pfd[2];
  if (::pipe2(pfd, O_CLOEXEC) != 0) throw_errno("pipe");
  Fd rd(pfd[0]), wr(pfd[1]);
  const pid_t parent = ::getpid();
  const auto forked = Clock::now();
  const auto t0 = opts.since.value_or(forked);
  pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) child(body, opts, parent, rd, wr);
  ::setpgid(pid, pid);  // also here: no race with a kill below
  wr.reset();
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) throw_errno("pidfd_open");
  ::fcntl(rd.get(), F_SETFL, O_NONBLOCK);

  // The last sign of life: a report line, or the progress file growing.
  // None yet: the stall timer counts from the start.
  std::optional<Clock::time_point> last_progress;
  off_t progress_size = 0;
  auto note_growth = [&] {
    struct stat st {};
    if (opts.progress_fd >= 0 && ::fstat(opts.progress_fd, &st) == 0 && st.st_size != progress_size) {
      progress_size = st.st_size;
      last_progress = Clock::now();
    }
  };
  note_growth();  // what was written before the fork is not the child's progress
  last_progress.reset();
  std::string pending;
  auto drain = [&] {
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(rd.get(), buf, sizeof buf);
      if (n <= 0) break;
      pending.append(buf, static_cast<size_t>(n));
      last_progress = Clock::now();
    }
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      if (opts.on_line) opts.on_line(pending.substr(0, nl));
      pending.erase(0, nl + 1);
    }
  };
  auto wait_exit = [&](int ms) {
    pollfd p{pidfd.get(), POLLIN, 0};
    return ::poll(&p, 1, ms) == 1;
  };

  auto last_tick = Clock::now();
  const auto deadline = t0 + std::chrono::seconds(opts.total_s);
  bool exited = false, interrupted_now = false;
  std::string why;
  while (!exited) {
    const auto now = Clock::now();
    if (now >= deadline) {
      why = fmt::format("still running after the {}s limit", opts.total_s);
      break;
    }
    if (opts.stall_s && now - last_progress.value_or(t0) > std::chrono::seconds(opts.stall_s)) {
      why = fmt::format("no progress for {}s", opts.stall_s);
      break;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    pollfd fds[3] = {{pidfd.get(), POLLIN, 0}, {rd.get(), POLLIN, 0}, {interrupt_fd(), POLLIN, 0}};
    int n = ::poll(fds, interrupt_fd() >= 0 ? 3 : 2, static_cast<int>(std::clamp<long long>(left, 1, 250)));
    if (n < 0 && errno != EINTR) throw_errno("poll");
    if (fds[1].revents) drain();
    note_growth();
    if (fds[0].revents & POLLIN) exited = true;
    if (interrupt_fd() >= 0 && (fds[2].revents & POLLIN) && interrupted()) {
      interrupted_now = true;
      break;
    }
    if (opts.on_tick && Clock::now() - last_tick >= std::chrono::seconds(1)) {
      last_tick = Clock::now();
      opts.on_tick();
    }
  }
  if (interrupted_now) {
    ::kill(-pid, SIGKILL);
    if (wait_exit(2000)) ::waitpid(pid, nullptr, 0);
    if (opts.after_child) opts.after_child(pid);
    throw Interrupted();
  }
  if (!exited) {
    out.end = ChildOutcome::End::Hung;
    out.stacks = task_stacks(pid);
    // The stuck task may be any thread (an I/O thread, an event thread):
    // name the main one, the stacks show the rest.
    out.where = fmt::format("main task in state {} at {}", process_state(pid),
                            trim(read_file_or_empty(fmt::format("/proc/{}/wchan", pid))));
    out.hang_reason = fmt::format("{} ({})", why, out.where);
    ::kill(-pid, SIGKILL);
    const bool died = wait_exit(2000);
    // What the child wrote before it was killed is still its report.
    drain();
    note_growth();
    out.quiet_s = last_progress ? std::chrono::duration<double>(Clock::now() - *last_progress).count()
                                : static_cast<double>(opts.total_s);
    if (!died && process_state(pid) == 'D') {
      out.stuck_in_d_state = true;
      out.hang_reason += "; still in D state after SIGKILL (the kernel cannot release it)";
      out.stacks += "\nAfter SIGKILL (2s later):\n" + task_stacks(pid);
    }
    if (died) ::waitpid(pid, nullptr, 0);
  } else {
    int status = 0;
    ::waitpid(pid, &status, 0);
    drain();
    if (WIFSIGNALED(status)) {
      out.end = ChildOutcome::End::Signaled;
      out.signal = WTERMSIG(status);
    } else {
      out.exit_code = WEXITSTATUS(status);
    }
  }
  if (opts.after_child) opts.after_child(pid);
  out.seconds = std::chrono::duration<double>(Clock::now() - forked).count();
  return out;
}

}  // namespace dt
