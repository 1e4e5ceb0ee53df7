#include "lib/btrfs/workspace.hpp"
#include "lib/sys/spellcheck.hpp"

#include <sys/statvfs.h>

#include <fmt/format.h>

#include <algorithm>
#include <fmt/ranges.h>

#include "lib/btrfs/fsinfo.hpp"
#include "lib/btrfs/reclaim.hpp"
#include "lib/run/config.hpp"
#include "lib/harness/registry.hpp"

namespace dt {

FilesystemChoice choose_filesystem(const FilesystemRequest& o) {
  FilesystemChoice c;
  c.allow_fs = o.allow_fs;
  if (o.scratch_size < kMinScratchSize || o.scratch_size > kMaxScratchSize)
    throw SetupError(fmt::format("--scratch-size {} is not an image size from {} to {}", format_size(o.scratch_size),
                                 format_size(kMinScratchSize), format_size(kMaxScratchSize)));
  c.scratch.image_size = o.scratch_size;
  for (const auto& a : split(o.mkfs_options, ' '))
    if (!a.empty()) c.scratch.mkfs_args.push_back(a);
  c.scratch.mount_options = o.mount_options;
  if (const char* tmp = std::getenv("TMPDIR"); tmp && *tmp) c.scratch.base_dir = tmp;
  if (!o.profile.empty()) {
    if (!find_profile(o.profile)) {
      std::vector<std::string> names;
      for (const auto& p : profile_specs()) names.push_back(p.name);
      std::string hint = did_you_mean(o.profile, names);
      throw SetupError(fmt::format("--profile '{}' is not a btrfs profile{}; give one of {}", o.profile,
                                   hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint),
                                   fmt::join(names, ", ")));
    }
    c.scratch.profile = o.profile;
  }
  if (!o.test_dir.empty() && (!o.profile.empty() || !o.scratch_pool.empty() || o.force_mkfs))
    throw SetupError("--test-dir uses an existing filesystem, while --profile, --scratch-dev-pool and --force-mkfs "
                     "format a scratch one; give one or the other");
  std::string pool_source, mnt_source;
  auto pool = resolve_setting(o.scratch_pool, "--scratch-dev-pool", "SCRATCH_DEV_POOL", &pool_source);
  auto mnt = resolve_setting(o.scratch_mnt, "--scratch-mnt", "SCRATCH_MNT", &mnt_source);
  if (o.profile.empty() && o.scratch_pool.empty()) c.test_dir = resolve_test_dir(o.test_dir, &c.test_dir_source);
  if (c.test_dir) {
    if (o.force_mkfs)
      throw SetupError(fmt::format("--force-mkfs formats scratch devices, but the run would use the existing "
                                   "TEST_DIR {} (from {}); drop --force-mkfs or give --profile",
                                   *c.test_dir, c.test_dir_source));
    return c;
  }
  if (pool) {
    for (const auto& d : split(*pool, ' '))
      if (!trim(d).empty()) c.scratch.pool.push_back(trim(d));
    if (c.scratch.pool.empty()) throw SetupError(fmt::format("the scratch pool from {} names no device", pool_source));
    c.scratch.pool_source = pool_source;
    c.scratch.force_mkfs = o.force_mkfs;
    if (mnt) {
      c.scratch.mount_point = *mnt;
      c.scratch.mount_point_source = mnt_source;
    }
  } else if (!o.scratch_mnt.empty()) {
    throw SetupError("--scratch-mnt is where a scratch device pool is mounted; give --scratch-dev-pool too (loop "
                     "images are mounted on a private directory)");
  } else if (o.force_mkfs) {
    throw SetupError("--force-mkfs needs a scratch device pool (--scratch-dev-pool or SCRATCH_DEV_POOL); loop images "
                     "are always blank");
  }
  return c;
}

namespace {
uint64_t free_bytes(const std::filesystem::path& p) {
  struct statvfs sv {};
  if (::statvfs(p.c_str(), &sv) != 0) return UINT64_MAX;  // the provisioning step says what is wrong
  return static_cast<uint64_t>(sv.f_bavail) * sv.f_frsize;
}

std::string mib(uint64_t bytes) { return fmt::format("{}M", bytes >> 20); }

// A full filesystem makes cases fail with ENOSPC, and a full TMPDIR under a
// sparse image turns into EIO and a read-only scratch btrfs: both look like
// kernel bugs. Refuse up front instead, with the fix.
void check_free_space(const FilesystemChoice& c, const std::filesystem::path& test_dir) {
  if (c.test_dir) {
    const uint64_t avail = free_bytes(test_dir);
    if (avail < c.space_needed)
      throw SetupError(fmt::format("test dir {} (from {}) has {} free, and the run needs about {}; free space there "
                                   "or give another --test-dir",
                                   test_dir.string(), c.test_dir_source, mib(avail), mib(c.space_needed)));
    return;
  }
  if (!c.scratch.pool.empty()) return;  // real devices: mkfs and the cases see their size
  const ProfileSpec* spec = c.scratch.profile.empty() ? nullptr : find_profile(c.scratch.profile);
  const uint64_t images = spec ? spec->loop_devices : 1;
  // Each image may receive a full copy of the data (mirrors) plus metadata.
  const uint64_t per_image = std::min<uint64_t>(c.scratch.image_size, c.space_needed + (256ull << 20));
  const uint64_t need = images * per_image;
  const uint64_t avail = free_bytes(c.scratch.base_dir);
  if (avail < need)
    throw SetupError(fmt::format("TMPDIR {} has {} free, but the sparse scratch image{} will need about {} as the "
                                 "cases write; set TMPDIR to a directory with more room (default /var/tmp) or give "
                                 "--test-dir",
                                 c.scratch.base_dir.string(), mib(avail), images == 1 ? "" : "s", mib(need)));
}
}  // namespace

Workspace::Workspace(const FilesystemChoice& choice) : choice_(choice) {
  // A nightly job killed at its time limit must not leak a mount, a loop
  // device and gigabytes every night.
  reclaimed_ = describe_reclaimed(reclaim_dead_runs());
  if (choice.test_dir) {
    dir_ = *choice.test_dir;
    try {
      validate_test_dir(dir_, choice.allow_fs);
      check_free_space(choice, dir_);
    } catch (const SetupError& e) {
      // A TEST_DIR from a config file or the environment: say where it came
      // from, or the user looks for a flag they never gave.
      if (choice.test_dir_source == "--test-dir") throw;
      throw SetupError(fmt::format("TEST_DIR from {}: {}", choice.test_dir_source, e.what()));
    }
    provisioning_ = "test dir from " + choice.test_dir_source;
    return;
  }
  provision({}, false);
}

void Workspace::reprovision() { provision(spec_, true); }

void Workspace::remake(const FsSpec& spec) { provision(spec, false); }

void Workspace::provision(const FsSpec& spec, bool abandon_old) {
  if (scratch_ && abandon_old) scratch_->abandon();
  scratch_.reset();
  spec_ = spec;
  check_free_space(choice_, {});
  scratch_ = std::make_unique<ScratchFs>(choice_.scratch.with(spec));
  dir_ = scratch_->mount_point();
  provisioning_ = (scratch_->can_reprovision() ? "self-provisioned " : "formatted ") + scratch_->describe();
}

}  // namespace dt
