// Whose code a guest kernel panic happened in. A nightly job must not fail
// for a panic far from the filesystem (issue 27.14: a 6.1 guest under TCG
// panicked in instance_rmdir -> tracepoint_probe_unregister ->
// __static_call_update, an int3 in __schedule, while a trace instance was
// removed; the same kernel ran every case in the next boots): `vm` says so
// and boots once more, as for a proven emulator fault.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dt {

// Pure: the functions of the stack frames the console printed for the
// oops/BUG/warning that led to the last "Kernel panic" ("RIP:" and "Call
// Trace:" lines; "? " guesses included), innermost first.
std::vector<std::string> panic_frames(std::string_view console);
// Pure: whether a frame's function is the filesystem's (btrfs, iomap).
bool filesystem_frame(std::string_view frame);
// Pure: "" if the console has no panic, or a frame of the panic is the
// filesystem's, or no frame could be read (then nothing is assumed);
// otherwise one sentence naming where it died, e.g. "the guest kernel
// panicked outside btrfs and iomap code (in __schedule, from
// __static_call_update <- tracepoint_probe_unregister <- ...)".
std::string panic_outside_filesystem(std::string_view console);

}  // namespace dt
