#include "lib/bench/bench_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "lib/bench/bench_table.hpp"
#include "lib/sys/sys.hpp"

namespace dt {

using nlohmann::json;
using namespace bench_table;

namespace {
std::string pct(double v) { return std::isinf(v) ? "none" : fmt::format("{:.1f} %", v); }

std::string usec(double v) { return v >= 1000 ? fmt::format("{:.2f} ms", v / 1000) : fmt::format("{:.0f} us", v); }

LatencyPoint median_latency(const std::vector<LatencyPoint>& v) {
  LatencyPoint m;
  if (v.empty()) return m;
  std::vector<double> a, b, c, d;
  for (const auto& x : v) a.push_back(x.p50), b.push_back(x.p99), c.push_back(x.p999), d.push_back(x.max);
  return {summarize(a).median, summarize(b).median, summarize(c).median, summarize(d).median};
}

// Pads a table of cells; `rules` are row indices after which a rule is drawn.
std::string text_table(const std::vector<std::vector<std::string>>& rows, const std::set<size_t>& rules) {
  std::vector<size_t> w;
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (w.size() <= i) w.push_back(0);
      w[i] = std::max(w[i], r[i].size());
    }
  std::string out;
  auto rule = [&] {
    for (size_t i = 0; i < w.size(); ++i) out += std::string(w[i] + (i ? 2 : 1), '-') + "+";
    out += "\n";
  };
  for (size_t k = 0; k < rows.size(); ++k) {
    for (size_t i = 0; i < w.size(); ++i) {
      const std::string& c = i < rows[k].size() ? rows[k][i] : "";
      out += i == 0 ? fmt::format("{:<{}} |", c, w[i]) : fmt::format(" {:>{}} |", c, w[i]);
    }
    out += "\n";
    if (rules.count(k)) rule();
  }
  return out;
}

std::string legend(const Comparison& c) {
  const std::string samples = c.sample == "round" ? "round medians (one per boot)" : "repetitions";
  std::string out = fmt::format(
      "MiB/s, IOPS: median of the {}. Diff: change of the median against {}.\n"
      "  *  significant (two-sided Mann-Whitney U on the {}, p < {})\n"
      "  !  significant and slower by more than {} % (exit status 1)\n"
      "  ?  too few {} for any difference to be significant\n"
      "     no mark: not significant -- which means smaller than the 'detectable' row, not zero\n"
      "detectable: the smallest change these samples find 4 times in 5 (80 % power at p < {}), from their\n"
      "  spread and number; a change below it can pass unseen.\n"
      "p99 clat: completion latency, median of the {} (base / other), and its change with the same marks;\n"
      "  for latency higher is worse: ! = significantly higher by more than {} % (exit status 1).\n",
      samples, c.labels.empty() ? "the first run" : c.labels[0], samples, c.alpha, c.threshold_pct,
      c.sample == "round" ? "rounds" : "repetitions", c.alpha, c.sample == "round" ? "rounds' p99s" : "repetitions' p99s",
      c.latency_threshold_pct);
  if (c.sample == "round")
    out += "within-round CV: median coefficient of variation of the repetitions inside one boot (A / B);\n"
           "  spread between boots is what the verdict sees.\n";
  return out;
}

std::string run_header(const BenchRun& r, const std::string& label) {
  const json& c = r.config;
  return fmt::format("{}: kernel {}, {} blocks over a {} file, {} repetitions{}", label, r.kernel,
                     format_size(c.value("block_size", 0ull)), format_size(c.value("file_size", 0ull)),
                     c.value("repetitions", 0u),
                     c.value("iodepth", 1u) > 1 ? fmt::format(", io_uring queue depth {}", c.value("iodepth", 1u)) : "");
}

// Rows of one engine's comparison table: per workload a row per run, then
// per compared run its Diff with the verdict, what it could have detected,
// and (when known) the within-round spread and the p99 completion latency.
std::vector<std::vector<std::string>> engine_rows(const std::vector<BenchRun>& runs, const Comparison& c,
                                                  const std::string& engine, const std::vector<std::string>& targets,
                                                  std::set<size_t>* rules, bool markdown) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> head = {markdown ? engine : ""};
  for (const auto& t : targets) head.push_back(title(t));
  rows.push_back(head);
  rules->insert(0);
  for (const std::string& op : all_ops(runs, engine)) {
    for (size_t i = 0; i < runs.size(); ++i) {
      std::vector<std::string> row = {fmt::format("{} ({})", op_title(op), c.labels[i])};
      for (const auto& t : targets) {
        const BenchCell* cell = runs[i].find(t, engine, op);
        row.push_back(cell ? rate(summarize(cell->rate()).median, cell->rate_unit()) : "-");
      }
      rows.push_back(row);
      if (i == 0) continue;
      const std::string suffix = runs.size() > 2 ? fmt::format(" ({})", c.labels[i]) : "";
      std::vector<std::string> diff = {"Diff" + suffix}, det = {"  detectable" + suffix},
                               within = {"  within-round CV" + suffix}, lat = {"  p99 clat" + suffix};
      bool any_within = false, any_lat = false;
      for (const auto& t : targets) {
        const CellComparison* x = find_cmp(c, t, engine, op, c.labels[i]);
        diff.push_back(x ? diff_cell(x->rate) : "-");
        det.push_back(x ? pct(x->rate.detectable_pct) : "-");
        any_within |= x && x->within_cv_base >= 0;
        within.push_back(x && x->within_cv_base >= 0
                             ? fmt::format("{:.1f} / {:.1f} %", x->within_cv_base, x->within_cv_other)
                             : "-");
        any_lat |= x && x->has_p99;
        lat.push_back(x && x->has_p99 ? fmt::format("{} / {} {}", usec(x->p99.base.median), usec(x->p99.other.median),
                                                    diff_cell(x->p99))
                                      : "-");
      }
      rows.push_back(diff);
      rows.push_back(det);
      if (any_within) rows.push_back(within);
      if (any_lat) rows.push_back(lat);
    }
    rules->insert(rows.size() - 1);
  }
  return rows;
}
}  // namespace

