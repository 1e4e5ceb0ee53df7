// diotorture vm --kernel PATH [--modules DIR] [--mem SIZE] [--cpus N] [--disks N --disk-size SIZE]
//               [--timeout S] [--accel auto|kvm|tcg] [--results DIR] -- SUBCOMMAND ARGS...
// Checks the options and hands them to lib/vm.
#include <unistd.h>

#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cmd/command.hpp"
#include "lib/sys/sys.hpp"
#include "lib/vm/vm.hpp"

namespace dt {
namespace {

struct VmCli {
  std::string kernel, modules, mem = "2G", cpus = "2", disks = "4", disk_size = "4G", timeout = "1800",
                                   accel = "auto", results = "results";
  std::vector<std::string> args;
};

int vm(const VmCli& c) {
  VmOptions o;
  if (c.kernel.empty()) throw SetupError("--kernel is required: the bzImage to boot, e.g. boot/vmlinuz-6.1.0-50-amd64");
  o.kernel = c.kernel;
  o.modules = c.modules;
  o.mem = bounded_number("--mem", c.mem, "a memory size", 512ull << 20, 1ull << 40);
  o.cpus = static_cast<unsigned>(bounded_number("--cpus", c.cpus, "a CPU count", 1, 64));
  o.disks = static_cast<unsigned>(bounded_number("--disks", c.disks, "a disk count", 1, 20));
  o.disk_size = bounded_number("--disk-size", c.disk_size, "a disk size", 256ull << 20, 1ull << 42);
  o.timeout_s = static_cast<unsigned>(bounded_number("--timeout", c.timeout, "a number of seconds", 10, 7 * 86400));
  if (c.accel != "auto" && c.accel != "kvm" && c.accel != "tcg")
    throw SetupError(fmt::format("--accel '{}' is not auto, kvm or tcg", c.accel));
  o.accel = c.accel;
  o.results_root = c.results;
  o.args = c.args;
  if (::geteuid() != 0) throw SetupError("diotorture vm needs root (it mounts the results disk); rerun it as root");
  return run_vm(o, std::cout);
}

}  // namespace

Action setup_vm(CLI::App& sub) {
  auto o = std::make_shared<VmCli>();
  sub.add_option("--kernel", o->kernel, "Kernel image (bzImage/vmlinuz) to boot");
  sub.add_option("--modules", o->modules, "The kernel's lib/modules/VERSION directory (btrfs, virtio, loop)");
  sub.add_option("--mem", o->mem, "Guest memory")->capture_default_str();
  sub.add_option("--cpus", o->cpus, "Guest CPUs")->capture_default_str();
  sub.add_option("--disks", o->disks, "Blank scratch disks (the guest's SCRATCH_DEV_POOL)")->capture_default_str();
  sub.add_option("--disk-size", o->disk_size, "Size of each scratch disk (sparse)")->capture_default_str();
  sub.add_option("--timeout", o->timeout, "Seconds before the guest is killed")->capture_default_str();
  sub.add_option("--accel", o->accel, "auto (KVM if it boots, else TCG), kvm or tcg")->capture_default_str();
  sub.add_option("--results", o->results, "Results root on the host")->capture_default_str();
  sub.add_option("args", o->args, "After --: the subcommand for the guest and its arguments");
  return [o] { return vm(*o); };
}

}  // namespace dt
