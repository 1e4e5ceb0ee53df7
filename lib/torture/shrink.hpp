// Delta debugging over an op log: the smallest op log that still fails the
// same way. ddmin (Zeller and Hildebrandt) over the steps, after trying the
// coarse cuts first (all events, each file's steps), then the sizes of what
// is left (lengths halved, queue depth and iovecs to 1, flags dropped).
// Every candidate is judged by a caller-supplied predicate — in the tool,
// a run on a fresh subvolume in a child under the watchdog.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lib/torture/op.hpp"

namespace dt {

// 1-minimal subset of [0, n) (as sorted indices) for which fails() holds,
// assuming it holds for all of them. Stops early (returning the smallest
// failing set found) once out_of_time() says so.
std::vector<size_t> ddmin(size_t n, const std::function<bool(const std::vector<size_t>&)>& fails,
                          const std::function<bool()>& out_of_time);

struct ShrinkStats {
  unsigned candidates = 0;  // predicate runs
  unsigned failing = 0;     // of which failed the same way
  bool out_of_time = false;
  double seconds = 0;
};

// Reduces `log` (whose run failed) with `fails` (true: this candidate fails
// the same way). `fails` may set *trim_after to the seq of the failing step so
// the steps after it are dropped. Stops at the deadline.
OpLog shrink_oplog(const OpLog& log, const std::function<bool(const OpLog&, uint64_t* fail_seq)>& fails,
                   std::chrono::steady_clock::time_point deadline, ShrinkStats* stats);

}  // namespace dt
