// diotorture torture [--seed N] [--duration 10m | --ops N] [--files N] [--ops-mix LIST] [--events LIST]
//                    [--replay OPLOG] [--no-shrink] [--no-progress] [--spare-dev DEV]... [filesystem options as for run]
// Checks the options and hands a TortureConfig to lib/torture.
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include "cmd/command.hpp"
#include "lib/sys/sys.hpp"
#include "lib/torture/engine.hpp"
#include "lib/torture/op.hpp"
#include "lib/torture/torture.hpp"

namespace dt {
namespace {

struct TortureCli {
  std::string file_kinds = "both";
  std::string seed = "1", duration, ops, files = "4", ops_mix, events = "all", replay, results = "results",
              shrink_budget = "300", stall = "120", checks = "thorough";
  bool no_shrink = false, no_progress = false;
  std::string coverage_baseline;
  std::vector<std::string> spare_devs;
  FilesystemRequest fs;
};

// "90", "90s", "10m", "2h" -> seconds.
uint64_t parse_duration(const std::string& v) {
  uint64_t mult = 1;
  std::string num = v;
  if (!v.empty() && (v.back() == 's' || v.back() == 'm' || v.back() == 'h')) {
    mult = v.back() == 'h' ? 3600 : v.back() == 'm' ? 60 : 1;
    num.pop_back();
  }
  uint64_t n = 0;
  if (num.empty() || num.find_first_not_of("0123456789") != std::string::npos || !parse_size(num, &n) || n == 0 ||
      n * mult > 7 * 86400)
    throw SetupError(fmt::format("--duration '{}' is not a duration; give for example 90s, 10m or 2h", v));
  return n * mult;
}

int torture(const TortureCli& c) {
  TortureConfig cfg;
  if (!parse_size(c.seed, &cfg.seed)) throw SetupError(fmt::format("--seed '{}' is not a whole number", c.seed));
  if (!c.duration.empty() && !c.ops.empty()) throw SetupError("--duration and --ops both say when to stop; give one");
  if (!c.replay.empty() && (!c.duration.empty() || !c.ops.empty() || !c.ops_mix.empty()))
    throw SetupError("--replay reruns the op log as it is; drop --duration, --ops and --ops-mix");
  cfg.duration_s = static_cast<double>(c.duration.empty() ? 60 : parse_duration(c.duration));
  // --ops and --files were checked and normalised by their validators.
  if (!c.ops.empty()) cfg.ops = std::stoull(c.ops);
  cfg.files = static_cast<unsigned>(std::stoul(c.files));
  cfg.file_kinds = c.file_kinds;
  make_header(cfg.seed, 1, cfg.file_kinds);  // checked before anything is provisioned
  cfg.ops_mix = c.ops_mix;
  cfg.events = c.events;
  parse_mix(cfg.ops_mix, cfg.events);  // names checked before anything is provisioned
  cfg.replay = c.replay;
  if (!c.replay.empty() && ::access(c.replay.c_str(), R_OK) != 0)
    throw SetupError(fmt::format("--replay {}: no such readable file; give the oplog.jsonl of a torture run", c.replay));
  cfg.coverage_baseline = c.coverage_baseline;
  if (!c.coverage_baseline.empty() && ::access(c.coverage_baseline.c_str(), R_OK) != 0)
    throw SetupError(fmt::format("--coverage-baseline {}: no such readable file; give the coverage.txt of an earlier "
                                 "torture run (or a list of function names, one a line)",
                                 c.coverage_baseline));
  cfg.shrink = !c.no_shrink;
  cfg.shrink_budget_s = static_cast<unsigned>(std::stoul(c.shrink_budget));
  cfg.stall_s = static_cast<unsigned>(std::stoul(c.stall));
  cfg.progress = !c.no_progress;
  cfg.checks = c.checks;  // one of the two: checked by its option
  cfg.results_root = c.results;
  cfg.inject = injection_from_env();
  if (!cfg.inject.empty() && cfg.inject != "uffd-wrong-page" && cfg.inject != "uffd-hang" &&
      cfg.inject != "corrupt-copy")
    throw SetupError(fmt::format("DIOTORTURE_TORTURE_INJECT='{}' is not known; the test switch takes uffd-wrong-page, "
                                 "uffd-hang or corrupt-copy",
                                 cfg.inject));
  if (::geteuid() != 0)
    throw SetupError("diotorture torture needs root (it mounts filesystems, reads devices and /dev/kmsg); rerun it as root");
  cfg.fs = choose_filesystem(c.fs);
  if (!c.spare_devs.empty()) {
    // Only beside a pool the tool formats: a device added to a --test-dir
    // would change the user's filesystem; loop images bring their own spare.
    if (cfg.fs.scratch.pool.empty())
      throw SetupError("--spare-dev is for a scratch device pool (--scratch-dev-pool); a self-provisioned filesystem "
                       "makes its own spare and a --test-dir gets none; drop --spare-dev");
    for (const auto& d : c.spare_devs) {
      if (std::find(cfg.fs.scratch.pool.begin(), cfg.fs.scratch.pool.end(), d) != cfg.fs.scratch.pool.end())
        throw SetupError(fmt::format("--spare-dev {} is also in the scratch pool; name a device outside it", d));
      check_scratch_device(d, cfg.fs.scratch.force_mkfs, "--spare-dev");
    }
    cfg.spare_devs = c.spare_devs;
  }
  return run_torture(cfg, std::cout);
}

}  // namespace

Action setup_torture(CLI::App& sub) {
  auto o = std::make_shared<TortureCli>();
  sub.add_option("--seed", o->seed, "Seed of every random choice: the same seed gives the same op log")->capture_default_str();
  sub.add_option("--duration", o->duration, "How long to generate ops (90s, 10m, 2h; default 60s)");
  sub.add_option("--ops", o->ops, "Stop after this many ops instead of after --duration")
      ->transform(Bounded("an op count", 1, 1000000000));
  sub.add_option("--files", o->files, "Files under test (alternately checksummed and NOCOW)")
      ->transform(Bounded("a file count", 1, 16))
      ->capture_default_str();
  sub.add_option("--file-kinds", o->file_kinds, "both (alternately checksummed and NOCOW), nocow or datasum")
      ->capture_default_str();
  sub.add_option("--ops-mix", o->ops_mix,
                 "Ops and groups to choose from, comma separated (dio, uring, buffered, mmap, meta, op names; "
                 "plus uffd-never, no-mutate, no-mmap-buffers; default all)");
  sub.add_option("--events", o->events,
                 "Concurrent events: all, none, or scrub, balance, defrag, snapshot, sync, drop-caches, device, "
                 "state (device: add/remove/replace with a spare loop device the tool makes; self-provisioned "
                 "filesystems only; state: hold a filesystem state for a window of ops, docs/torture-states.md)")
      ->capture_default_str();
  sub.add_option("--spare-dev", o->spare_devs,
                 "With --scratch-dev-pool: a blank device device events may add to the filesystem and remove "
                 "again (checked like a pool device; --force-mkfs if it holds a filesystem)");
  sub.add_option("--coverage-baseline", o->coverage_baseline,
                 "A coverage.txt of an earlier run: summary.json and the console say which functions are new");
  sub.add_option("--replay", o->replay, "Rerun this oplog.jsonl (or minimal.jsonl) on a fresh filesystem");
  sub.add_flag("--no-shrink", o->no_shrink, "On a failure, keep the full op log; do not shrink it");
  sub.add_option("--shrink-budget", o->shrink_budget, "Seconds the shrinker may spend")
      ->transform(Bounded("a number of seconds", 10, 86400))
      ->capture_default_str();
  sub.add_option("--stall-timeout", o->stall, "Seconds without progress before the run is a hang")
      ->transform(Bounded("a number of seconds", 5, 86400))
      ->capture_default_str();
  sub.add_option("--checks", o->checks,
                 "thorough: every read-back (O_DIRECT, page cache, SEEK_HOLE) of what an op changed right after "
                 "it; fast: each op's answer and data at once, those read-backs later (a seeded schedule, before "
                 "the range is read or destroyed, before events, at the end); see docs/torture.md")
      ->check(CLI::IsMember({"fast", "thorough"}))
      ->capture_default_str();
  sub.add_flag("--no-progress", o->no_progress, "No live progress line: one line a minute");
  sub.add_option("--results", o->results, "Results root; each run writes a new directory in it")->capture_default_str();
  add_filesystem_options(sub, &o->fs);
  return [o] { return torture(*o); };
}

}  // namespace dt
