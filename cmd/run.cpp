// diotorture run [ID...] [-g GROUP]... [-x GROUP]... [-E FILE] [--test-dir DIR] ...
// Parses and checks the options, then hands a SessionConfig to lib/session.
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <iostream>
#include <memory>
#include <set>

#include "cmd/command.hpp"
#include "lib/config.hpp"
#include "lib/registry.hpp"
#include "lib/scratch.hpp"
#include "lib/session.hpp"
#include "lib/sys.hpp"

namespace dt {
namespace {

struct RunOptions {
  std::vector<std::string> ids, groups, exclude, expunge_files, params, allow_fs;
  std::string test_dir, results = "results", timeout, iterations, seed = "1", scratch_size = "4G", mkfs_options,
                        mount_options, profile, scratch_pool, scratch_mnt;
  bool force_mkfs = false;
};

// Where the cases run: an existing --test-dir, a scratch device pool, or
// loop images. Command-line flags win over local.config and the environment;
// a --profile asks for a freshly formatted filesystem, so it takes the pool
// (or loop images) even when a TEST_DIR is configured.
void choose_filesystem(const RunOptions& o, SessionConfig* cfg) {
  if (!o.profile.empty()) {
    if (!find_profile(o.profile)) {
      std::vector<std::string> names;
      for (const auto& p : profile_specs()) names.push_back(p.name);
      std::string hint = did_you_mean(o.profile, names);
      throw SetupError(fmt::format("--profile '{}' is not a btrfs profile{}; give one of {}", o.profile,
                                   hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint),
                                   fmt::join(names, ", ")));
    }
    cfg->scratch.profile = o.profile;
  }
  if (!o.test_dir.empty() && (!o.profile.empty() || !o.scratch_pool.empty() || o.force_mkfs))
    throw SetupError("--test-dir uses an existing filesystem, while --profile, --scratch-dev-pool and --force-mkfs "
                     "format a scratch one; give one or the other");
  std::string pool_source, mnt_source;
  auto pool = resolve_setting(o.scratch_pool, "--scratch-dev-pool", "SCRATCH_DEV_POOL", &pool_source);
  auto mnt = resolve_setting(o.scratch_mnt, "--scratch-mnt", "SCRATCH_MNT", &mnt_source);
  std::optional<std::string> test_dir;
  if (o.profile.empty() && o.scratch_pool.empty()) test_dir = resolve_test_dir(o.test_dir, &cfg->test_dir_source);
  if (test_dir) {
    if (o.force_mkfs) throw SetupError(fmt::format("--force-mkfs formats scratch devices, but the run would use the "
                                                   "existing TEST_DIR {} (from {}); drop --force-mkfs or give --profile",
                                                   *test_dir, cfg->test_dir_source));
    cfg->test_dir = test_dir;
    return;
  }
  if (pool) {
    for (const auto& d : split(*pool, ' '))
      if (!trim(d).empty()) cfg->scratch.pool.push_back(trim(d));
    if (cfg->scratch.pool.empty()) throw SetupError(fmt::format("the scratch pool from {} names no device", pool_source));
    cfg->scratch.pool_source = pool_source;
    cfg->scratch.force_mkfs = o.force_mkfs;
    if (mnt) cfg->scratch.mount_point = *mnt;
  } else if (o.force_mkfs) {
    throw SetupError("--force-mkfs needs a scratch device pool (--scratch-dev-pool or SCRATCH_DEV_POOL); loop images "
                     "are always blank");
  }
}

uint64_t positive(const std::string& flag, const std::string& value, const char* what, uint64_t max) {
  uint64_t v = 0;
  if (!parse_size(value, &v) || v == 0 || v > max)
    throw SetupError(fmt::format("{} '{}' is not {} (1 to {}); give a positive whole number", flag, value, what, max));
  return v;
}

int run(const RunOptions& o) {
  SessionConfig cfg;
  if (!o.timeout.empty()) cfg.runner.timeout_s = static_cast<unsigned>(positive("--timeout", o.timeout, "a number of seconds", 86400));
  if (!o.iterations.empty())
    cfg.runner.params.iterations = static_cast<unsigned>(positive("--iterations", o.iterations, "an iteration count", 1000000));
  uint64_t seed = 0;
  if (!parse_size(o.seed, &seed)) throw SetupError(fmt::format("--seed '{}' is not a whole number", o.seed));
  cfg.runner.params.seed = seed;
  cfg.scratch.image_size = positive("--scratch-size", o.scratch_size, "a size", 1ull << 42);
  if (cfg.scratch.image_size < (256ull << 20))
    throw SetupError(fmt::format("--scratch-size {} is too small for btrfs; give at least 256M", o.scratch_size));
  for (const auto& a : split(o.mkfs_options, ' '))
    if (!a.empty()) cfg.scratch.mkfs_args.push_back(a);
  cfg.scratch.mount_options = o.mount_options;
  if (const char* tmp = std::getenv("TMPDIR"); tmp && *tmp) cfg.scratch.base_dir = tmp;

  SelectionRequest req{o.ids, o.groups, o.exclude, {}};
  for (const auto& f : o.expunge_files) {
    std::string text;
    try {
      text = read_file(f);
    } catch (const std::exception&) {
      throw SetupError(fmt::format("cannot read expunge file {}; check the path given to -E", f));
    }
    auto ids = parse_expunge(text);
    req.expunged.insert(req.expunged.end(), ids.begin(), ids.end());
  }
  cfg.cases = select_cases(all_cases(), req);
  if (cfg.cases.empty()) throw SetupError("no case selected (all excluded or expunged); 'diotorture list' shows them");

  std::set<std::string> known = {"variant"};
  for (const CaseInfo* c : cfg.cases)
    for (const auto& p : c->params) known.insert(p.name);
  for (const auto& kv : o.params) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw SetupError(fmt::format("-p '{}' is not key=value; for example -p extents=2,4", kv));
    std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
    if (!known.count(key)) {
      std::string hint = did_you_mean(key, std::vector<std::string>(known.begin(), known.end()));
      throw SetupError(fmt::format("-p {}: no selected case has that parameter{}; 'diotorture list -v' shows them", key,
                                   hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
    if (key == "variant" && value != "datasum" && value != "nocow")
      throw SetupError(fmt::format("-p variant={}: give datasum or nocow", value));
    cfg.runner.params.overrides[key] = value;
  }

  if (::geteuid() != 0)
    throw SetupError("diotorture run needs root (it mounts filesystems, attaches loop devices and reads /dev/kmsg); "
                     "rerun it as root");
  choose_filesystem(o, &cfg);
  cfg.allow_fs = o.allow_fs;
  cfg.results_root = o.results;
  return run_session(cfg, std::cout);
}

}  // namespace

Action setup_run(CLI::App& sub) {
  auto o = std::make_shared<RunOptions>();
  sub.add_option("ids", o->ids, "Case ids to run (with -g: both)");
  sub.add_option("-g,--group", o->groups, "Run the cases of this group (repeatable; default quick)");
  sub.add_option("-x,--exclude-group", o->exclude, "Leave out the cases of this group (repeatable)");
  sub.add_option("-E,--expunge", o->expunge_files, "fstests expunge file: ids to leave out, one a line");
  sub.add_option("--test-dir", o->test_dir,
                 "Run on this existing btrfs directory instead of a self-provisioned loop btrfs "
                 "(default: TEST_DIR from local.config or the environment)");
  sub.add_option("--profile", o->profile,
                 "Format the scratch filesystem with this data profile: single, dup, raid0, raid1, raid1c3, raid1c4, "
                 "raid10, raid5, raid6 (loop images: as many as it needs)");
  sub.add_option("--scratch-dev-pool", o->scratch_pool,
                 "Format these block devices (space separated) instead of loop images (default: SCRATCH_DEV_POOL)");
  sub.add_flag("--force-mkfs", o->force_mkfs,
               "Format scratch pool devices even if they hold a filesystem (never a device in use)");
  sub.add_option("--scratch-mnt", o->scratch_mnt, "Mount the scratch pool here (default: SCRATCH_MNT, else private)");
  sub.add_option("--allow-fs", o->allow_fs, "Accept a --test-dir of this non-btrfs type, as a control (repeatable)");
  sub.add_option("--results", o->results, "Results root; each run writes a new directory in it")->capture_default_str();
  sub.add_option("--timeout", o->timeout, "Watchdog seconds per case (default: each case's own)");
  sub.add_option("--iterations", o->iterations, "Repetitions inside each case (default: each case's own)");
  sub.add_option("--seed", o->seed, "Seed of the data patterns and random choices")->capture_default_str();
  sub.add_option("-p,--param", o->params, "Case parameter key=value (see 'list -v'; repeatable)");
  sub.add_option("--scratch-size", o->scratch_size, "Size of the self-provisioned sparse image")->capture_default_str();
  sub.add_option("--mkfs-options", o->mkfs_options, "Extra mkfs.btrfs arguments for the scratch filesystem");
  sub.add_option("--mount-options", o->mount_options, "Mount options for the scratch filesystem");
  return [o] { return run(*o); };
}

}  // namespace dt
