// The guest half of `diotorture crash`, later boots: each crash state is a
// disk; mount it with the kernel under test (btrfs replays its log tree),
// hold every file against expect.hpp, scrub, unmount, `btrfs check
// --readonly`, and report. Nothing here decides what a state must show; the
// acks before its crash point do.
#pragma once

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/crash/ack.hpp"

namespace dt {

struct CrashStateSpec {
  unsigned id = 0;
  std::string serial;  // the virtio disk's serial: how the guest finds it
  uint64_t acked = 0;  // acks 0..acked-1 were made before the crash
  std::string what;
};

// Checks one state; the JSON has "violations" (empty = passed) and what was
// checked. Never throws for what it finds.
nlohmann::json check_crash_state(const CrashStateSpec& st, const std::vector<Ack>& acks,
                                 const std::filesystem::path& mnt, std::ostream& out);

// /dev/vdX whose /sys/block/vdX/serial is `serial`, or "".
std::string device_by_serial(const std::string& serial);

}  // namespace dt
