// diotorture torture [--seed N] [--duration 10m | --ops N] [--files N] [--ops-mix LIST] [--events LIST]
//                    [--replay OPLOG] [--no-shrink] [--no-progress] [--spare-dev DEV]... [filesystem options as for run]
// Checks the options and hands a TortureConfig to lib/torture.
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include "cmd/command.hpp"
#include "cmd/nightly_options.hpp"
#include "lib/harness/known_failures.hpp"
#include "lib/nightly/signature.hpp"
#include "lib/torture/campaign.hpp"
#include "lib/sys/sys.hpp"
#include "lib/torture/engine.hpp"
#include "lib/torture/op.hpp"
#include "lib/torture/torture.hpp"

namespace dt {
namespace {

struct TortureCli {
  std::string file_kinds = "both";
  std::string ops_mix, events = "all", replay, results = "results", checks = "thorough";
  uint64_t seed = 1, duration_s = 0, ops = 0;  // 0: not given
  unsigned files = 4, shrink_budget = 300, stall = 120;
  bool no_shrink = false, no_progress = false;
  // A campaign (lib/torture/campaign): --seeds and what goes with it.
  std::string seeds, shard, known_failures;
  bool keep_going = false, strict = false;
  KcidbFlags kcidb;
  std::string coverage_baseline;
  std::vector<std::string> spare_devs;
  std::vector<std::string> given;  // options given on the command line (a default is not a choice)
  FilesystemRequest fs;
};

// A duration: "90", "90s", "10m", "2h", up to a week; rewritten to seconds.
CLI::Validator Duration() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        uint64_t mult = 1;
        std::string num = v;
        if (!v.empty() && (v.back() == 's' || v.back() == 'm' || v.back() == 'h')) {
          mult = v.back() == 'h' ? 3600 : v.back() == 'm' ? 60 : 1;
          num.pop_back();
        }
        uint64_t n = 0;
        if (num.empty() || num.find_first_not_of("0123456789") != std::string::npos || !parse_size(num, &n) ||
            n == 0 || n * mult > 7 * 86400)
          return fmt::format("'{}' is not a duration; give for example 90s, 10m or 2h", v);
        v = std::to_string(n * mult);
        return {};
      },
      "DURATION");
}

// --seeds A..B and its companions: checked, with the known-failures list
// (signature entries) read, before anything is provisioned.
CampaignConfig campaign_cfg(const TortureCli& c, const TortureConfig& base) {
  CampaignConfig k;
  k.base = base;
  k.seeds = parse_seed_range(c.seeds);
  if (!c.shard.empty()) k.shard = parse_shard(c.shard);
  k.keep_going = c.keep_going;
  k.strict = c.strict;
  k.known_failures_file = known_failures_file(c.known_failures);
  if (!k.known_failures_file.empty()) {
    k.known_failures = parse_known_failures(read_file(k.known_failures_file), k.known_failures_file.string());
    check_signature_entries(k.known_failures);
  }
  k.kcidb = c.kcidb.ids();
  return k;
}

int torture(const TortureCli& c) {
  const bool campaign = !c.seeds.empty();
  auto given = [&](const char* o) { return std::find(c.given.begin(), c.given.end(), o) != c.given.end(); };
  if (!campaign && (!c.shard.empty() || c.keep_going || c.strict || !c.known_failures.empty()))
    throw SetupError("--shard, --keep-going, --strict and --known-failures are for a campaign; add --seeds A..B");
  if (campaign && (!c.replay.empty() || given("--seed")))
    throw SetupError("--seeds runs a campaign of seeds; drop --seed and --replay (or --seeds)");
  if (campaign) campaign_cfg(c, TortureConfig{});  // bad input: exit 2 before anything is provisioned
  TortureConfig cfg;
  // The numbers were checked and converted by their validators.
  cfg.seed = c.seed;
  if (c.duration_s && c.ops) throw SetupError("--duration and --ops both say when to stop; give one");
  if (!c.replay.empty()) {
    // The log fixes all of these; a flag that would be ignored is refused.
    std::vector<std::string> ignored;
    for (const char* o : {"--duration", "--ops", "--ops-mix", "--seed", "--files", "--file-kinds", "--events"})
      if (given(o)) ignored.push_back(o);
    if (!ignored.empty())
      throw SetupError(fmt::format("--replay reruns the op log as it is (its seed, files, ops and events); drop {}",
                                   fmt::join(ignored, ", ")));
  }
  if (given("--ops-mix") && c.ops_mix.empty())
    throw SetupError("--ops-mix is empty; name ops or groups (dio, uring, buffered, mmap, meta), or drop it for all");
  if (given("--events") && c.events.empty())
    throw SetupError("--events is empty; name events (scrub, balance, ...), or give none or all");
  cfg.duration_s = static_cast<double>(c.duration_s ? c.duration_s : 60);
  if (c.ops) cfg.ops = c.ops;
  cfg.files = c.files;
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
  cfg.shrink_budget_s = c.shrink_budget;
  cfg.stall_s = c.stall;
  cfg.progress = !c.no_progress;
  cfg.checks = c.checks;  // one of the two: checked by its option
  cfg.results_root = c.results;
  cfg.inject = injection_from_env();
  if (!cfg.inject.empty() && cfg.inject != "uffd-wrong-page" && cfg.inject != "uffd-hang" &&
      cfg.inject != "corrupt-copy")
    throw SetupError(fmt::format("DIOTORTURE_TORTURE_INJECT='{}' is not known; the test switch takes uffd-wrong-page, "
                                 "uffd-hang or corrupt-copy",
                                 cfg.inject));
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
  if (campaign) return run_campaign(campaign_cfg(c, cfg), std::cout);
  return run_torture(cfg, std::cout);
}

}  // namespace

Action setup_torture(CLI::App& sub) {
  auto o = std::make_shared<TortureCli>();
  sub.add_option("--seed", o->seed, "Seed of every random choice: the same seed gives the same op log")
      ->transform(Bounded("a seed", 0, UINT64_MAX))
      ->capture_default_str();
  sub.add_option("--seeds", o->seeds,
                 "Run a campaign: each seed of A..B on a fresh filesystem for --duration (or --ops) each; a failure "
                 "ends its seed unless known or --keep-going")
      ->group("Campaign");
  sub.add_option("--shard", o->shard, "Run shard I of N (I/N) of the --seeds range: every N-th seed from the I-th")
      ->group("Campaign");
  sub.add_flag("--keep-going", o->keep_going,
               "After a failure, record it (op log, shrunk repro) and go on with a fresh filesystem until the seed's "
               "budget is spent")
      ->group("Campaign");
  sub.add_option("--known-failures", o->known_failures,
                 "Known-failures list whose torture:KIND:OPS:MESSAGE lines are reported as known and go on "
                 "(default: known-failures.txt when present)")
      ->group("Campaign");
  sub.add_flag("--strict", o->strict, "A failure matching a known signature still ends its seed and fails the run")
      ->group("Campaign");
  add_kcidb_options(sub, &o->kcidb);
  sub.add_option("--duration", o->duration_s, "How long to generate ops (90s, 10m, 2h; default 60s)")
      ->transform(Duration());
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
  add_progress_option(sub, &o->no_progress, "one line a minute");
  add_results_option(sub, &o->results);
  add_filesystem_options(sub, &o->fs);
  return [o, app = &sub] {
    for (const auto* opt : app->get_options())
      if (opt->count() > 0) o->given.push_back(opt->get_name());
    return torture(*o);
  };
}

}  // namespace dt
