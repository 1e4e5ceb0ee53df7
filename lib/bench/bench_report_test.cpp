#include "lib/bench/bench_report.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "lib/sys/sys.hpp"

namespace dt {
namespace {

constexpr uint64_t kGiB = 1ull << 30;

// A run whose cells move 1 GiB per repetition at the given MiB/s.
BenchRun run(const std::string& label, std::vector<double> read_mib, std::vector<double> write_mib) {
  BenchRun r;
  r.label = label;
  r.kernel = "6.18.0-" + label;
  r.config = {{"block_size", 1 << 20}, {"file_size", kGiB}, {"repetitions", read_mib.size()}, {"iodepth", 1}};
  for (const std::string target : {"nodatasum", "device"}) {
    for (const std::string op : {"read", "write"}) {
      BenchCell c{target, "psync", op, kGiB};
      for (double m : op == "read" ? read_mib : write_mib) {
        c.seconds.push_back(1024.0 / m);
        c.cpu_seconds.push_back(0.25);
      }
      c.path = target == "device" ? "block device" : "direct";
      r.cells.push_back(c);
    }
  }
  return r;
}

TEST(BenchReport, JsonRoundTrip) {
  BenchRun a = run("vanilla", {2000, 2100, 1900}, {1000, 1010, 990});
  a.run_id = "2026-11-21T10-00-00";
  BenchRun b = bench_from_json(bench_to_json(a), "a.json");
  EXPECT_EQ(b.label, "vanilla");
  EXPECT_EQ(b.run_id, a.run_id);
  EXPECT_EQ(b.kernel, a.kernel);
  EXPECT_EQ(b.config, a.config);
  ASSERT_EQ(b.cells.size(), a.cells.size());
  EXPECT_EQ(b.cells[1].op, "write");
  EXPECT_EQ(b.cells[1].seconds, a.cells[1].seconds);
  EXPECT_EQ(b.cells[3].path, "block device");
  EXPECT_NEAR(b.cells[0].mib_per_s()[1], 2100, 1e-9);
  EXPECT_NEAR(b.cells[0].cpu_s_per_gib()[0], 0.25, 1e-12);
}

TEST(BenchReport, RejectsNoCellsAndTimesThatAreNotPositive) {
  auto j = bench_to_json(run("a", {1}, {1}));
  j["cells"] = nlohmann::json::array();
  EXPECT_THROW(bench_from_json(j, "x.json"), SetupError);
  for (double bad : {-1.0, 0.0}) {
    j = bench_to_json(run("a", {1}, {1}));
    j["cells"][0]["seconds"][0] = bad;
    EXPECT_THROW(bench_from_json(j, "x.json"), SetupError) << bad;
  }
}

TEST(BenchReport, RejectsForeignJson) {
  EXPECT_THROW(bench_from_json(nlohmann::json{{"kind", "fio"}}, "x.json"), SetupError);
  auto j = bench_to_json(run("a", {1}, {1}));
  j["cells"][0].erase("seconds");
  EXPECT_THROW(bench_from_json(j, "x.json"), SetupError);
  j = bench_to_json(run("a", {1}, {1}));
  j["version"] = 2;
  try {
    bench_from_json(j, "x.json");
    FAIL();
  } catch (const SetupError& e) {
    EXPECT_NE(std::string(e.what()).find("x.json is not a diotorture bench result (version 2"), std::string::npos);
  }
}

TEST(BenchReport, SignificantRegressionBeyondThresholdExitsOne) {
  // Patched reads are 20 % slower in every repetition: U = 25 of 25, p = 2/252.
  BenchRun a = run("vanilla", {2000, 2010, 1990, 2005, 1995}, {1000, 1010, 990, 1005, 995});
  BenchRun b = run("patched", {1600, 1610, 1590, 1605, 1595}, {1000, 1011, 989, 1004, 996});
  Comparison c = compare_runs({a, b}, 5, 0.05);
  const CellComparison* read = nullptr;
  const CellComparison* write = nullptr;
  for (const auto& x : c.cells) {
    if (x.target == "nodatasum" && x.op == "read") read = &x;
    if (x.target == "nodatasum" && x.op == "write") write = &x;
  }
  ASSERT_TRUE(read && write);
  EXPECT_NEAR(read->rate.diff_pct, -20, 1e-9);
  EXPECT_TRUE(read->rate.significant);
  EXPECT_TRUE(read->rate.regression);
  EXPECT_NEAR(read->rate.test.p, 2.0 / 252, 1e-12);
  EXPECT_FALSE(write->rate.significant);
  EXPECT_FALSE(write->rate.regression);
  EXPECT_EQ(c.exit_code(), 1);
  // The same change within the threshold is significant but not a regression.
  EXPECT_EQ(compare_runs({a, b}, 25, 0.05).exit_code(), 0);
  // Faster is never a regression.
  EXPECT_EQ(compare_runs({b, a}, 5, 0.05).exit_code(), 0);
}

TEST(BenchReport, SingleRepetitionIsNeverSignificant) {
  Comparison c = compare_runs({run("a", {2000}, {1000}), run("b", {1000}, {500})}, 5, 0.05);
  ASSERT_FALSE(c.cells.empty());
  for (const auto& x : c.cells) {
    EXPECT_FALSE(x.rate.testable);
    EXPECT_FALSE(x.rate.significant);
    EXPECT_FALSE(x.rate.regression);
  }
  EXPECT_EQ(c.exit_code(), 0);
  EXPECT_NE(render_text({run("a", {2000}, {1000}), run("b", {1000}, {500})}, c).find("-50.0 % ?"), std::string::npos);
}

TEST(BenchReport, TextTableHasTheSeedShape) {
  std::vector<BenchRun> runs = {run("vanilla", {2000, 2010, 1990, 2005, 1995}, {1000, 1010, 990, 1005, 995}),
                                run("patched", {1600, 1610, 1590, 1605, 1595}, {1000, 1011, 989, 1004, 996})};
  Comparison c = compare_runs(runs, 5, 0.05);
  std::string t = render_text(runs, c);
  EXPECT_NE(t.find("engine psync\n                |    Nodatasum |       Device |\n"), std::string::npos) << t;
  EXPECT_NE(t.find("Read (vanilla)  | 2000.0 MiB/s | 2000.0 MiB/s |\n"
                   "Read (patched)  | 1600.0 MiB/s | 1600.0 MiB/s |\n"
                   "Diff            |    -20.0 % ! |    -20.0 % ! |\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("Write (vanilla) | 1000.0 MiB/s | 1000.0 MiB/s |\n"), std::string::npos) << t;
  EXPECT_NE(t.find("Mann-Whitney U"), std::string::npos);
  std::string md = render_markdown(runs, c);
  EXPECT_NE(md.find("| psync | Nodatasum | Device |\n|---|---:|---:|\n| Read (vanilla) | 2000.0 MiB/s |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| **Diff** | -20.0 % ! |"), std::string::npos) << md;
  auto j = nlohmann::json::parse(render_json(runs, c));
  EXPECT_EQ(j["exit_code"], 1);
  EXPECT_EQ(j["cells"][0]["baseline"], "vanilla");
  std::string svg = render_svg(runs, c);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("patched nodatasum psync read: 1600.0 MiB/s"), std::string::npos);
}

TEST(BenchReport, DuplicateLabelsAndConfigDifferencesAreNamed) {
  BenchRun a = run("x", {1, 2, 3}, {1, 2, 3}), b = run("x", {1, 2, 3}, {1, 2, 3});
  b.config["block_size"] = 4096;
  Comparison c = compare_runs({a, b}, 5, 0.05);
  EXPECT_EQ(c.labels, (std::vector<std::string>{"x", "x#2"}));
  ASSERT_EQ(c.incomparable.size(), 1u);
  EXPECT_EQ(c.incomparable[0], "block_size differs: x has 1048576, x#2 has 4096");
  EXPECT_NE(render_text({a, b}, c).find("NOT COMPARABLE: block_size differs"), std::string::npos);
  // A different machine or number of repetitions is a note: the comparison stands.
  BenchRun d = run("y", {1, 2, 3, 4}, {1, 2, 3, 4});
  d.config["machine"] = "qemu tcg";
  Comparison e = compare_runs({a, d}, 5, 0.05);
  EXPECT_TRUE(e.incomparable.empty());
  EXPECT_EQ(e.notes.size(), 2u);
  // io_uring's submission batch changes what is measured; a run from before
  // the setting existed has none, which is not a difference.
  BenchRun f = run("f", {1, 2, 3}, {1, 2, 3}), g = run("g", {1, 2, 3}, {1, 2, 3});
  f.config["submit_batch"] = 1;
  EXPECT_TRUE(compare_runs({f, g}, 5, 0.05).incomparable.empty());
  g.config["submit_batch"] = 0;
  Comparison h = compare_runs({f, g}, 5, 0.05);
  ASSERT_EQ(h.incomparable.size(), 1u);
  EXPECT_EQ(h.incomparable[0], "submit_batch differs: f has 1, g has 0");
}

TEST(BenchReport, IopsCellsAndLatencyRoundTrip) {
  BenchRun a = run("a", {1, 2}, {1, 2});
  BenchCell c{"nodatasum", "io_uring", "randread-4k-qd32", 64 << 20};
  c.block_size = 4096;
  c.iops = true;
  c.iodepth = 32;
  c.seconds = {2.0, 4.0};
  c.cpu_seconds = {0.1, 0.1};
  c.clat_us = {{50, 120, 300, 900}, {60, 130, 310, 1000}};
  c.buffer_runs = 3;
  a.cells.push_back(c);
  BenchRun b = bench_from_json(bench_to_json(a), "a.json");
  const BenchCell* r = b.find("nodatasum", "io_uring", "randread-4k-qd32");
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->iops);
  EXPECT_EQ(r->buffer_runs, 3u);
  EXPECT_EQ(r->iodepth, 32u);
  EXPECT_EQ(r->rate(), (std::vector<double>{8192, 4096}));  // 16384 I/Os in 2 s and in 4 s
  ASSERT_EQ(r->clat_us.size(), 2u);
  EXPECT_DOUBLE_EQ(r->clat_us[1].p999, 310);
  const std::string table = render_run(b);
  EXPECT_NE(table.find("randread-4k-qd32 median"), std::string::npos) << table;
  EXPECT_NE(table.find("6144 IOPS"), std::string::npos) << table;
  EXPECT_NE(table.find("55 us/125 us/305 us/950 us"), std::string::npos) << table;
}

TEST(BenchReport, DetectableChangeIsReportedAndInfiniteWhenUntestable) {
  // 10 against 10 with about 1 % noise: a change of a few percent is detectable.
  std::vector<double> r10, w10;
  for (int i = 0; i < 10; ++i) r10.push_back(1000 + (i % 5) * 5), w10.push_back(1000 + (i % 5) * 5);
  Comparison c = compare_runs({run("a", r10, w10), run("b", r10, w10)}, 5, 0.05);
  ASSERT_FALSE(c.cells.empty());
  EXPECT_GT(c.cells[0].rate.detectable_pct, 0.3);
  EXPECT_LT(c.cells[0].rate.detectable_pct, 2.0);
  EXPECT_FALSE(c.cells[0].rate.significant);
  // 3 against 3 can never be significant at 0.05: nothing is detectable.
  Comparison d = compare_runs({run("a", {1, 2, 3}, {1, 2, 3}), run("b", {1, 2, 3}, {1, 2, 3})}, 5, 0.05);
  EXPECT_TRUE(std::isinf(d.cells[0].rate.detectable_pct));
  EXPECT_NE(render_text({run("a", {1, 2, 3}, {1, 2, 3}), run("b", {1, 2, 3}, {1, 2, 3})}, d).find("detectable"),
            std::string::npos);
}

// p99 latency has a verdict of its own, and for latency higher is worse.
TEST(BenchReport, P99RiseIsALatencyRegressionAndAFallIsNot) {
  // Throughput the same on both sides; p99 of every repetition 25 % higher in "slow".
  auto with_p99 = [](const std::string& label, double p99) {
    BenchRun r = run(label, {1000, 1001, 999, 1002, 998}, {500, 501, 499, 502, 498});
    for (auto& c : r.cells)
      for (double f : {1.0, 1.01, 0.99, 1.02, 0.98}) c.clat_us.push_back({50, p99 * f, p99 * 2, p99 * 3});
    return r;
  };
  const BenchRun fast = with_p99("fast", 200), slow = with_p99("slow", 250);
  Comparison c = compare_runs({fast, slow}, 5, 0.05, 10);
  ASSERT_FALSE(c.cells.empty());
  for (const auto& x : c.cells) {
    EXPECT_FALSE(x.rate.significant);
    ASSERT_TRUE(x.has_p99);
    EXPECT_NEAR(x.p99.diff_pct, 25, 1e-9);
    EXPECT_NEAR(x.p99.worse_pct(), 25, 1e-9);
    EXPECT_TRUE(x.p99.significant) << x.p99.test.p;
    EXPECT_TRUE(x.p99.regression);
    EXPECT_TRUE(x.regression());
  }
  EXPECT_EQ(c.exit_code(), 1);
  const std::string text = render_text({fast, slow}, c);
  EXPECT_NE(text.find("200 us / 250 us +25.0 % !"), std::string::npos) << text;
  EXPECT_NE(text.find("for latency higher is worse"), std::string::npos) << text;
  const auto j = nlohmann::json::parse(render_json({fast, slow}, c));
  EXPECT_EQ(j["cells"][0]["p99"]["regression"], true);
  EXPECT_EQ(j["cells"][0]["p99"]["worse_when"], "higher");
  EXPECT_EQ(j["cells"][0]["regression"], false);  // the throughput's verdict
  EXPECT_EQ(j["latency_threshold_pct"], 10);
  // The same rise within --latency-threshold: significant, not a regression.
  EXPECT_EQ(compare_runs({fast, slow}, 5, 0.05, 30).exit_code(), 0);
  // Lower latency is an improvement: significant, never a regression.
  Comparison better = compare_runs({slow, fast}, 5, 0.05, 10);
  EXPECT_TRUE(better.cells[0].p99.significant);
  EXPECT_FALSE(better.cells[0].p99.regression);
  EXPECT_EQ(better.exit_code(), 0);
  EXPECT_NE(render_text({slow, fast}, better).find("250 us / 200 us -20.0 % *"), std::string::npos);
  // Runs without latency (older files) have no p99 verdict and no p99 row.
  Comparison none = compare_runs({run("a", {1, 2, 3}, {1, 2, 3}), fast}, 5, 0.05);
  EXPECT_FALSE(none.cells[0].has_p99);
  EXPECT_EQ(render_text({run("a", {1, 2, 3}, {1, 2, 3}), fast}, none).find("p99 clat |"), std::string::npos);
}

}  // namespace
}  // namespace dt
