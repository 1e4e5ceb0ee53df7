// diotorture run [ID...] [-g GROUP]... [-x GROUP]... [-E FILE] [--test-dir DIR] ...
// Parses and checks the options, then hands a SessionConfig to lib/session.
#include <unistd.h>

#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <set>

#include "cmd/command.hpp"
#include "cmd/nightly_options.hpp"
#include "lib/btrfs/workspace.hpp"
#include "lib/run/config.hpp"
#include "lib/harness/registry.hpp"
#include "lib/harness/session.hpp"
#include "lib/io/iopath.hpp"
#include "lib/harness/shard.hpp"
#include "lib/nightly/signature.hpp"
#include "lib/sys/spellcheck.hpp"
#include "lib/sys/sys.hpp"

namespace dt {
namespace {

struct RunOptions {
  std::vector<std::string> ids, groups, exclude, expunge_files, params;
  std::string results = "results", known_failures, path_evidence, shard;
  KcidbFlags kcidb;
  bool strict = false;
  unsigned timeout = 0, iterations = 0;  // 0: each case's own
  uint64_t seed = 1;
  FilesystemRequest fs;
};

// --known-failures FILE, or the shipped known-failures.txt when present.
void load_known_failures(const std::string& flag, bool strict, SessionConfig* cfg) {
  cfg->known_failures_file = known_failures_file(flag);
  cfg->strict = strict;
  if (cfg->known_failures_file.empty()) return;
  cfg->known_failures = parse_known_failures(read_file(cfg->known_failures_file), cfg->known_failures_file.string());
  std::vector<std::string> ids;
  for (const CaseInfo& c : all_cases()) ids.push_back(c.id);
  // Torture signatures share the file; they are torture's to match.
  check_signature_entries(cfg->known_failures);
  std::vector<KnownFailure> case_entries;
  for (const KnownFailure& k : cfg->known_failures)
    if (!is_signature_entry(k)) case_entries.push_back(k);
  if (auto bad = unknown_case_ids(case_entries, ids); !bad.empty())
    throw SetupError(fmt::format("{}: no case has that id; fix the entry ('diotorture list' shows the ids)", bad[0]));
}

int run(const RunOptions& o) {
  SessionConfig cfg;
  if (!o.path_evidence.empty()) force_path_source(o.path_evidence);
  if (o.timeout) cfg.runner.timeout_s = o.timeout;
  cfg.runner.params.iterations = o.iterations;
  cfg.runner.params.seed = o.seed;

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
  if (!o.shard.empty()) {
    cfg.runner.params.shard = parse_shard(o.shard);
    cfg.cases = cases_in_shard(cfg.cases, cfg.runner.params.shard);
  }
  cfg.kcidb = o.kcidb.ids();

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
    // Every value is checked against each selected case that declares it,
    // before anything runs: a bad value is the user's to fix, not a case FAIL.
    for (const CaseInfo* c : cfg.cases)
      for (const auto& p : c->params)
        if (p.name == key)
          if (std::string err = param_error(p, value); !err.empty()) throw SetupError(fmt::format("{} ({})", err, c->id));
    cfg.runner.params.overrides[key] = value;
  }

  load_known_failures(o.known_failures, o.strict, &cfg);
  cfg.fs = choose_filesystem(o.fs);
  cfg.results_root = o.results;
  return run_session(cfg, std::cout);
}

}  // namespace

Action setup_run(CLI::App& sub) {
  auto o = std::make_shared<RunOptions>();
  sub.add_option("ids", o->ids, "Case ids to run (with -g: both)");
  repeatable(sub.add_option("-g,--group", o->groups, "Run the cases of this group (repeatable; default quick)"));
  repeatable(sub.add_option("-x,--exclude-group", o->exclude, "Leave out the cases of this group (repeatable)"));
  repeatable(sub.add_option("-E,--expunge", o->expunge_files, "fstests expunge file: ids to leave out, one a line"));
  add_filesystem_options(sub, &o->fs);
  add_results_option(sub, &o->results);
  sub.add_option("--timeout", o->timeout, "Watchdog seconds per case (default: each case's own)")
      ->transform(Bounded("a number of seconds", 1, 86400));
  sub.add_option("--iterations", o->iterations, "Repetitions inside each case (default: each case's own)")
      ->transform(Bounded("an iteration count", 1, 1000000));
  sub.add_option("--seed", o->seed, "Seed of the data patterns and random choices")
      ->transform(Bounded("a seed", 0, UINT64_MAX))
      ->capture_default_str();
  repeatable(sub.add_option("-p,--param", o->params, "Case parameter key=value (see 'list -v'; repeatable)"));
  sub.add_option("--known-failures", o->known_failures,
                 "Known-failures list (CASE KERNEL-GLOBS REASON a line): listed failures are 'known' and do not fail "
                 "the run (default: known-failures.txt when present)");
  sub.add_flag("--strict", o->strict, "A failure in the known-failures list still fails the run");
  sub.add_option("--shard", o->shard,
                 "Run shard I of N (I/N) of the selected cases x combinations: the N shards are disjoint and together "
                 "the whole, on any machines; 'diotorture merge' joins their results");
  add_kcidb_options(sub, &o->kcidb);
  // Hidden, for testing: what DIOTORTURE_PATH_EVIDENCE does, and it reaches a `vm` guest.
  sub.add_option("--path-evidence", o->path_evidence)->group("");
  return [o] { return run(*o); };
}

}  // namespace dt
