// Running the rounds of `diotorture ab`: each round boots one side's kernel
// under qemu (lib/vm) -- a fresh initramfs, fresh blank scratch disks, so a
// fresh filesystem -- or, for `--kernel host`, runs `bench` on this machine in
// a child process (a fresh self-provisioned loop btrfs), and keeps that
// round's results in its own directory. On a terminal a progress line says
// which round, which kernel, which workload and about how long is left.
#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "lib/bench/bench_report.hpp"
#include "lib/vm/vm.hpp"

namespace dt {

struct AbSide {
  std::string kernel;   // "host", or a bzImage to boot
  std::string modules;  // its lib/modules/VERSION (VM kernels), or empty
  std::string label;
  std::string release;  // the kernel release, for the header
  bool host() const { return kernel == "host"; }
};

struct AbOptions {
  AbSide sides[2];
  unsigned rounds = 5;                   // boots per side
  std::vector<std::string> bench_args;  // what follows `bench`
  VmOptions vm;                          // memory, CPUs, disks, timeout, accelerator for VM rounds
  std::filesystem::path dir;             // this ab run's directory: round-NN-A/, round-NN-B/ ...
  bool progress = false;                 // a live line (a terminal); else a line per round
};

struct AbRoundsResult {
  std::vector<BenchRun> runs[2];  // per side, in round order
  std::vector<std::string> round_dirs;
  std::string accel;  // the accelerator the VM rounds used ("" if none ran)
  int failed_rc = 0;  // a round's non-zero exit status; the rounds stop there
  std::string failure;
};

AbRoundsResult run_ab_rounds(const AbOptions& opts, std::ostream& out);

}  // namespace dt
