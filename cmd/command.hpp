// A subcommand: its name and one-line description (shown by help and used for
// "did you mean"), and a setup function that declares its options on the
// CLI11 subcommand and returns the action to run once they are parsed.
#pragma once

#include <CLI/CLI.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <functional>
#include <string>

#include "lib/btrfs/workspace.hpp"
#include "lib/sys/sys.hpp"

namespace dt {

using Action = std::function<int()>;

struct Command {
  const char* name;
  const char* description;
  Action (*setup)(CLI::App& sub);
};

// A whole number (or size: "4G", "0x10") option within [lo, hi]; otherwise a
// SetupError naming the flag, the value, what was wanted and the range.
inline uint64_t bounded_number(const std::string& flag, const std::string& value, const char* what, uint64_t lo,
                               uint64_t hi) {
  uint64_t v = 0;
  if (!parse_size(value, &v) || v < lo || v > hi)
    throw SetupError(fmt::format("{} '{}' is not {} ({} to {})", flag, value, what, lo, hi));
  return v;
}

// The options that say where to work, shared by run and bench.
inline void add_filesystem_options(CLI::App& sub, FilesystemRequest* fs) {
  sub.add_option("--test-dir", fs->test_dir,
                 "Use this existing btrfs directory instead of a self-provisioned loop btrfs "
                 "(default: TEST_DIR from local.config or the environment)");
  sub.add_option("--profile", fs->profile,
                 "Format the scratch filesystem with this data profile: single, dup, raid0, raid1, raid1c3, raid1c4, "
                 "raid10, raid5, raid6 (loop images: as many as it needs)");
  sub.add_option("--scratch-dev-pool", fs->scratch_pool,
                 "Format these block devices (space separated) instead of loop images (default: SCRATCH_DEV_POOL)");
  sub.add_flag("--force-mkfs", fs->force_mkfs,
               "Format scratch pool devices even if they hold a filesystem (never a device in use)");
  sub.add_option("--scratch-mnt", fs->scratch_mnt, "Mount the scratch pool here (default: SCRATCH_MNT, else private)");
  sub.add_option("--allow-fs", fs->allow_fs, "Accept a --test-dir of this non-btrfs type, as a control (repeatable)");
  sub.add_option("--scratch-size", fs->scratch_size, "Size of each self-provisioned sparse image")
      ->capture_default_str();
  sub.add_option("--mkfs-options", fs->mkfs_options, "Extra mkfs.btrfs arguments for the scratch filesystem");
  sub.add_option("--mount-options", fs->mount_options, "Mount options for the scratch filesystem");
}

// What followed the first "--" of a command that runs another command (ab),
// cut off before CLI11 parses: CLI11 would take options it knows from there
// (`ab ... --results R -- bench --label x` gave --label to ab).
std::vector<std::string>& passthrough_args();

Action setup_list(CLI::App& sub);
Action setup_run(CLI::App& sub);
Action setup_bench(CLI::App& sub);
Action setup_compare(CLI::App& sub);
Action setup_vm(CLI::App& sub);
Action setup_ab(CLI::App& sub);

}  // namespace dt
