// The version of this build: `git describe --tags --always --dirty` of the
// source tree at build time (cmake/version.cmake). Printed by --version and
// recorded in summary.json and bench.json.
#pragma once

namespace dt {
const char* tool_version();
}  // namespace dt
