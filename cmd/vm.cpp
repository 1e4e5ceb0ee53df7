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
  std::string kernel, modules, accel = "auto", results = "results";
  uint64_t mem = 2ull << 30, disk_size = 4ull << 30;
  unsigned cpus = 2, disks = 4, timeout = 1800;
  std::vector<std::string> args;
};

int vm(const VmCli& c) {
  VmOptions o;
  if (c.kernel.empty()) throw SetupError("--kernel is required: the bzImage to boot, e.g. boot/vmlinuz-6.1.0-50-amd64");
  o.kernel = c.kernel;
  o.modules = c.modules;
  o.mem = c.mem;
  o.cpus = c.cpus;
  o.disks = c.disks;
  o.disk_size = c.disk_size;
  o.timeout_s = c.timeout;
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
  sub.add_option("--mem", o->mem, "Guest memory (default 2G)")
      ->transform(Bounded("a memory size", 512ull << 20, 1ull << 40, true));
  sub.add_option("--cpus", o->cpus, "Guest CPUs")->transform(Bounded("a CPU count", 1, 64))->capture_default_str();
  sub.add_option("--disks", o->disks, "Blank scratch disks (the guest's SCRATCH_DEV_POOL)")
      ->transform(Bounded("a disk count", 1, 20))
      ->capture_default_str();
  sub.add_option("--disk-size", o->disk_size, "Size of each scratch disk, sparse (default 4G)")
      ->transform(Bounded("a disk size", 256ull << 20, 4ull << 40, true));
  sub.add_option("--timeout", o->timeout, "Seconds before the guest is killed")
      ->transform(Bounded("a number of seconds", 10, 7 * 86400))
      ->capture_default_str();
  sub.add_option("--accel", o->accel, "auto (KVM if it boots, else TCG), kvm or tcg")
      ->check(OneOf({"auto", "kvm", "tcg"}))
      ->capture_default_str();
  sub.add_option("--results", o->results, "Results root on the host")->capture_default_str();
  // Everything from the guest's subcommand on belongs to the guest, with or
  // without a `--` before it: `vm --kernel K run -g quick` passes `-g quick`
  // on instead of reading -g as an option of vm.
  sub.prefix_command();
  sub.footer("After the options of vm: the subcommand for the guest and its arguments (a -- before it is optional)");
  return [o, app = &sub] {
    o->args = app->remaining();
    if (!o->args.empty() && o->args.front() == "--") o->args.erase(o->args.begin());
    return vm(*o);
  };
}

}  // namespace dt
