// diotorture merge --results DIR RUN... [--allow-mixed] [KCIDB ids]
// diotorture kcidb-check FILE...
// Joins the results of shards, campaigns and bench runs into DIR: one
// summary.json, junit.xml, check.log and kcidb.json. Exits as a run would
// for the merged results (0, 1 a failure, 3 a hang; 2 an incomplete merge).
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cmd/command.hpp"
#include "cmd/nightly_options.hpp"
#include "lib/run/results_dir.hpp"
#include "lib/harness/kcidb.hpp"
#include "lib/nightly/merge.hpp"
#include "lib/harness/results_doc.hpp"

namespace dt {
namespace fs = std::filesystem;
namespace {

struct MergeOptions {
  std::string results;
  std::vector<std::string> runs;
  bool allow_mixed = false;
  KcidbFlags kcidb;
};

int merge(const MergeOptions& o) {
  std::error_code ec;
  for (const char* f : {"summary.json", "campaign.json", "bench.json"})
    if (fs::exists(fs::path(o.results) / f, ec))
      throw SetupError(fmt::format("--results {} already holds results ({}); give a new directory", o.results, f));
  std::vector<MergeInput> inputs;
  for (const auto& r : o.runs) {
    if (fs::weakly_canonical(r, ec) == fs::weakly_canonical(o.results, ec))
      throw SetupError(fmt::format("{} is both an input and --results; give another --results directory", r));
    inputs.push_back(load_merge_input(r));
  }
  Merged m = merge_inputs(inputs, o.allow_mixed, "merge-" + make_run_id(fs::path(o.results).parent_path().empty()
                                                                            ? fs::path(".")
                                                                            : fs::path(o.results).parent_path()),
                          utc_timestamp());
  const KcidbIds ids = o.kcidb.ids(m.info.kernel);
  fs::create_directories(o.results);
  const fs::path dir = o.results;
  write_file_atomic(dir / "summary.json", m.summary.dump(2) + "\n");
  write_file_atomic(dir / "junit.xml", junit_xml(m.info, m.results));
  write_file_atomic(dir / "check.log", check_log(m.info, m.results));
  write_file_atomic(dir / "kcidb.json", kcidb_report(ids, m.summary).dump(2) + "\n");
  std::cout << fmt::format("MERGED    -- {} result directories, kernel {}, {}\n", inputs.size(), m.info.kernel,
                           m.info.tool_version);
  if (!m.summary["missing_shards"].empty())
    std::cout << "INCOMPLETE -- missing shard " << m.summary["missing_shards"].dump() << "\n";
  std::cout << run_summary(m.results) << "Results in " << dir.string() << "\n";
  return run_exit_code(m.info, m.results);
}

int kcidb_check(const std::vector<std::string>& files) {
  int bad = 0;
  for (const auto& f : files) {
    const auto problems = kcidb_problems(read_json_file(f, "a kcidb.json"));
    for (const auto& p : problems) std::cout << f << ": " << p << "\n";
    if (problems.empty()) std::cout << f << ": valid KCIDB v5.3\n";
    bad += !problems.empty();
  }
  return bad ? 1 : 0;
}

}  // namespace

Action setup_merge(CLI::App& sub) {
  auto o = std::make_shared<MergeOptions>();
  sub.add_option("runs", o->runs, "Result directories: run shards, torture campaigns (--seeds), bench runs")
      ->required()
      ->check(CLI::ExistingDirectory);
  sub.add_option("--results", o->results, "Write the merged results into this new directory")
      ->required()
      ->check(WritablePath(true));
  sub.add_flag("--allow-mixed", o->allow_mixed, "Merge runs of different kernels or diotorture builds");
  add_kcidb_options(sub, &o->kcidb);
  return [o] { return merge(*o); };
}

Action setup_kcidb_check(CLI::App& sub) {
  auto files = std::make_shared<std::vector<std::string>>();
  sub.add_option("files", *files, "kcidb.json files")->required()->check(CLI::ExistingFile);
  return [files] { return kcidb_check(*files); };
}

}  // namespace dt
