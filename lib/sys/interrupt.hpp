// SIGINT/SIGTERM/SIGHUP handling without async-signal-unsafe handlers: the
// signals are blocked and read from a signalfd, so the runner's poll loop can
// wake on them and unwind normally (which unmounts and detaches scratch).
#pragma once

namespace dt {

// Blocks the interrupt signals in this thread (call first in main, before any
// thread is created) and opens the signalfd.
void install_interrupt_handling();
// The signalfd, for poll(); -1 if not installed.
int interrupt_fd();
// True once an interrupt arrived (consumes pending signals from the fd).
bool interrupted();
// Throws dt::Interrupted if an interrupt arrived.
void throw_if_interrupted();
// The signal that interrupted us (for the 128+N exit status), 0 if none.
int interrupt_signal();
// In a forked child: restore default dispositions and an empty mask.
void unblock_interrupts_in_child();

}  // namespace dt
