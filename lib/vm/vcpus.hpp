// Where a hung guest's CPUs are, seen from the host. A guest whose timers
// stopped (a lost interrupt, a CPU spinning with interrupts off) cannot run
// its own stack dump, so before the host kills it at the timeout it asks
// qemu's monitor (QMP, a unix socket) for every vCPU's registers a few times,
// and afterwards names each instruction pointer from the guest's own
// /proc/kallsyms, which the guest saved on its results disk at boot (that
// covers KASLR and modules; Debian's System.map is a stub): "CPU1 running in
// smp_call_function_many_cond+0x137, CPU0 halted in default_idle+0x..." is
// the first line of a hang report.
//
// It also tells an emulator's fault from the kernel's: under TCG a halted
// vCPU can miss its wakeup (the CI hang of a 6.1 guest: CPU0 stopped taking
// timer interrupts while CPU1 spun waiting for it). Each vCPU's local APIC
// says whether an interrupt it would take was waiting while it stayed halted
// with interrupts on, which real hardware never allows, and the host's view
// of qemu's own threads says whether that vCPU's thread was asleep.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "lib/sys/sys.hpp"

namespace dt {

struct VcpuState {
  unsigned cpu = 0;
  uint64_t rip = 0;
  unsigned cpl = 0;            // 0 = kernel
  bool halted = false;         // HLT=1: waiting for an interrupt
  bool interrupts_on = false;  // RFLAGS.IF
  // Its local APIC in the same sample (`info lapic`), if the monitor gave it.
  bool lapic_read = false;
  std::vector<unsigned> irr, isr;  // vectors requested, and in service
  unsigned ppr = 0;                // processor priority: a vector above its class is taken
  std::string timer;               // for people: "one-shot, 15634624 of 20936842 counts left"
  std::string timer_mode;          // "one-shot", "periodic", "tsc-deadline" or ""
  bool timer_masked = false;
  uint64_t timer_initial = 0, timer_current = 0;  // counts (0 initial: stopped)
};
using VcpuSamples = std::vector<std::vector<VcpuState>>;  // one vector per sample

// Pure: the vCPUs in the text of qemu's `info registers -a` (x86).
std::vector<VcpuState> parse_info_registers(const std::string& text);
// Pure: fills the local APIC fields of `cpu` from qemu's `info lapic` text;
// false (fields untouched) if it is not such a dump.
bool parse_info_lapic(const std::string& text, VcpuState* cpu);
// The highest requested vector the CPU would take now if its interrupts
// were on and it was running (above its processor priority), or 0.
unsigned deliverable_vector(const VcpuState& cpu);

// A kernel's text symbols, for naming addresses.
class SymbolMap {
 public:
  // /proc/kallsyms or System.map text: "ADDR TYPE NAME [MODULE]".
  static SymbolMap parse(const std::string& kallsyms);
  bool empty() const { return symbols_.empty(); }
  // "name+0xoff" ("name+0xoff [module]"), or the bare address when no
  // symbol is below it.
  std::string describe(uint64_t addr) const;

 private:
  std::vector<std::pair<uint64_t, std::string>> symbols_;  // sorted by address
};

// Pure: one line per vCPU over the samples, e.g.
// "CPU0: halted at default_idle+0x1e (3 samples, the same place every time)",
// followed by what its local APIC held in the last sample that read it.
std::vector<std::string> describe_vcpus(const VcpuSamples& samples, const SymbolMap& symbols);

// Pure: "" unless some vCPU stayed halted with interrupts on in every
// sample and, in the last two samples that read its local APIC, either
//  - a vector it would take waited there (hardware wakes a halted CPU for
//    that at once: qemu did not kick the vCPU), or
//  - its unmasked one-shot timer had run out with nothing requested or in
//    service (the expiry never became an interrupt: Linux masks and stops
//    that timer when a CPU needs no more ticks, and reprograms it in the
//    handler when it does, so an armed, expired, undelivered timer is never
//    a state the guest leaves a sleeping CPU in);
// then one sentence naming that CPU and what it waited for. Either way the
// hang is the emulator's lost wakeup, not the guest kernel's.
std::string lost_wakeup(const VcpuSamples& samples);

// Pure: the state in qemu's `info status` answer ("running",
// "paused (io-error)"), or "" if it is not one.
std::string parse_vm_status(const std::string& text);
// Pure: "" if the guest was running (or its state unknown); otherwise a
// sentence saying qemu itself had stopped it, and what that means.
std::string stopped_by_qemu(const std::string& vm_status);

// One thread of the qemu process, from the host's /proc.
struct HostThread {
  int tid = 0;
  std::string name;  // "CPU 0/TCG" for a vCPU
  char state = '?';
  uint64_t cpu_ticks = 0;
  std::string wchan;  // where a sleeping thread waits in the host kernel
};
std::vector<HostThread> read_host_threads(pid_t pid);
// Pure: one line naming each vCPU thread and the main thread, with its
// state and the CPU time it used between the two snapshots.
std::string describe_host_threads(const std::vector<HostThread>& before, const std::vector<HostThread>& after,
                                  double seconds, long ticks_per_second);

// Whether a unix socket can have this path (sun_path is about 108 bytes):
// qemu refuses to start with a -qmp socket it cannot bind.
bool qmp_socket_fits(const std::filesystem::path& socket);

// One connection to qemu's QMP socket, for human monitor (HMP) commands.
class QmpClient {
 public:
  // Connects and negotiates; ok() is false, and failure() says why, if
  // that did not happen within timeout_ms.
  QmpClient(const std::filesystem::path& socket, int timeout_ms);
  bool ok() const { return static_cast<bool>(fd_); }
  const std::string& failure() const { return failure_; }
  // The command's text, run on vCPU `cpu_index` (-1: the monitor's
  // default); false, with failure() set, if qemu did not answer in time.
  bool human(const std::string& command, int cpu_index, std::string* text);

 private:
  bool fail(const std::string& why);
  Fd fd_;
  int timeout_ms_;
  std::string buf_;
  std::string failure_;
};

// Sends one HMP command and returns its text; empty if the monitor does
// not answer within timeout_ms.
std::string qmp_human_command(const std::filesystem::path& socket, const std::string& command, int timeout_ms = 3000);

// Everything the host can learn about a guest it is about to kill.
struct HangEvidence {
  unsigned asked = 0;                         // samples asked for
  std::string vm_status;                      // qemu's run state, "" if unknown
  VcpuSamples samples;                        // the samples the monitor answered
  std::vector<std::string> monitor_failures;  // why the others are missing
  std::vector<HostThread> threads_before, threads_after;  // qemu's threads around the samples
  double seconds = 0;                                     // between those two snapshots
};
// Asks the monitor for registers and local APICs `samples` times, a second
// apart, and reads qemu's threads before and after.
HangEvidence gather_hang_evidence(const std::filesystem::path& socket, pid_t qemu, unsigned samples = 3);

}  // namespace dt
