// `diotorture crash`: power-cut testing of the kernel under test, in qemu.
//
//   1. Record: one boot runs the durability workloads (workload.hpp) on a
//      disk behind qemu's blklogwrites driver, so the host gets every write
//      and flush in a dm-log-writes log, independent of the guest kernel.
//   2. Crash states: prefixes of that log (points.hpp), replayed onto blank
//      images on the host (write_log.hpp).
//   3. Check: boots of the same kernel with several states attached as
//      disks; each is mounted (log replay), checked against the acks made
//      before its crash point (verify.hpp), scrubbed and `btrfs check`ed.
// Results like `run`: summary.json, junit.xml, one record per crash state.
#pragma once

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "lib/vm/vm.hpp"

namespace dt {

struct CrashOptions {
  std::filesystem::path kernel, modules;
  std::string workloads = "all";
  std::vector<std::string> kinds = {"datasum", "nodatasum"};
  unsigned points = 8;   // flush points (0 = every flush)
  unsigned subsets = 0;  // random unflushed-write subsets per point
  unsigned ops = 12;     // operations per workload and file kind
  unsigned states_per_boot = 8;
  uint64_t seed = 1;
  GuestMachine machine{.mem = 1ull << 30, .timeout_s = 1200};
  std::filesystem::path results_root = "results";
  bool keep_images = false;
  bool progress = false;  // a terminal: one status line rewritten in place
};

// The disk the guest writes to: the filesystem, then room for ack markers.
constexpr uint64_t kCrashFsBytes = 512ull << 20;
constexpr uint64_t kCrashDiskBytes = kCrashFsBytes + (16ull << 20);

// 0 every state passed, 1 a state failed, 3 a guest died or hung.
int run_crash(const CrashOptions& o, std::ostream& out);

}  // namespace dt