std::string render_text(const std::vector<BenchRun>& runs, const Comparison& c) {
  std::string out;
  for (size_t i = 0; i < runs.size(); ++i) out += run_header(runs[i], c.labels[i]) + "\n";
  const auto targets = all_targets(runs);
  for (const auto& e : all_engines(runs)) {
    out += fmt::format("\nengine {}\n", e);
    std::set<size_t> rules;
    auto rows = engine_rows(runs, c, e, targets, &rules, false);
    out += text_table(rows, rules);
  }
  out += "\n" + legend(c);
  for (const auto& n : c.incomparable) out += "NOT COMPARABLE: " + n + "\n";
  for (const auto& n : c.notes) out += "note: " + n + "\n";
  if (c.calibration) out += "\n" + render_calibration(c);
  return out;
}

std::string render_markdown(const std::vector<BenchRun>& runs, const Comparison& c, const std::string& chart) {
  std::string out;
  if (!chart.empty()) out += fmt::format("![{} against {}]({})\n\n", c.labels.size() > 1 ? c.labels[1] : "", c.labels[0], chart);
  for (size_t i = 0; i < runs.size(); ++i)
    out += "- " + run_header(runs[i], "**" + c.labels[i] + "**") + "\n";
  const auto targets = all_targets(runs);
  for (const auto& e : all_engines(runs)) {
    std::set<size_t> rules;
    auto rows = engine_rows(runs, c, e, targets, &rules, true);
    out += "\n";
    for (size_t k = 0; k < rows.size(); ++k) {
      std::string line = "|";
      for (size_t i = 0; i < rows[k].size(); ++i) {
        const bool diff = rows[k][0].rfind("Diff", 0) == 0;
        line += " " + (diff && i == 0 ? "**" + rows[k][i] + "**" : rows[k][i]) + " |";
      }
      out += line + "\n";
      if (k == 0) {
        out += "|---|";
        for (size_t i = 1; i < rows[0].size(); ++i) out += "---:|";
        out += "\n";
      }
    }
  }
  out += "\n```\n" + legend(c) + "```\n";
  for (const auto& n : c.incomparable) out += "\n> **not comparable**: " + n + "\n";
  for (const auto& n : c.notes) out += "\n> note: " + n + "\n";
  if (c.calibration) out += "\n```\n" + render_calibration(c) + "```\n";
  return out;
}

std::string render_json(const std::vector<BenchRun>& runs, const Comparison& c) {
  // The verdict's fields; the throughput's sit in the cell itself (as before
  // latency had a verdict), p99 latency's in "p99".
  auto verdict = [](const Verdict& v) {
    return json{{"diff_pct", v.diff_pct},
                {"u", v.test.u},
                {"p", v.test.p},
                {"exact", v.test.exact},
                {"testable", v.testable},
                {"significant", v.significant},
                {"regression", v.regression},
                {"detectable_pct", std::isinf(v.detectable_pct) ? json() : json(v.detectable_pct)}};
  };
  json cells = json::array();
  for (const auto& x : c.cells) {
    json cell = {{"target", x.target},
                 {"engine", x.engine},
                 {"op", x.op},
                 {"baseline", c.labels[0]},
                 {"label", x.label},
                 {"baseline_median_mib_s", x.rate.base.median},
                 {"median_mib_s", x.rate.other.median},
                 {"within_round_cv_pct", x.within_cv_base < 0 ? json() : json{x.within_cv_base, x.within_cv_other}},
                 {"p99_clat_us", x.has_p99 ? json{x.p99.base.median, x.p99.other.median} : json()}};
    cell.update(verdict(x.rate));
    if (x.has_p99) {
      cell["p99"] = verdict(x.p99);
      cell["p99"]["worse_when"] = "higher";
    }
    cells.push_back(std::move(cell));
  }
  json runs_j = json::array();
  for (size_t i = 0; i < runs.size(); ++i)
    runs_j.push_back({{"label", c.labels[i]}, {"kernel", runs[i].kernel}, {"run_id", runs[i].run_id}});
  return json{{"alpha", c.alpha},
              {"threshold_pct", c.threshold_pct},
              {"runs", runs_j},
              {"cells", cells},
              {"notes", c.notes},
              {"incomparable", c.incomparable},
              {"sample", c.sample},
              {"latency_threshold_pct", c.latency_threshold_pct},
              {"calibration", c.calibration},
              {"false_gate_threshold_pct", c.calibration ? json(false_gate_threshold(c)) : json()},
              {"suggested_threshold_pct", c.calibration ? json(suggested_threshold(c)) : json()},
              {"false_gate_latency_threshold_pct",
               c.calibration ? json(false_gate_threshold(c, Better::Lower)) : json()},
              {"suggested_latency_threshold_pct", c.calibration ? json(suggested_threshold(c, Better::Lower)) : json()},
              {"exit_code", c.exit_code()}}
             .dump(2) +
         "\n";
}

