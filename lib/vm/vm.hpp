// `diotorture vm`: the same binary against another kernel under qemu. The
// host builds an initramfs (initramfs.hpp), boots qemu with KVM when KVM
// really works and TCG otherwise, gives the guest blank virtio disks as its
// scratch device pool and one more disk for the results, and watches it:
// a guest that panics, oopses or stops making progress is killed at the
// timeout and its serial console is kept. The results come back on their own
// disk (a btrfs the guest formats and the host mounts afterwards), never by
// scraping the console.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace dt {

// The machine a kernel boots in, the same for every command that boots one
// (vm, crash, ab): its size, how long a boot may take, and the accelerator.
struct GuestMachine {
  uint64_t mem = 2ull << 30;
  unsigned cpus = 2;
  unsigned timeout_s = 1800;   // per boot
  std::string accel = "auto";  // auto (KVM if it boots, else TCG), kvm, tcg
  // After a boot: the accelerator it used becomes this machine's, so KVM is
  // probed once, not before every boot (a 10 s wait where it does not work).
  void settle_accel(const std::string& used) {
    if (accel == "auto" && !used.empty()) accel = used;
  }
};

struct VmOptions {
  std::filesystem::path kernel;
  std::filesystem::path modules;  // .../lib/modules/VERSION, or empty
  GuestMachine machine;
  unsigned disks = 4;
  uint64_t disk_size = 4ull << 30;
  std::filesystem::path results_root = "results";
  std::vector<std::string> args;  // the subcommand and its arguments
  // Called about every 200 ms with the serial console so far (ab's progress).
  std::function<void(const std::string& console)> on_console;
  // For commands that bring their own disks and channels (crash): more qemu
  // arguments after the scratch disks, more binaries and files in the
  // initramfs, more kernel command-line words.
  std::vector<std::string> extra_qemu_args;
  std::vector<std::string> extra_binaries;
  std::vector<std::string> extra_modules;  // loaded after the usual ones, with their dependencies
  std::vector<std::pair<std::string, std::string>> extra_placed;  // host path -> path in the guest (vm --add-binary)
  std::vector<std::pair<std::string, std::string>> extra_files;
  std::string extra_kernel_args;
  // Boots again, this many times, after a guest killed at its timeout whose
  // hang the host proved to be qemu's (a lost vCPU wakeup, vcpus.hpp): that
  // says nothing about the kernel under test. The attempt's results stay.
  // 0 where the disks carry state from one boot to the next (crash).
  unsigned emulator_retries = 1;
};

// What a run found out that a caller booting again can reuse.
struct VmOutcome {
  std::string accel;                  // "kvm" or "tcg", as used
  std::vector<std::string> run_dirs;  // copied into results_root
  double seconds = 0;
};

// The subcommands a guest may run: the user's (run, bench, torture, list)
// and crash's two halves, which only `diotorture crash` starts.
bool guest_subcommand_allowed(const std::string& name);

// Pure: the guest's /init script for these arguments (quoted for sh). A
// guest still running stack_dump_after_s seconds after its start prints
// every blocked task's stack on the console (sysrq w at full log level),
// so a hang the host is about to kill at its timeout leaves its evidence in
// console.log; 0 = never.
std::string guest_init_script(const std::vector<std::string>& args, unsigned disks, unsigned stack_dump_after_s = 0);
// When a guest with this timeout dumps its stacks: 30 s before the host's
// deadline, or halfway for short timeouts.
unsigned stack_dump_time(unsigned timeout_s);
std::string shell_quote(const std::string& s);

// Runs the guest; returns the guest tool's exit status, or 3 when the guest
// had to be killed or died. Throws SetupError for bad input. The outcome's
// run_dirs include those of attempts the emulator spoilt.
int run_vm(const VmOptions& opts, std::ostream& out, VmOutcome* outcome = nullptr);

// run_vm's retry rule, apart for its test: calls boot(earlier faults,
// &fault) until a boot reports no emulator fault or `retries` more boots
// were made, calling before_retry(next attempt number, fault) in between;
// returns the last boot's status.
int retry_emulator_faults(unsigned retries, const std::function<int(const std::vector<std::string>&, std::string*)>& boot,
                          const std::function<void(unsigned, const std::string&)>& before_retry);

}  // namespace dt
