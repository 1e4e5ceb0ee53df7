// Where to crash. A crash state is a prefix of the write log: everything
// issued before the cut reached the disk (`applied_upto` entries), plus, for
// the states a volatile disk cache allows (CrashMonkey's), a random subset of
// the writes issued since the last flush. The acks that count are those whose
// marker lies before the cut: their promise was made before the power went.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lib/crash/write_log.hpp"

namespace dt {

struct CrashPoint {
  unsigned id = 0;
  uint64_t cut = 0;           // entries [0, cut) were issued before the crash
  uint64_t applied_upto = 0;  // entries [0, applied_upto) reached the disk ...
  std::vector<uint64_t> extra;  // ... and these of [applied_upto, cut) too
  uint64_t acked = 0;         // acks (by seq, 0..acked-1) made before the cut
  std::string what;           // "after flush 12 (entry 345)"
};

struct PointChoice {
  unsigned points = 8;   // flush points to crash at (0 = every one)
  unsigned subsets = 0;  // per point, states with a random subset of the next unflushed writes
  uint64_t seed = 1;
};

// `markers[i]` is the log index of ack i's marker (seq order; ack 0 = the
// filesystem was made: no crash point before it). The flushes right after an
// ack come first (a promise just made is the one most likely to be broken),
// then evenly spread others; the end of the log is always a state.
std::vector<CrashPoint> choose_crash_points(const WriteLog& wl, const std::vector<uint64_t>& markers,
                                            const PointChoice& choice);

}  // namespace dt
