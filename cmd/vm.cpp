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
  GuestOptions g;
  std::string results = "results";
  uint64_t disk_size = 4ull << 30;
  unsigned disks = 4;
  std::vector<std::string> add_binaries;
  std::vector<std::string> args;
};

int vm(const VmCli& c) {
  VmOptions o;
  if (c.g.kernel.empty()) throw SetupError("--kernel is required: the bzImage to boot, e.g. boot/vmlinuz-6.1.0-50-amd64");
  o.kernel = c.g.kernel;
  o.modules = c.g.modules;
  o.machine = c.g.machine;
  o.disks = c.disks;
  o.disk_size = c.disk_size;
  o.results_root = c.results;
  o.args = c.args;
  for (const auto& b : c.add_binaries) {
    const auto colon = b.find(':');
    const std::string host = b.substr(0, colon);
    const std::string guest = colon == std::string::npos ? "/bin/" + std::filesystem::path(host).filename().string()
                                                         : b.substr(colon + 1);
    if (::access(host.c_str(), X_OK) != 0)
      throw SetupError(fmt::format("--add-binary {}: {} is not an executable file", b, host));
    if (guest.empty() || guest[0] != '/')
      throw SetupError(fmt::format("--add-binary {}: the guest path must be absolute, e.g. {}:/bin/repro", b, host));
    o.extra_placed.emplace_back(std::filesystem::absolute(host).string(), guest);
  }
  return run_vm(o, std::cout);
}

}  // namespace

Action setup_vm(CLI::App& sub) {
  auto o = std::make_shared<VmCli>();
  add_guest_options(sub, &o->g, "Seconds before the guest is killed");
  sub.add_option("--disks", o->disks, "Blank scratch disks (the guest's SCRATCH_DEV_POOL)")
      ->transform(Bounded("a disk count", 1, 20))
      ->capture_default_str();
  sub.add_option("--disk-size", o->disk_size, "Size of each scratch disk, sparse (default 4G)")
      ->transform(Bounded("a disk size", 256ull << 20, 4ull << 40, true));
  add_results_option(sub, &o->results, "Results root on the host; each run writes a new directory in it");
  repeatable(sub.add_option("--add-binary", o->add_binaries,
                            "HOST[:GUEST] put this program (and the libraries it links) into the guest, e.g. a "
                            "built repro.c for `-- exec`; default GUEST /bin/NAME (repeatable)"));
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
