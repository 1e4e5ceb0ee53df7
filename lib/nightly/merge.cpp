#include "lib/nightly/merge.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <set>

#include "lib/harness/results_doc.hpp"
#include "lib/harness/shard.hpp"
#include "lib/sys/sys.hpp"

namespace dt {
namespace fs = std::filesystem;
using nlohmann::json;

MergeInput load_merge_input(const fs::path& dir) {
  const std::string what = "a results directory of run, torture --seeds or bench";
  for (auto [file, kind] : {std::pair{"summary.json", MergeInput::Kind::Run},
                            std::pair{"campaign.json", MergeInput::Kind::Campaign},
                            std::pair{"bench.json", MergeInput::Kind::Bench}}) {
    std::error_code ec;
    if (fs::is_regular_file(dir / file, ec)) return MergeInput{kind, dir.string(), read_json_file(dir / file, what)};
  }
  throw SetupError(fmt::format("{}: no summary.json, campaign.json or bench.json there; give {}", dir.string(), what));
}

namespace {

// Worst first: what the merged case says when shards disagree.
int rank(Status s) {
  switch (s) {
    case Status::Hang: return 0;
    case Status::Fail: return 1;
    case Status::Known: return 2;
    case Status::Pass: return 3;
    case Status::NotRun: return 4;
  }
  return 1;
}

void absorb(CaseResult* into, const CaseResult& r, const std::string& source) {
  if (rank(r.status) < rank(into->status)) {
    if (into->status == Status::NotRun && !into->reason.empty())
      into->notes.push_back("not run in another shard: " + into->reason);
    into->status = r.status;
    into->reason = r.reason;
  } else if (r.status == Status::NotRun && !r.reason.empty()) {
    into->notes.push_back(fmt::format("not run in {}: {}", source, r.reason));
  }
  into->failures.insert(into->failures.end(), r.failures.begin(), r.failures.end());
  into->skips.insert(into->skips.end(), r.skips.begin(), r.skips.end());
  for (const auto& n : r.notes)
    if (std::find(into->notes.begin(), into->notes.end(), n) == into->notes.end()) into->notes.push_back(n);
  into->duration_s += r.duration_s;
  for (const auto& l : r.layouts) into->layouts.push_back(l);
  for (const auto& [k, v] : r.paths)
    for (const auto& [verdict, n] : v) into->paths[k][verdict] += n;
  into->variants.insert(r.variants.begin(), r.variants.end());
  into->combinations.insert(r.combinations.begin(), r.combinations.end());
  into->kernel_log_findings.insert(into->kernel_log_findings.end(), r.kernel_log_findings.begin(),
                                   r.kernel_log_findings.end());
  if (into->hint.empty()) into->hint = r.hint;
  if (!r.fs_check.empty() && into->fs_check != r.fs_check)
    into->fs_check = into->fs_check.empty() ? r.fs_check : into->fs_check + "; " + r.fs_check;
  into->stuck_in_d_state = into->stuck_in_d_state || r.stuck_in_d_state;
}

bool ran_a_shard_of_combinations(const CaseResult& r) {
  return std::any_of(r.notes.begin(), r.notes.end(), [](const std::string& n) { return n.rfind("shard ", 0) == 0; });
}

std::string first_of(const std::vector<MergeInput>& in, const char* key) {
  return in.empty() ? "" : in.front().doc.value(key, "");
}

}  // namespace

Merged merge_inputs(const std::vector<MergeInput>& inputs, bool allow_mixed, const std::string& run_id,
                    const std::string& started) {
  if (inputs.empty()) throw SetupError("nothing to merge; give the results directories of the runs");
  // One tool and one kernel, unless the user says the mix is meant.
  for (const char* key : {"tool_version", "kernel"}) {
    for (const auto& i : inputs) {
      const std::string v = i.doc.value(key, ""), v0 = first_of(inputs, key);
      if (v != v0 && !allow_mixed)
        throw SetupError(fmt::format("{} differs: {} in {} but {} in {}; merge results of one {} (or --allow-mixed to "
                                     "merge them anyway)",
                                     key, v0, inputs.front().source, v, i.source,
                                     std::string(key) == "kernel" ? "kernel" : "diotorture build"));
    }
  }
  // Shards: the same N, each index once, never beside a whole run.
  std::map<unsigned, std::string> shard_source;
  unsigned shard_count = 0;
  bool whole_run = false;
  std::string whole_source;
  for (const auto& i : inputs) {
    if (i.kind == MergeInput::Kind::Bench) continue;
    const std::string s = i.doc.value("shard", "");
    const std::string tag = i.kind == MergeInput::Kind::Campaign ? "campaign" : "run";
    if (s.empty() || s == "1/1") {
      if (i.kind == MergeInput::Kind::Run) whole_run = true, whole_source = i.source;
      continue;
    }
    const Shard sh = parse_shard(s, "shard");
    const unsigned key = sh.index + (i.kind == MergeInput::Kind::Campaign ? 1000000u : 0u);
    if (shard_count && sh.count != shard_count && i.kind == MergeInput::Kind::Run)
      throw SetupError(fmt::format("{} is shard {} but another run is of {} shards; merge the shards of one split",
                                   i.source, s, shard_count));
    if (auto it = shard_source.find(key); it != shard_source.end())
      throw SetupError(fmt::format("{} shard {} given twice ({} and {}); merge each shard once", tag, s, it->second,
                                   i.source));
    shard_source[key] = i.source;
    if (i.kind == MergeInput::Kind::Run) shard_count = sh.count;
  }
  if (whole_run && shard_count)
    throw SetupError(fmt::format("{} ran the whole selection and other runs are shards of it: they overlap; merge the "
                                 "shards only",
                                 whole_source));

  Merged m;
  std::map<std::string, size_t> at;            // case id -> index in results
  std::map<std::string, std::string> from;     // case id -> source
  std::vector<std::string> selected, hosts, profiles, sources;
  json subruns = json::array(), benches = json::array();
  for (const auto& i : inputs) {
    sources.push_back(i.source);
    const std::string host = i.doc.value("hostname", "");
    if (!host.empty() && std::find(hosts.begin(), hosts.end(), host) == hosts.end()) hosts.push_back(host);
    if (i.kind == MergeInput::Kind::Bench) {
      json b = i.doc;
      b["source"] = i.source;
      benches.push_back(b);
      continue;
    }
    if (i.kind == MergeInput::Kind::Campaign) {
      for (json s : member(i.doc["torture"], "subruns")) {
        s["source"] = i.source;
        subruns.push_back(s);
      }
      continue;
    }
    const std::string profile = i.doc.value("profile", "");
    if (std::find(profiles.begin(), profiles.end(), profile) == profiles.end()) profiles.push_back(profile);
    for (const auto& id_json : member(i.doc, "selected"))
      if (std::string id = id_json.get<std::string>(); std::find(selected.begin(), selected.end(), id) == selected.end())
        selected.push_back(id);
    for (const auto& c : member(i.doc, "cases")) {
      CaseResult r = case_from_json(c);
      auto it = at.find(r.id);
      if (it == at.end()) {
        at[r.id] = m.results.size();
        from[r.id] = i.source;
        m.results.push_back(std::move(r));
        continue;
      }
      CaseResult& into = m.results[it->second];
      for (const auto& [name, ok] : r.combinations)
        if (into.combinations.count(name))
          throw SetupError(fmt::format("{} combination {} is in both {} and {}: the runs overlap; merge each shard once",
                                       r.id, name, from[r.id], i.source));
      if (!ran_a_shard_of_combinations(r) || !ran_a_shard_of_combinations(into))
        throw SetupError(fmt::format("case {} is in both {} and {}: the runs overlap; merge each shard once", r.id,
                                     from[r.id], i.source));
      absorb(&into, r, i.source);
    }
  }
  // Shard notes of a merged combinations case say what one shard did; the
  // merged case ran them all.
  for (auto& r : m.results)
    if (ran_a_shard_of_combinations(r)) {
      std::erase_if(r.notes, [](const std::string& n) { return n.rfind("shard ", 0) == 0; });
      r.notes.push_back(fmt::format("merged from shards: {} combinations", r.combinations.size()));
    }

  // Torture failures by signature, the smallest repro kept.
  struct Group {
    json best;
    std::vector<std::string> seeds;
    unsigned count = 0;
    bool all_known = true;
  };
  std::map<std::string, Group> groups;
  std::vector<std::string> order;
  unsigned passed = 0;
  double passed_s = 0;
  auto steps = [](const json& s) {
    return s.contains("repro") ? s.value("steps", uint64_t{1} << 40) : uint64_t{1} << 50;  // no repro: last
  };
  for (const auto& s : subruns) {
    if (!s.contains("failure")) {
      ++passed;
      passed_s += s.value("seconds", 0.0);
      continue;
    }
    const std::string sig = s.value("signature", "?");
    if (!groups.count(sig)) order.push_back(sig);
    Group& g = groups[sig];
    ++g.count;
    g.seeds.push_back(fmt::format("{}.{}", s.value("seed", 0ull), s.value("sub_run", 0u)));
    g.all_known = g.all_known && s.value("status", "") == "known";
    if (g.best.is_null() || steps(s) < steps(g.best)) g.best = s;
  }
  json failures = json::array();
  for (size_t n = 0; n < order.size(); ++n) {
    const Group& g = groups[order[n]];
    const std::string status = g.best.value("status", "fail") == "hang" ? "hang" : g.all_known ? "known" : "fail";
    failures.push_back({{"signature", order[n]},
                        {"status", status},
                        {"count", g.count},
                        {"seeds", g.seeds},
                        {"kept", g.best}});
    CaseResult r;
    r.id = fmt::format("torture-signature-{}", n + 1);
    r.status = status == "hang" ? Status::Hang : status == "known" ? Status::Known : Status::Fail;
    r.reason = order[n];
    r.failures.push_back(order[n]);
    r.notes.push_back(fmt::format("seen {} time{} (seed.sub-run: {})", g.count, g.count == 1 ? "" : "s",
                                  fmt::join(g.seeds, " ")));
    r.notes.push_back(fmt::format("smallest repro: {} ({} steps; results {})", g.best.value("repro", "none"),
                                  g.best.contains("steps") ? g.best["steps"].dump() : "?", g.best.value("dir", "")));
    if (g.best.contains("known")) r.notes.push_back("known failure: " + g.best.value("known", ""));
    r.duration_s = g.best.value("seconds", 0.0);
    m.results.push_back(std::move(r));
  }
  if (passed) {
    CaseResult r;
    r.id = "torture";
    r.duration_s = passed_s;
    r.notes.push_back(fmt::format("{} sub-run{} passed", passed, passed == 1 ? "" : "s"));
    m.results.push_back(std::move(r));
  }

  RunInfo& info = m.info;
  info.run_id = run_id;
  info.started = started;
  info.hostname = fmt::format("{}", fmt::join(hosts, ","));
  info.kernel = first_of(inputs, "kernel");
  info.tool_version = first_of(inputs, "tool_version");
  info.profile = fmt::format("{}", fmt::join(profiles, ","));
  info.selected = selected;
  info.provisioning = fmt::format("merged from {} result directories", inputs.size());
  for (const auto& i : inputs)
    if (i.kind == MergeInput::Kind::Run) {
      info.btrfs_progs = i.doc.value("btrfs_progs", "");
      info.fstype = i.doc.value("fstype", "");
      info.mount_options = i.doc.value("mount_options", "");
      info.seed = i.doc.value("seed", 0ull);
      break;
    }
  std::vector<std::string> missing;
  for (unsigned s = 1; s <= shard_count; ++s)
    if (!shard_source.count(s)) missing.push_back(fmt::format("{}/{}", s, shard_count));
  // A run stopped early, or a shard missing, is not a complete merged run.
  for (const auto& i : inputs)
    if (i.doc.value("outcome", "complete") == "interrupted" || i.doc.value("outcome", "complete") == "aborted") {
      info.outcome = "aborted";
      info.outcome_reason = fmt::format("{} was {} ({})", i.source, i.doc.value("outcome", ""),
                                        i.doc.value("outcome_reason", ""));
      info.outcome_exit_code = std::max(2, i.doc.value("exit_code", 2));
    }
  if (info.outcome == "running") info.outcome = "complete";
  if (!missing.empty() && info.outcome == "complete") {
    info.outcome = "aborted";
    info.outcome_reason = fmt::format("shard {} missing", fmt::join(missing, ", "));
    info.outcome_exit_code = 2;
  }
  m.summary = json::parse(summary_json(info, m.results));
  m.summary["kind"] = "diotorture-merge";
  m.summary["sources"] = sources;
  m.summary["shards"] = shard_count;
  m.summary["missing_shards"] = missing;
  m.summary["mixed"] = allow_mixed;
  m.summary["torture"] = {{"subruns", subruns}, {"failures", failures}, {"passed", passed}};
  m.summary["bench"] = benches;
  // Merged summaries keep the case list only of run cases: what kcidb and
  // later merges read as cases; the torture entries are in "torture".
  json run_cases = json::array();
  for (const auto& c : m.summary["cases"])
    if (at.count(c.value("id", ""))) run_cases.push_back(c);
  m.summary["cases"] = run_cases;
  return m;
}

}  // namespace dt
