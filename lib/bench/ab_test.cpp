#include "lib/bench/ab.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "lib/sys/sys.hpp"

namespace dt {
namespace {

// One round (one boot): a random 4 KiB cell whose 3 repetitions scatter
// around `iops` by +-`within` (relative), and a sequential read cell.
BenchRun round(const std::string& id, double iops, double within) {
  BenchRun r;
  r.run_id = id;
  r.kernel = "6.1.0-test";
  r.config = {{"block_size", 1 << 20}, {"file_size", 64 << 20}, {"repetitions", 3}, {"iodepth", 1}, {"machine", "qemu tcg"}};
  BenchCell c{"nodatasum", "io_uring", "randread-4k-qd32", 16 << 20};
  c.block_size = 4096;
  c.iops = true;
  for (double f : {1 - within, 1.0, 1 + within}) {
    c.seconds.push_back(4096.0 / (iops * f));
    c.cpu_seconds.push_back(0.01);
    c.clat_us.push_back({100, 200 * f, 300, 400});
  }
  r.cells.push_back(c);
  BenchCell s{"nodatasum", "io_uring", "read", 64 << 20};
  s.block_size = 1 << 20;
  s.seconds = {0.1, 0.1, 0.1};
  s.cpu_seconds = {0.01, 0.01, 0.01};
  r.cells.push_back(s);
  return r;
}

std::vector<BenchRun> rounds(SeededNormal& rng, size_t n, double iops, double between_cv) {
  std::vector<BenchRun> v;
  for (size_t i = 0; i < n; ++i) v.push_back(round(std::to_string(i), iops * (1 + between_cv * rng.normal()), 0.01));
  return v;
}

TEST(Ab, AbbaOrderAlternatesPairs) {
  EXPECT_EQ(abba_order(4), (std::vector<unsigned>{0, 1, 1, 0, 0, 1, 1, 0}));
  EXPECT_EQ(abba_order(1), (std::vector<unsigned>{0, 1}));
  // Every side gets `rounds` boots, and over each ABBA block both sides sit
  // at the same mean position, so a linear drift cancels.
  const auto o = abba_order(6);
  double pos[2] = {0, 0};
  for (size_t i = 0; i < 8; ++i) pos[o[i]] += static_cast<double>(i);
  EXPECT_EQ(pos[0], pos[1]);
}

TEST(Ab, AggregateHoldsOneSamplePerRound) {
  const BenchRun agg = aggregate_rounds({round("r1", 1000, 0.01), round("r2", 2000, 0.01), round("r3", 3000, 0.2)}, "A");
  EXPECT_EQ(agg.sample, "round");
  EXPECT_EQ(agg.config["rounds"], 3);
  const BenchCell* c = agg.find("nodatasum", "io_uring", "randread-4k-qd32");
  ASSERT_NE(c, nullptr);
  const auto r = c->rate();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_NEAR(r[0], 1000, 1e-6);  // each round's median repetition
  EXPECT_NEAR(r[2], 3000, 1e-6);
  ASSERT_EQ(c->clat_us.size(), 3u);
  EXPECT_NEAR(c->clat_us[0].p99, 200, 1e-9);
  // The aggregate survives its JSON form (ab.json keeps it).
  EXPECT_EQ(bench_from_json(bench_to_json(agg), "a").sample, "round");
}

TEST(Ab, RoundsThatMeasuredSomethingElseAreRefused) {
  BenchRun odd = round("r2", 1000, 0.01);
  odd.cells.pop_back();
  EXPECT_THROW(aggregate_rounds({round("r1", 1000, 0.01), odd}, "A"), SetupError);
}

TEST(Ab, FivePercentSlowerAcrossTenRoundsGatesWithSpreadReported) {
  SeededNormal rng(15);
  auto a = rounds(rng, 10, 10000, 0.02), b = rounds(rng, 10, 9500, 0.02);
  AbAnalysis r = analyse_ab(a, b, "vanilla", "patched", 3, 0.05, false);
  const CellComparison* x = nullptr;
  for (const auto& c : r.comparison.cells)
    if (c.op == "randread-4k-qd32") x = &c;
  ASSERT_NE(x, nullptr);
  EXPECT_TRUE(x->significant) << x->test.p;
  EXPECT_TRUE(x->regression);
  EXPECT_NEAR(x->diff_pct, -5, 2.5);
  EXPECT_EQ(r.comparison.exit_code(), 1);
  EXPECT_NEAR(x->within_cv_base, 1.0, 0.01);  // +-1 % around the median: CV 1 %
  EXPECT_GT(x->detectable_pct, 1.5);           // 2 % noise, 10 rounds: ~2.6 %
  EXPECT_LT(x->detectable_pct, 4.5);
  const std::string text = render_text(r.sides, r.comparison);
  EXPECT_NE(text.find("round medians"), std::string::npos) << text;
  EXPECT_NE(text.find("within-round CV"), std::string::npos) << text;
  EXPECT_NE(text.find("detectable"), std::string::npos) << text;
  EXPECT_NE(text.find(" !"), std::string::npos) << text;
}

TEST(Ab, CalibrationNamesTheThresholdThatWouldHaveGatedFalsely) {
  // The same kernel twice, but B's boots happened to be 4 % slower: with
  // --threshold 3 this A/A run gates -- the table must say that a threshold
  // below ~4 % would have failed a job for nothing.
  SeededNormal rng(3);
  auto a = rounds(rng, 8, 10000, 0.005), b = rounds(rng, 8, 9600, 0.005);
  AbAnalysis r = analyse_ab(a, b, "A", "B", 3, 0.05, true);
  EXPECT_EQ(r.comparison.exit_code(), 1);
  const double t = false_gate_threshold(r.comparison);
  EXPECT_NEAR(t, 4, 1);
  EXPECT_GE(suggested_threshold(r.comparison), t);
  const std::string text = render_text(r.sides, r.comparison);
  EXPECT_NE(text.find("A/A calibration"), std::string::npos);
  EXPECT_NE(text.find(fmt::format("below {:.1f} % would have gated this run falsely", t)), std::string::npos) << text;
  // Truly identical sides: nothing would have gated.
  SeededNormal rng2(4);
  AbAnalysis same = analyse_ab(rounds(rng2, 8, 10000, 0.0), rounds(rng2, 8, 10000, 0.0), "A", "B", 3, 0.05, true);
  EXPECT_EQ(false_gate_threshold(same.comparison), 0);
  EXPECT_NE(render_text(same.sides, same.comparison).find("no threshold would have gated"), std::string::npos);
}

}  // namespace
}  // namespace dt
