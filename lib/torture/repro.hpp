// A standalone C reproducer from a minimal op log: libc and liburing only,
// in the style of the seed 000 reproducer, to paste into a bug report. It
// builds the same starting files (layout pieces with a synced spacer write
// between them), runs the steps in order with the same buffer sources,
// flags and data, then checks exactly what the torture run found wrong and
// exits 1 with a one-line description of the wrong outcome (0 if the kernel
// behaved).
#pragma once

#include <string>

#include "lib/torture/engine.hpp"
#include "lib/torture/op.hpp"

namespace dt {

// Pure. Throws std::runtime_error for a failure kind it cannot express.
std::string make_repro(const OpLog& minimal, const Failure& failure);

}  // namespace dt
