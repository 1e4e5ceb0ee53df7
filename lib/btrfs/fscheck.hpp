// The filesystem check after every case, as fstests' _check_scratch_fs and
// _check_test_fs do: a read-only scrub while mounted (every copy's checksums
// and metadata), then `btrfs check --readonly` while unmounted. A filesystem
// the run does not own (a --test-dir) cannot be unmounted: scrub only.
#pragma once

#include <filesystem>
#include <string>

#include "lib/btrfs/scratch.hpp"

namespace dt {

struct FsCheck {
  bool ok = true;
  std::string summary;  // one line: "scrub clean; btrfs check --readonly clean"
  std::string output;   // what the checkers printed, for <case>.fsck
};

// `scratch` is null on a --test-dir. Never throws for what it finds; a
// filesystem that cannot be remounted afterwards throws SetupError.
FsCheck check_filesystem(const std::filesystem::path& mount_point, ScratchFs* scratch);

}  // namespace dt
