#include "lib/bench/bench_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "lib/sys/sys.hpp"

namespace dt {

using nlohmann::json;

namespace {
constexpr double kMiB = 1024.0 * 1024.0, kGiB = kMiB * 1024.0;

std::string title(const std::string& target) {
  if (target == "nodatasum") return "Nodatasum";
  if (target == "checksummed") return "Checksummed";
  if (target == "device") return "Device";
  return target;
}
std::string op_title(const std::string& op) { return op == "read" ? "Read" : op == "write" ? "Write" : op; }

std::string rate(double v, const std::string& unit) {
  if (unit == "IOPS") return v >= 1e4 ? fmt::format("{:.1f}k IOPS", v / 1e3) : fmt::format("{:.0f} IOPS", v);
  return fmt::format("{:.1f} MiB/s", v);
}

std::string pct(double v) { return std::isinf(v) ? "none" : fmt::format("{:.1f} %", v); }

std::string usec(double v) { return v >= 1000 ? fmt::format("{:.2f} ms", v / 1000) : fmt::format("{:.0f} us", v); }

LatencyPoint median_latency(const std::vector<LatencyPoint>& v) {
  LatencyPoint m;
  if (v.empty()) return m;
  std::vector<double> a, b, c, d;
  for (const auto& x : v) a.push_back(x.p50), b.push_back(x.p99), c.push_back(x.p999), d.push_back(x.max);
  return {summarize(a).median, summarize(b).median, summarize(c).median, summarize(d).median};
}

template <typename T>
void push_unique(std::vector<T>* v, const T& x) {
  if (std::find(v->begin(), v->end(), x) == v->end()) v->push_back(x);
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


std::string diff_cell(const Verdict& v) {
  const char* mark = v.regression ? " !" : v.significant ? " *" : !v.testable ? " ?" : "";
  return fmt::format("{:+.1f} %{}", v.diff_pct, mark);
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

const CellComparison* find_cmp(const Comparison& c, const std::string& target, const std::string& engine,
                               const std::string& op, const std::string& label) {
  for (const auto& x : c.cells)
    if (x.target == target && x.engine == engine && x.op == op && x.label == label) return &x;
  return nullptr;
}

std::vector<std::string> all_targets(const std::vector<BenchRun>& runs) {
  std::vector<std::string> t;
  for (const auto& r : runs)
    for (const auto& x : r.targets()) push_unique(&t, x);
  return t;
}
std::vector<std::string> all_engines(const std::vector<BenchRun>& runs) {
  std::vector<std::string> t;
  for (const auto& r : runs)
    for (const auto& x : r.engines()) push_unique(&t, x);
  return t;
}

std::string run_header(const BenchRun& r, const std::string& label) {
  const json& c = r.config;
  return fmt::format("{}: kernel {}, {} blocks over a {} file, {} repetitions{}", label, r.kernel,
                     format_size(c.value("block_size", 0ull)), format_size(c.value("file_size", 0ull)),
                     c.value("repetitions", 0u),
                     c.value("iodepth", 1u) > 1 ? fmt::format(", io_uring queue depth {}", c.value("iodepth", 1u)) : "");
}

std::vector<std::string> all_ops(const std::vector<BenchRun>& runs, const std::string& engine) {
  std::vector<std::string> ops;
  for (const auto& r : runs)
    for (const auto& c : r.cells)
      if (c.engine == engine) push_unique(&ops, c.op);
  return ops;
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

std::vector<double> BenchCell::mib_per_s() const {
  std::vector<double> v;
  for (double s : seconds) v.push_back(s > 0 ? static_cast<double>(bytes) / kMiB / s : 0);
  return v;
}

std::vector<double> BenchCell::rate() const {
  if (!iops) return mib_per_s();
  std::vector<double> v;
  const double ios = static_cast<double>(bytes) / static_cast<double>(block_size ? block_size : 1);
  for (double s : seconds) v.push_back(s > 0 ? ios / s : 0);
  return v;
}

std::vector<double> BenchCell::cpu_s_per_gib() const {
  std::vector<double> v;
  for (double s : cpu_seconds) v.push_back(bytes ? s / (static_cast<double>(bytes) / kGiB) : 0);
  return v;
}

const BenchCell* BenchRun::find(const std::string& target, const std::string& engine, const std::string& op) const {
  for (const auto& c : cells)
    if (c.target == target && c.engine == engine && c.op == op) return &c;
  return nullptr;
}

std::vector<std::string> BenchRun::targets() const {
  std::vector<std::string> v;
  for (const auto& c : cells) push_unique(&v, c.target);
  return v;
}

std::vector<std::string> BenchRun::engines() const {
  std::vector<std::string> v;
  for (const auto& c : cells) push_unique(&v, c.engine);
  return v;
}

json bench_to_json(const BenchRun& run) {
  json cells = json::array();
  for (const auto& c : run.cells) {
    Summary s = summarize(c.mib_per_s());
    Summary cpu = summarize(c.cpu_s_per_gib());
    json clat = json::array();
    for (const auto& l : c.clat_us) clat.push_back({{"p50", l.p50}, {"p99", l.p99}, {"p99.9", l.p999}, {"max", l.max}});
    cells.push_back({{"target", c.target},
                     {"engine", c.engine},
                     {"op", c.op},
                     {"bytes", c.bytes},
                     {"block_size", c.block_size},
                     {"iops", c.iops},
                     {"iodepth", c.iodepth},
                     {"jobs", c.jobs},
                     {"clat_us", clat},
                     {"seconds", c.seconds},
                     {"cpu_seconds", c.cpu_seconds},
                     {"thread_cpu_seconds", c.thread_cpu_seconds},
                     {"buffer_runs", c.buffer_runs},
                     {"path", c.path},
                     {"path_detail", c.path_detail},
                     {"mib_per_s", {{"median", s.median}, {"min", s.min}, {"max", s.max}, {"cv", s.cv}}},
                     {"cpu_s_per_gib_median", cpu.median}});
  }
  return {{"kind", "diotorture-bench"}, {"version", 1},       {"label", run.label},
          {"run_id", run.run_id},       {"started", run.started}, {"hostname", run.hostname},
          {"kernel", run.kernel},       {"tool_version", run.tool_version}, {"config", run.config},
          {"filesystem", run.filesystem}, {"layouts", run.layouts}, {"sample", run.sample},
          {"cells", cells}};
}

BenchRun bench_from_json(const json& j, const std::string& source) {
  auto bad = [&](const std::string& what) {
    return SetupError(fmt::format("{} is not a diotorture bench result ({}); give a bench.json written by "
                                  "'diotorture bench'",
                                  source, what));
  };
  if (!j.is_object() || j.value("kind", "") != "diotorture-bench") throw bad("no \"kind\": \"diotorture-bench\"");
  if (j.value("version", 0) != 1) throw bad(fmt::format("version {}, this tool reads 1", j.value("version", 0)));
  BenchRun r;
  try {
    r.label = j.at("label").get<std::string>();
    r.run_id = j.value("run_id", "");
    r.started = j.value("started", "");
    r.hostname = j.value("hostname", "");
    r.kernel = j.value("kernel", "");
    r.tool_version = j.value("tool_version", "");
    r.config = j.value("config", json::object());
    r.filesystem = j.value("filesystem", json::object());
    r.layouts = j.value("layouts", json::object());
    r.sample = j.value("sample", "repetition");
    for (const auto& c : j.at("cells")) {
      BenchCell b;
      b.target = c.at("target").get<std::string>();
      b.engine = c.at("engine").get<std::string>();
      b.op = c.at("op").get<std::string>();
      b.bytes = c.at("bytes").get<uint64_t>();
      b.seconds = c.at("seconds").get<std::vector<double>>();
      b.cpu_seconds = c.value("cpu_seconds", std::vector<double>{});
      b.thread_cpu_seconds = c.value("thread_cpu_seconds", std::vector<double>{});
      b.path = c.value("path", "");
      b.path_detail = c.value("path_detail", "");
      b.block_size = c.value("block_size", r.config.value("block_size", uint64_t{0}));
      b.iops = c.value("iops", false);
      b.iodepth = c.value("iodepth", r.config.value("iodepth", 1u));
      b.jobs = c.value("jobs", 1u);
      b.buffer_runs = c.value("buffer_runs", size_t{0});
      for (const auto& l : c.value("clat_us", json::array()))
        b.clat_us.push_back({l.at("p50").get<double>(), l.at("p99").get<double>(), l.at("p99.9").get<double>(),
                             l.at("max").get<double>()});
      if (b.seconds.empty()) throw bad(fmt::format("cell {} {} {} has no repetitions", b.target, b.engine, b.op));
      // A time that is not positive would make a throughput and a verdict out of nothing.
      for (double s : b.seconds)
        if (!(s > 0) || !std::isfinite(s))
          throw bad(fmt::format("cell {} {} {} has a repetition of {} s", b.target, b.engine, b.op, s));
      if (b.bytes == 0) throw bad(fmt::format("cell {} {} {} moved 0 bytes", b.target, b.engine, b.op));
      r.cells.push_back(std::move(b));
    }
    if (r.cells.empty()) throw bad("it has no cells");
  } catch (const json::exception& e) {
    throw bad(e.what());
  }
  return r;
}

int Comparison::exit_code() const {
  return std::any_of(cells.begin(), cells.end(), [](const CellComparison& c) { return c.regression(); }) ? 1 : 0;
}

Verdict judge(const std::vector<double>& bs, const std::vector<double>& os, Better better, double threshold_pct,
              double alpha) {
  Verdict v;
  v.better = better;
  v.base = summarize(bs);
  v.other = summarize(os);
  v.diff_pct = v.base.median > 0 ? (v.other.median - v.base.median) / v.base.median * 100 : 0;
  v.test = mann_whitney_u(bs, os);
  // A test that cannot reach alpha is reported as such, never as "no change".
  v.testable = min_two_sided_p(bs.size(), os.size()) < alpha;
  v.significant = v.testable && v.test.p < alpha;
  v.regression = v.significant && v.worse_pct() > threshold_pct;
  // The noise of both sides, relative to the baseline's level.
  const double sd = std::sqrt((v.base.stddev * v.base.stddev + v.other.stddev * v.other.stddev) / 2);
  const double sigmas = detectable_shift_sigmas(bs.size(), os.size(), alpha);
  v.detectable_pct = std::isinf(sigmas) ? sigmas : v.base.median > 0 ? sigmas * sd / v.base.median * 100 : 0;
  return v;
}

namespace {
std::vector<double> p99s(const BenchCell& c) {
  std::vector<double> v;
  for (const auto& l : c.clat_us) v.push_back(l.p99);
  return v;
}
}  // namespace

Comparison compare_runs(const std::vector<BenchRun>& runs, double threshold_pct, double alpha,
                        double latency_threshold_pct) {
  Comparison c;
  c.threshold_pct = threshold_pct;
  c.alpha = alpha;
  c.latency_threshold_pct = latency_threshold_pct;
  std::map<std::string, int> seen;
  for (const auto& r : runs) {
    std::string l = r.label.empty() ? "unlabelled" : r.label;
    if (int n = ++seen[l]; n > 1) l += fmt::format("#{}", n);
    c.labels.push_back(l);
  }
  if (runs.size() < 2) return c;
  const BenchRun& base = runs[0];
  c.sample = base.sample;
  auto differs = [&](size_t i, const char* key, bool only_if_both) {
    const json a = base.config.value(key, json()), b = runs[i].config.value(key, json());
    if (only_if_both && (a.is_null() || b.is_null())) return std::string();
    return a == b ? std::string()
                  : fmt::format("{} differs: {} has {}, {} has {}", key, c.labels[0], a.dump(), c.labels[i], b.dump());
  };
  for (size_t i = 1; i < runs.size(); ++i) {
    if (runs[i].sample != base.sample)
      c.incomparable.push_back(fmt::format("{} holds {}s, {} holds {}s", c.labels[0], base.sample, c.labels[i],
                                           runs[i].sample));
    // What a cell measures: different values mean different experiments.
    for (const char* key : {"block_size", "file_size", "iodepth", "fixed_buffers", "fixed_files"})
      if (auto d = differs(i, key, false); !d.empty()) c.incomparable.push_back(d);
    // Runs from before a key existed have no value for it: not a difference.
    for (const char* key : {"random_bytes", "submit_batch"})
      if (auto d = differs(i, key, true); !d.empty()) c.incomparable.push_back(d);
    // Worth knowing, but the comparison stands (ab --kernel host compares a host with a VM on purpose).
    for (const char* key : {"machine", "repetitions"})
      if (auto d = differs(i, key, false); !d.empty()) c.notes.push_back(d);
    for (const auto& cell : runs[i].cells) {
      const BenchCell* b = base.find(cell.target, cell.engine, cell.op);
      if (!b) continue;
      CellComparison x{cell.target, cell.engine, cell.op, c.labels[i]};
      x.rate = judge(b->rate(), cell.rate(), Better::Higher, threshold_pct, alpha);
      // Latency has its own verdict: a patch can keep the throughput and
      // still make the slowest completions slower.
      x.has_p99 = !b->clat_us.empty() && !cell.clat_us.empty();
      if (x.has_p99) x.p99 = judge(p99s(*b), p99s(cell), Better::Lower, latency_threshold_pct, alpha);
      if (b->path != cell.path && !b->path.empty() && !cell.path.empty())
        c.notes.push_back(fmt::format("{} {} {}: the path differs: {} {}, {} {}", cell.target, cell.engine, cell.op,
                                      c.labels[0], b->path, c.labels[i], cell.path));
      c.cells.push_back(std::move(x));
    }
  }
  return c;
}

namespace {
// The verdict of `measure` in a cell, or nullptr when the cell has none.
const Verdict* measure_of(const CellComparison& x, Better measure) {
  if (measure == Better::Higher) return &x.rate;
  return x.has_p99 ? &x.p99 : nullptr;
}
}  // namespace

double false_gate_threshold(const Comparison& c, Better measure) {
  double t = 0;
  for (const auto& x : c.cells)
    if (const Verdict* v = measure_of(x, measure); v && v->significant && v->worse_pct() > 0)
      t = std::max(t, v->worse_pct());
  return t;
}

double suggested_threshold(const Comparison& c, Better measure) {
  double t = 0;
  for (const auto& x : c.cells) {
    const Verdict* v = measure_of(x, measure);
    if (!v) continue;
    t = std::max(t, std::abs(v->diff_pct));
    if (!std::isinf(v->detectable_pct)) t = std::max(t, v->detectable_pct);
  }
  return std::ceil(t);
}

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

std::string render_svg(const std::vector<BenchRun>& runs, const Comparison& c) {
  // Grouped bars: one panel per engine and workload, each on its own scale
  // (MiB/s and IOPS do not share an axis), one group per target, one bar per
  // run (median), a whisker from min to max, the Diff with its mark below.
  const auto targets = all_targets(runs);
  const char* colors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948"};
  std::vector<std::pair<std::string, std::string>> panels;  // engine, op
  for (const auto& e : all_engines(runs))
    for (const auto& op : all_ops(runs, e)) panels.emplace_back(e, op);
  const int bar = 22, gap = 14, panel_h = 200, left = 30, legend_h = 24 + 18 * static_cast<int>(runs.size());
  // Wide enough for the longest target name under its bars.
  const int group_w = std::max(static_cast<int>(runs.size()) * bar + gap, 84);
  const int panel_w = static_cast<int>(targets.size()) * group_w + gap;
  const int per_row = std::max(1, 1200 / (panel_w + 20));
  const int nrows = (static_cast<int>(panels.size()) + per_row - 1) / per_row;
  const int row_h = panel_h + 60 + 11 * static_cast<int>(runs.size());
  const int width = left + std::min<int>(per_row, static_cast<int>(panels.size())) * (panel_w + 20) + 20;
  const int height = 30 + nrows * row_h + legend_h;
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" "
      "font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      width, height);
  for (size_t p = 0; p < panels.size(); ++p) {
    const auto& [e, op] = panels[p];
    const int x = left + static_cast<int>(p % per_row) * (panel_w + 20);
    const int y0 = 30 + static_cast<int>(p / per_row) * row_h, y1 = y0 + panel_h;
    double top = 0;
    std::string unit = "MiB/s";
    for (const auto& r : runs)
      for (const auto& t : targets)
        if (const BenchCell* cell = r.find(t, e, op)) {
          top = std::max(top, summarize(cell->rate()).max);
          unit = cell->rate_unit();
        }
    if (top <= 0) top = 1;
    auto y_of = [&](double v) { return y1 - v / top * panel_h; };
    for (int k = 0; k <= 4; ++k)
      s += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>\n", x, y_of(top * k / 4),
                       x + panel_w, y_of(top * k / 4));
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-weight=\"bold\">{} {} ({}, top {:.0f})</text>\n",
                     x + panel_w / 2, y0 - 10, op_title(op), e, unit, top);
    int gx = x + gap / 2;
    for (const auto& t : targets) {
      for (size_t i = 0; i < runs.size(); ++i) {
        const BenchCell* cell = runs[i].find(t, e, op);
        if (!cell) continue;
        Summary m = summarize(cell->rate());
        const int bx = gx + (group_w - gap - static_cast<int>(runs.size()) * bar) / 2 + static_cast<int>(i) * bar;
        s += fmt::format("<rect x=\"{}\" y=\"{:.1f}\" width=\"{}\" height=\"{:.1f}\" fill=\"{}\"><title>{} {} {} "
                         "{}: {}</title></rect>\n",
                         bx, y_of(m.median), bar - 2, y1 - y_of(m.median), colors[i % 6], c.labels[i], t, e, op,
                         rate(m.median, unit));
        s += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"black\"/>\n",
                         bx + (bar - 2) / 2, y_of(m.min), y_of(m.max));
      }
      for (size_t i = 1; i < runs.size(); ++i)
        if (const CellComparison* cc = find_cmp(c, t, e, op, c.labels[i]))
          s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"9\">{}</text>\n",
                           gx + group_w / 2 - gap / 2, y1 + 28 + 11 * static_cast<int>(i - 1), diff_cell(cc->rate));
      s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", gx + group_w / 2 - gap / 2,
                       y1 + 15, title(t));
      gx += group_w;
    }
  }
  int ly = 30 + nrows * row_h;
  for (size_t i = 0; i < runs.size(); ++i, ly += 18) {
    s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/>\n", left, ly, colors[i % 6]);
    s += fmt::format("<text x=\"{}\" y=\"{}\">{} (kernel {})</text>\n", left + 18, ly + 10, c.labels[i],
                     runs[i].kernel);
  }
  s += "</svg>\n";
  return s;
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
