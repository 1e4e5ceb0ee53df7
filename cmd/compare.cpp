// diotorture compare BASE.json OTHER.json [...] [--format text|markdown|json]
//                    [--threshold PCT] [--latency-threshold PCT] [--alpha P] [--chart FILE.svg]
// Reads bench results (a bench.json or the run directory holding one), and
// prints the seed-002-shaped table with a significance verdict per cell.
// Exit status 1 when a change beyond --threshold is significant in the bad
// direction, so a nightly job can gate on it.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <iostream>
#include <memory>

#include "cmd/command.hpp"
#include "lib/bench/bench_report.hpp"
#include "lib/sys/sys.hpp"

namespace dt {
namespace {
namespace fs = std::filesystem;

struct CompareCli {
  std::vector<std::string> inputs;
  VerdictOptions v;
  bool compare_anyway = false;
};

BenchRun load(const std::string& arg) {
  fs::path p = arg;
  std::error_code ec;
  if (fs::is_directory(p, ec)) p /= "bench.json";
  if (!fs::is_regular_file(p, ec))
    throw SetupError(fmt::format("{} not found; give a bench.json or a results directory holding one", p.string()));
  nlohmann::json j = nlohmann::json::parse(read_file(p), nullptr, false);
  if (j.is_discarded()) throw SetupError(fmt::format("{} is not JSON; give a bench.json written by 'diotorture bench'", p.string()));
  return bench_from_json(j, p.string());
}

int compare(const CompareCli& o) {
  if (o.inputs.size() < 2)
    throw SetupError("compare needs at least two bench results: the baseline first, e.g. vanilla.json patched.json");
  std::vector<BenchRun> runs;
  for (const auto& in : o.inputs) runs.push_back(load(in));
  Comparison c = compare_runs(runs, o.v.threshold, o.v.alpha, o.v.latency_threshold);
  // Runs of different block sizes, file sizes or engine settings measure
  // different things: their "regressions" would be the configuration's.
  if (!c.incomparable.empty() && !o.compare_anyway)
    throw SetupError(fmt::format("the runs are not comparable: {}; rerun with the same options, or pass "
                                 "--compare-anyway",
                                 fmt::join(c.incomparable, "; ")));
  if (o.v.format == "text") std::cout << render_text(runs, c);
  else if (o.v.format == "markdown") std::cout << render_markdown(runs, c, o.v.chart);
  else std::cout << render_json(runs, c);
  if (!o.v.chart.empty()) write_file_atomic(o.v.chart, render_svg(runs, c));
  return c.exit_code();
}

}  // namespace

Action setup_compare(CLI::App& sub) {
  auto o = std::make_shared<CompareCli>();
  sub.add_option("results", o->inputs, "bench.json files or run directories; the first is the baseline")->required();
  add_verdict_options(sub, &o->v, "", "Also write an SVG bar chart to this file");
  sub.add_flag("--compare-anyway", o->compare_anyway,
               "Compare runs whose configuration differs (block size, file size, engine settings); named as notes");
  return [o] { return compare(*o); };
}

}  // namespace dt
