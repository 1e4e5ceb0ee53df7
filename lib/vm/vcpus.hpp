// Where a hung guest's CPUs are, seen from the host. A guest whose timers
// stopped (a lost interrupt, a CPU spinning with interrupts off) cannot run
// its own stack dump, so before the host kills it at the timeout it asks
// qemu's monitor (QMP, a unix socket) for every vCPU's registers a few times,
// and afterwards names each instruction pointer from the guest's own
// /proc/kallsyms, which the guest saved on its results disk at boot (that
// covers KASLR and modules; Debian's System.map is a stub): "CPU1 running in
// smp_call_function_many_cond+0x137, CPU0 halted in default_idle+0x..." is
// the first line of a hang report.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace dt {

struct VcpuState {
  unsigned cpu = 0;
  uint64_t rip = 0;
  unsigned cpl = 0;     // 0 = kernel
  bool halted = false;  // HLT=1: waiting for an interrupt
};
using VcpuSamples = std::vector<std::vector<VcpuState>>;  // one vector per sample

// Pure: the vCPUs in the text of qemu's `info registers -a` (x86).
std::vector<VcpuState> parse_info_registers(const std::string& text);

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
// "CPU0: halted at default_idle+0x1e (3 samples, the same place every time)".
std::vector<std::string> describe_vcpus(const VcpuSamples& samples, const SymbolMap& symbols);

// Whether a unix socket can have this path (sun_path is about 108 bytes):
// qemu refuses to start with a -qmp socket it cannot bind.
bool qmp_socket_fits(const std::filesystem::path& socket);

// Sends one HMP command through qemu's QMP socket and returns its text;
// empty if the monitor does not answer within timeout_ms.
std::string qmp_human_command(const std::filesystem::path& socket, const std::string& command, int timeout_ms = 3000);

// Asks the monitor for the registers `samples` times, a second apart;
// empty if it never answered.
VcpuSamples sample_vcpus(const std::filesystem::path& socket, unsigned samples = 3);

}  // namespace dt
