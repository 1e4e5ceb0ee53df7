#include "lib/bench/ab.hpp"

#include <fmt/format.h>

#include "lib/sys/sys.hpp"

namespace dt {

namespace {
constexpr double kMiB = 1024.0 * 1024.0, kGiB = kMiB * 1024.0;

std::string cell_name(const BenchCell& c) { return fmt::format("{} {} {}", c.target, c.engine, c.op); }
}  // namespace

std::vector<unsigned> abba_order(unsigned rounds) {
  std::vector<unsigned> order;
  for (unsigned pair = 0; pair < rounds; ++pair) {
    const unsigned first = pair % 2;  // A B, then B A, then A B ...
    order.push_back(first);
    order.push_back(1 - first);
  }
  return order;
}

BenchRun aggregate_rounds(const std::vector<BenchRun>& rounds, const std::string& label) {
  if (rounds.empty()) throw SetupError("no rounds to aggregate for " + label);
  BenchRun agg;
  const BenchRun& first = rounds.front();
  agg.label = label;
  agg.kernel = first.kernel;
  agg.hostname = first.hostname;
  agg.run_id = first.run_id;
  agg.started = first.started;
  agg.config = first.config;
  agg.config["rounds"] = rounds.size();
  agg.filesystem = first.filesystem;
  agg.layouts = first.layouts;
  agg.sample = "round";
  for (const BenchCell& proto : first.cells) {
    // A cell of the aggregate holds one sample per round: the round's median
    // rate, stored as the time one repetition of `bytes` would take at that
    // rate, so every writer reads it like any other cell.
    BenchCell c = proto;
    c.seconds.clear();
    c.cpu_seconds.clear();
    c.thread_cpu_seconds.clear();
    c.clat_us.clear();
    for (const BenchRun& r : rounds) {
      const BenchCell* x = r.find(proto.target, proto.engine, proto.op);
      if (!x)
        throw SetupError(fmt::format("round {} of {} has no cell {}; every round must run the same bench", r.run_id,
                                     label, cell_name(proto)));
      if (x->bytes != proto.bytes || x->block_size != proto.block_size)
        throw SetupError(fmt::format("round {} of {} measured {} with other sizes than its first round", r.run_id,
                                     label, cell_name(proto)));
      const double med = summarize(x->rate()).median;
      const double unit = c.iops ? static_cast<double>(c.block_size) : kMiB;
      c.seconds.push_back(med > 0 ? static_cast<double>(c.bytes) / unit / med : 0);
      c.cpu_seconds.push_back(summarize(x->cpu_s_per_gib()).median * static_cast<double>(c.bytes) / kGiB);
      if (!x->clat_us.empty()) {
        std::vector<double> p50, p99, p999, mx;
        for (const auto& l : x->clat_us) p50.push_back(l.p50), p99.push_back(l.p99), p999.push_back(l.p999), mx.push_back(l.max);
        c.clat_us.push_back({summarize(p50).median, summarize(p99).median, summarize(p999).median, summarize(mx).median});
      }
      if (x->path != c.path) c.path = "varies";
    }
    agg.cells.push_back(std::move(c));
  }
  return agg;
}

AbAnalysis analyse_ab(const std::vector<BenchRun>& a_rounds, const std::vector<BenchRun>& b_rounds,
                      const std::string& label_a, const std::string& label_b, double threshold_pct, double alpha,
                      bool calibration, double latency_threshold_pct) {
  AbAnalysis r;
  r.sides = {aggregate_rounds(a_rounds, label_a), aggregate_rounds(b_rounds, label_b)};
  r.comparison = compare_runs(r.sides, threshold_pct, alpha, latency_threshold_pct);
  r.comparison.calibration = calibration;
  // The spread inside each boot, beside the verdict that looks across boots.
  auto within_cv = [](const std::vector<BenchRun>& rounds, const CellComparison& x) {
    std::vector<double> cvs;
    for (const auto& run : rounds)
      if (const BenchCell* c = run.find(x.target, x.engine, x.op)) cvs.push_back(summarize(c->rate()).cv * 100);
    return summarize(cvs).median;
  };
  for (auto& x : r.comparison.cells) {
    x.within_cv_base = within_cv(a_rounds, x);
    x.within_cv_other = within_cv(b_rounds, x);
  }
  return r;
}

}  // namespace dt
