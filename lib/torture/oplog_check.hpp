// What a replayed op log may ask for: the bounds torture itself writes
// within. A corrupt or hand-edited log is bad input (exit 2, the line and the
// field), never a kernel FAIL nor a write outside the run's work directory.
#pragma once

#include "lib/torture/op.hpp"

namespace dt {

// Largest file a log may declare, and the most files (as --files allows).
inline constexpr uint64_t kMaxLogFileSize = 1ull << 30;
inline constexpr size_t kMaxLogFiles = 16;
// Largest buffer one step may ask for (len times queue depth).
inline constexpr uint64_t kMaxStepBuffer = 64ull << 20;

// Throw std::runtime_error naming the field.
void check_header(const LogHeader& h);
void check_step(const Step& s, const LogHeader& h);

}  // namespace dt
