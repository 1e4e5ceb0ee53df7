#include "lib/btrfs/workspace.hpp"
#include "lib/sys/spellcheck.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "lib/btrfs/fsinfo.hpp"
#include "lib/harness/config.hpp"
#include "lib/harness/registry.hpp"

namespace dt {

FilesystemChoice choose_filesystem(const FilesystemRequest& o) {
  FilesystemChoice c;
  c.allow_fs = o.allow_fs;
  if (!parse_size(o.scratch_size, &c.scratch.image_size) || c.scratch.image_size > (1ull << 42))
    throw SetupError(fmt::format("--scratch-size '{}' is not a size; give for example 4G", o.scratch_size));
  if (c.scratch.image_size < (256ull << 20))
    throw SetupError(fmt::format("--scratch-size {} is too small for btrfs; give at least 256M", o.scratch_size));
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
    if (mnt) c.scratch.mount_point = *mnt;
  } else if (o.force_mkfs) {
    throw SetupError("--force-mkfs needs a scratch device pool (--scratch-dev-pool or SCRATCH_DEV_POOL); loop images "
                     "are always blank");
  }
  return c;
}

Workspace::Workspace(const FilesystemChoice& choice) : choice_(choice) {
  if (choice.test_dir) {
    dir_ = *choice.test_dir;
    validate_test_dir(dir_, choice.allow_fs);
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
  scratch_ = std::make_unique<ScratchFs>(choice_.scratch.with(spec));
  dir_ = scratch_->mount_point();
  provisioning_ = (scratch_->can_reprovision() ? "self-provisioned " : "formatted ") + scratch_->describe();
}

}  // namespace dt
