#include "lib/run/watchdog.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "lib/harness/runner.hpp"
#include "lib/sys/interrupt.hpp"
#include "lib/sys/sys.hpp"

namespace dt {

ChildOutcome run_watched(const std::function<int(int)>& body, const WatchdogOptions& opts) {
  using Clock = std::chrono::steady_clock;
  ChildOutcome out;
  int pfd[2];
  if (::pipe2(pfd, O_CLOEXEC) != 0) throw_errno("pipe");
  Fd rd(pfd[0]), wr(pfd[1]);
  const auto t0 = Clock::now();
  pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    unblock_interrupts_in_child();
    ::setpgid(0, 0);
    rd.reset();
    int code = 70;
    try {
      code = body(wr.get());
    } catch (const std::exception& e) {
      std::string line = nlohmann::json{{"type", "abort"}, {"msg", e.what()}}.dump() + "\n";
      (void)!::write(wr.get(), line.data(), line.size());
    }
    ::_exit(code);
  }
  ::setpgid(pid, pid);
  wr.reset();
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) throw_errno("pidfd_open");
  ::fcntl(rd.get(), F_SETFL, O_NONBLOCK);
  auto last_progress = Clock::now(), last_tick = Clock::now();
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
  bool exited = false, interrupted_now = false;
  std::string why;
  while (!exited) {
    const auto now = Clock::now();
    if (now - t0 > std::chrono::seconds(opts.total_s)) {
      why = fmt::format("still running after the {}s limit", opts.total_s);
      break;
    }
    if (now - last_progress > std::chrono::seconds(opts.stall_s)) {
      why = fmt::format("no progress for {}s", opts.stall_s);
      break;
    }
    pollfd fds[3] = {{pidfd.get(), POLLIN, 0}, {rd.get(), POLLIN, 0}, {interrupt_fd(), POLLIN, 0}};
    int n = ::poll(fds, interrupt_fd() >= 0 ? 3 : 2, 250);
    if (n < 0 && errno != EINTR) throw_errno("poll");
    if (fds[1].revents) drain();
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
  auto wait_exit = [&](int ms) {
    pollfd p{pidfd.get(), POLLIN, 0};
    return ::poll(&p, 1, ms) == 1;
  };
  if (interrupted_now) {
    ::kill(-pid, SIGKILL);
    if (wait_exit(2000)) ::waitpid(pid, nullptr, 0);
    throw Interrupted();
  }
  if (!exited) {
    out.end = ChildOutcome::End::Hung;
    out.stacks = task_stacks(pid);
    // The stuck task may be any thread of the engine (an I/O thread, the
    // event thread): name the main one, the stacks show the rest.
    out.hang_reason = fmt::format("{} (main task in state {} at {})", why, process_state(pid),
                                  trim(read_file_or_empty(fmt::format("/proc/{}/wchan", pid))));
    ::kill(-pid, SIGKILL);
    const bool died = wait_exit(2000);
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
  out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return out;
}

}  // namespace dt