std::string render_run(const BenchRun& run) {
  std::string out = run_header(run, run.label.empty() ? "unlabelled" : run.label) + "\n";
  const auto targets = run.targets();
  for (const auto& e : run.engines()) {
    out += fmt::format("\nengine {}\n", e);
    std::vector<std::vector<std::string>> rows;
    std::set<size_t> rules;
    std::vector<std::string> head = {""};
    for (const auto& t : targets) head.push_back(title(t));
    rows.push_back(head);
    rules.insert(0);
    for (const std::string& op : all_ops({run}, e)) {
      std::vector<std::string> med = {op_title(op) + " median"}, range = {"  min-max"}, cv = {"  CV"},
                               cpu = {"  CPU s/GiB"}, lat = {"  clat p50/p99/p99.9/max"}, path = {"  path"};
      bool any_lat = false;
      for (const auto& t : targets) {
        const BenchCell* c = run.find(t, e, op);
        if (!c) {
          for (auto* r : {&med, &range, &cv, &cpu, &lat, &path}) r->push_back("-");
          continue;
        }
        Summary m = summarize(c->rate());
        med.push_back(rate(m.median, c->rate_unit()));
        range.push_back(fmt::format("{:.0f}-{:.0f}", m.min, m.max));
        cv.push_back(fmt::format("{:.1f} %", m.cv * 100));
        cpu.push_back(fmt::format("{:.3f}", summarize(c->cpu_s_per_gib()).median));
        const LatencyPoint l = median_latency(c->clat_us);
        any_lat |= !c->clat_us.empty();
        lat.push_back(c->clat_us.empty() ? "-"
                                         : fmt::format("{}/{}/{}/{}", usec(l.p50), usec(l.p99), usec(l.p999), usec(l.max)));
        path.push_back(c->path);
      }
      for (auto* r : {&med, &range, &cv, &cpu, &lat, &path})
        if (r != &lat || any_lat) rows.push_back(*r);
      rules.insert(rows.size() - 1);
    }
    out += text_table(rows, rules);
  }
  return out;
}

std::string render_calibration(const Comparison& c) {
  std::string out = "A/A calibration: both sides ran the same kernel, so every significant change is noise.\n";
  // Throughput, then p99 latency (when recorded): each has its own threshold option.
  const bool any_p99 = std::any_of(c.cells.begin(), c.cells.end(), [](const CellComparison& x) { return x.has_p99; });
  for (const Better measure : {Better::Higher, Better::Lower}) {
    if (measure == Better::Lower && !any_p99) break;
    const bool lat = measure == Better::Lower;
    const char* option = lat ? "--latency-threshold" : "--threshold";
    const std::string what = lat ? "p99 latency" : "throughput";
    const double falsely = false_gate_threshold(c, measure);
    if (falsely > 0)
      out += fmt::format("  {}: a {} below {:.1f} % would have gated this run falsely (exit status 1).\n", what,
                         option, falsely);
    else
      out += fmt::format("  {}: no cell was significantly {}: no threshold would have gated this run falsely.\n", what,
                         lat ? "higher" : "slower");
    const double t = suggested_threshold(c, measure);
    if (t >= 50)
      out += fmt::format("  {}: largest |diff| or detectable change of any cell: {:.0f} % -- too noisy to gate on: add "
                         "rounds, use a quieter machine or larger sizes, and calibrate again.\n",
                         what, t);
    else
      out += fmt::format("  {}: largest |diff| or detectable change of any cell: {:.0f} % -- a threshold below that "
                         "is inside this machine's noise; gate with {} {:.0f} or more.\n",
                         what, t, option, t);
  }
  return out;
}

}  // namespace dt
