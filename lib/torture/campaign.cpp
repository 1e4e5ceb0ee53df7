#include "lib/torture/campaign.hpp"

#include <fmt/format.h>

#include <chrono>

#include "lib/run/results_dir.hpp"
#include "lib/harness/results_doc.hpp"
#include "lib/nightly/signature.hpp"
#include "lib/sys/sys.hpp"
#include "lib/sys/version.hpp"

namespace dt {
namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

uint64_t subrun_seed(uint64_t seed, unsigned k) { return k == 0 ? seed : seed ^ (k * 0x9E3779B97F4A7C15ull); }

namespace {
// A sub-run that keeps failing at its first op must still end.
constexpr unsigned kMaxSubruns = 1000;

void write_campaign(const fs::path& dir, const json& doc, const KcidbIds& ids) {
  write_file_atomic(dir / "campaign.json", doc.dump(2) + "\n");
  RunInfo info = info_from_json(doc);
  const auto results = torture_subrun_results(doc["torture"]["subruns"]);
  write_file_atomic(dir / "junit.xml", junit_xml(info, results));
  write_file_atomic(dir / "check.log", check_log(info, results));
  write_file_atomic(dir / "kcidb.json", kcidb_report(ids, doc).dump(2) + "\n");
}
}  // namespace

int run_campaign(const CampaignConfig& cfg, std::ostream& out) {
  const std::vector<uint64_t> seeds = seeds_in_shard(cfg.seeds, cfg.shard);
  if (seeds.empty())
    throw SetupError(fmt::format("--shard {} of --seeds {}..{} holds no seed ({} seeds); give at most {} shards",
                                 cfg.shard.name(), cfg.seeds.first, cfg.seeds.last,
                                 cfg.seeds.last - cfg.seeds.first + 1, cfg.seeds.last - cfg.seeds.first + 1));
  const std::string run_id = make_run_dir(cfg.base.results_root);
  const fs::path dir = cfg.base.results_root / run_id;
  const std::string kernel = kernel_release();
  json doc{{"kind", "diotorture-torture-campaign"},
           {"run_id", run_id},
           {"tool_version", tool_version()},
           {"hostname", host_name()},
           {"kernel", kernel},
           {"started", utc_timestamp()},
           {"seeds", fmt::format("{}..{}", cfg.seeds.first, cfg.seeds.last)},
           {"shard", cfg.shard.name()},
           {"budget", cfg.base.ops ? fmt::format("{} ops per seed", cfg.base.ops)
                                   : fmt::format("{:.0f}s per seed", cfg.base.duration_s)},
           {"keep_going", cfg.keep_going},
           {"strict", cfg.strict},
           {"known_failures", cfg.known_failures_file.string()},
           {"outcome", "running"},
           {"torture", {{"subruns", json::array()}}}};
  out << fmt::format("CAMPAIGN  -- seeds {}..{}, shard {}: {} seed{} ({}), {}{}\nKNOWN     -- {}\nRESULTS   -- {}\n\n",
                     cfg.seeds.first, cfg.seeds.last, cfg.shard.name(), seeds.size(), seeds.size() == 1 ? "" : "s",
                     seeds.size() <= 8 ? fmt::format("{}", fmt::join(seeds, " ")) : "every " + std::to_string(cfg.shard.count) + "th",
                     doc["budget"].get<std::string>(), cfg.keep_going ? ", --keep-going" : "",
                     cfg.known_failures_file.empty() ? "none" : cfg.known_failures_file.string() + (cfg.strict ? ", --strict" : ""),
                     dir.string());
  write_campaign(dir, doc, cfg.kcidb);

  int exit_status = 0;
  bool hung = false;
  for (uint64_t seed : seeds) {
    const auto seed_t0 = Clock::now();
    uint64_t ops_used = 0;
    for (unsigned k = 0; k < kMaxSubruns && !hung; ++k) {
      TortureConfig c = cfg.base;
      c.seed = subrun_seed(seed, k);
      c.results_root = dir;
      c.run_name = fmt::format("seed-{}.{}", seed, k);
      if (cfg.base.ops) {
        c.ops = cfg.base.ops - ops_used;
      } else {
        c.duration_s = cfg.base.duration_s - std::chrono::duration<double>(Clock::now() - seed_t0).count();
        if (c.duration_s < 1) break;
      }
      c.known = [&](const std::string& kind, const std::string& op, const std::string& msg) -> std::string {
        const KnownFailure* kf = find_known_signature(cfg.known_failures, kind, op, msg, kernel);
        return kf ? fmt::format("{} ({})", kf->reason, kf->where) : "";
      };
      out << fmt::format("=== seed {} sub-run {} (torture seed {})\n", seed, k, c.seed);
      out.flush();
      const int rc = run_torture(c, out);
      const fs::path sub = dir / c.run_name / "torture";
      const json s = read_json_file(sub / "summary.json", "the summary of a torture run");
      json rec{{"seed", seed},       {"sub_run", k},
               {"torture_seed", c.seed}, {"dir", sub.string()},
               {"ops", s.value("ops", uint64_t{0})}, {"seconds", s.value("seconds", 0.0)},
               {"status", s.value("status", rc == 0 ? "pass" : "fail")}};
      ops_used += std::max<uint64_t>(1, s.value("ops", uint64_t{0}));
      bool go_on = false;
      if (s.contains("failure")) {
        const json& f = s["failure"];
        rec["failure"] = f;
        rec["signature"] = signature_title(f.value("kind", ""), f.value("op", ""), f.value("msg", ""));
        if (s.contains("repro") && s["repro"].is_string() && fs::exists(s["repro"].get<std::string>()))
          rec["repro"] = s["repro"];
        if (fs::exists(sub / "minimal.jsonl")) rec["minimal"] = (sub / "minimal.jsonl").string();
        if (s.contains("shrink") && s["shrink"].contains("steps_after")) rec["steps"] = s["shrink"]["steps_after"];
        const bool known = s.contains("known") && !cfg.strict;
        if (s.contains("known")) rec["known"] = s["known"];
        if (known) rec["status"] = "known";
        if (rec["status"] == "hang") {
          hung = true;
          exit_status = 3;
        } else if (!known) {
          exit_status = std::max(exit_status, 1);
        }
        go_on = !hung && (known || cfg.keep_going);
        out << fmt::format("seed {} sub-run {}: {} {}{}\n\n", seed, k, rec["status"].get<std::string>(),
                           rec["signature"].get<std::string>(),
                           go_on ? "; going on with a fresh filesystem" : "; this seed is done");
      } else {
        out << fmt::format("seed {} sub-run {}: pass\n\n", seed, k);
      }
      doc["torture"]["subruns"].push_back(rec);
      write_campaign(dir, doc, cfg.kcidb);
      if (!go_on || (cfg.base.ops && ops_used >= cfg.base.ops)) break;
    }
    if (hung) break;
  }
  doc["outcome"] = hung ? "aborted" : "complete";
  if (hung) doc["outcome_reason"] = "a sub-run hung; the filesystem is not touched again";
  doc["exit_code"] = exit_status;
  write_campaign(dir, doc, cfg.kcidb);
  const auto results = torture_subrun_results(doc["torture"]["subruns"]);
  out << run_summary(results, "torture sub-runs") << "Results in " << dir.string() << "\n";
  return exit_status;
}

}  // namespace dt
