#include "lib/sys/interrupt.hpp"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "lib/sys/sys.hpp"

namespace dt {
namespace {
int g_fd = -1;
int g_signal = 0;

sigset_t interrupt_set() {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGINT);
  sigaddset(&s, SIGTERM);
  sigaddset(&s, SIGHUP);
  return s;
}
}  // namespace

void install_interrupt_handling() {
  if (g_fd >= 0) return;
  sigset_t s = interrupt_set();
  if (sigprocmask(SIG_BLOCK, &s, nullptr) != 0) throw_errno("sigprocmask");
  g_fd = signalfd(-1, &s, SFD_NONBLOCK | SFD_CLOEXEC);
  if (g_fd < 0) throw_errno("signalfd");
}

int interrupt_fd() { return g_fd; }

bool interrupted() {
  if (g_fd < 0) return false;
  signalfd_siginfo si{};
  while (::read(g_fd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
    if (!g_signal) g_signal = static_cast<int>(si.ssi_signo);
  }
  return g_signal != 0;
}

void throw_if_interrupted() {
  if (interrupted()) throw Interrupted();
}

int interrupt_signal() { return g_signal; }

void unblock_interrupts_in_child() {
  sigset_t s = interrupt_set();
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  sigprocmask(SIG_UNBLOCK, &s, nullptr);
  if (g_fd >= 0) {
    ::close(g_fd);
    g_fd = -1;
  }
}

}  // namespace dt
