// diotorture ab --kernel A --kernel B [--modules DIR]... [--label NAME]... [--rounds N]
//               [--threshold PCT] [--latency-threshold PCT] [--alpha P] [--format text|markdown|json] [--chart FILE]
//               [vm options] [--results DIR] -- bench ARGS...
// Checks the options, runs the interleaved rounds (lib/bench/ab_rounds) and
// prints the A-against-B table judged across rounds (lib/bench/ab).
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <iostream>
#include <memory>

#include "cmd/command.hpp"
#include "lib/bench/ab.hpp"
#include "lib/bench/ab_rounds.hpp"
#include "lib/run/results_dir.hpp"
#include "lib/sys/sys.hpp"
#include "lib/vm/initramfs.hpp"

namespace dt {
namespace {
namespace fs = std::filesystem;

struct AbCli {
  std::vector<std::string> kernels, modules, labels, args;
  std::string format = "text", chart, results = "results";
  double threshold = 5, latency_threshold = 10, alpha = 0.05;
  unsigned rounds = 5, disks = 1;
  uint64_t disk_size = 4ull << 30;
  GuestMachine machine;
  bool no_progress = false;
};

int ab(const AbCli& c) {
  if (c.kernels.size() != 2)
    throw SetupError(fmt::format("ab needs --kernel twice (A, then B; 'host' for this machine's kernel), got {}{}",
                                 c.kernels.size(), c.kernels.size() > 2 ? " (put -- before bench)" : ""));
  if (c.args.empty() || c.args[0] != "bench")
    throw SetupError("ab runs bench in every round: add '-- bench' and its options, e.g. -- bench --quick");
  for (const auto& a : c.args)
    if (a == "--label" || a == "--results" || a.rfind("--label=", 0) == 0 || a.rfind("--results=", 0) == 0)
      throw SetupError(fmt::format("give {} to ab, not to the bench after --: ab names and files every round itself",
                                   a.substr(0, a.find('='))));
  if (c.labels.size() > 2) throw SetupError("--label is given once per kernel: at most twice");

  AbOptions o;
  o.rounds = c.rounds;  // the numbers were checked by their validators
  size_t vm_kernels = 0;
  for (const auto& k : c.kernels) vm_kernels += k != "host";
  if (c.modules.size() > 1 && c.modules.size() != vm_kernels)
    throw SetupError(fmt::format("--modules: give one directory for every VM kernel, in --kernel order, or one for "
                                 "all ({} VM kernels, {} --modules)",
                                 vm_kernels, c.modules.size()));
  size_t vm_index = 0;
  for (unsigned s = 0; s < 2; ++s) {
    AbSide& side = o.sides[s];
    side.kernel = c.kernels[s];
    side.label = s < c.labels.size() ? c.labels[s] : (s == 0 ? "A" : "B");
    if (side.host()) {
      side.release = kernel_release();
      continue;
    }
    if (!fs::is_regular_file(side.kernel))
      throw SetupError(fmt::format("--kernel {} is not a file; give a bzImage/vmlinuz or 'host'", side.kernel));
    side.release = bzimage_release(side.kernel);
    if (side.release.empty()) throw SetupError(fmt::format("--kernel {} is not a bzImage (no HdrS header)", side.kernel));
    if (!c.modules.empty()) side.modules = c.modules.size() == 1 ? c.modules[0] : c.modules[vm_index];
    ++vm_index;
  }
  if (o.sides[0].label == o.sides[1].label) throw SetupError("the two --label values are the same; name A and B apart");
  // The same kernel twice is the calibration run: it measures the machine's noise.
  std::error_code ec;
  const bool calibration =
      c.kernels[0] == c.kernels[1] ||
      (!o.sides[0].host() && !o.sides[1].host() && fs::equivalent(c.kernels[0], c.kernels[1], ec) &&
       o.sides[0].modules == o.sides[1].modules);
  o.bench_args.assign(c.args.begin() + 1, c.args.end());
  o.vm.machine = c.machine;
  o.vm.disks = c.disks;
  o.vm.disk_size = c.disk_size;
  if (::geteuid() != 0) throw SetupError("diotorture ab needs root (it boots kernels and mounts filesystems); rerun it as root");

  fs::create_directories(c.results);
  const std::string run_id = make_run_id(c.results);
  o.dir = fs::path(c.results) / run_id;
  fs::create_directories(o.dir);
  point_latest(c.results, run_id);
  o.progress = !c.no_progress && ::isatty(STDOUT_FILENO);

  std::string header;
  for (unsigned s = 0; s < 2; ++s) {
    const AbSide& side = o.sides[s];
    header += fmt::format("{}         -- {} = {}\n", s == 0 ? "A" : "B", side.label,
                          side.host() ? "this machine's kernel " + side.release + " (on the host)"
                                      : side.release + " (" + side.kernel + ") under qemu");
  }
  header += fmt::format("ROUNDS    -- {} boots per kernel, order {}\n", o.rounds, [&] {
    std::string order;
    for (unsigned s : abba_order(o.rounds)) order += s == 0 ? 'A' : 'B';
    return order;
  }());
  header += fmt::format("BENCH     -- diotorture bench {}\nRESULTS   -- {}\n", fmt::join(o.bench_args, " "), o.dir.string());
  if (o.sides[0].host() != o.sides[1].host())
    header += "note: one side runs on the host, the other under qemu: the machine differs, so the difference "
              "includes virtualisation, not only the kernel\n";
  if (calibration)
    header += "note: A/A calibration -- the same kernel on both sides; every significant change is this "
              "machine's noise\n";
  if (o.rounds < 4)
    header += fmt::format("note: {} rounds per kernel can never be significant at p < {} (4 or more can)\n", o.rounds,
                          c.alpha);
  std::cout << header << "\n" << std::flush;

  AbRoundsResult rounds = run_ab_rounds(o, std::cout);
  nlohmann::json record = {{"kind", "diotorture-ab"},
                           {"version", 1},
                           {"run_id", run_id},
                           {"sides", nlohmann::json::array()},
                           {"rounds", o.rounds},
                           {"order", rounds.round_dirs},
                           {"accelerator", rounds.accel},
                           {"bench_args", o.bench_args},
                           {"calibration", calibration}};
  for (const auto& side : o.sides)
    record["sides"].push_back({{"label", side.label}, {"kernel", side.kernel}, {"release", side.release},
                               {"modules", side.modules}});
  if (rounds.failed_rc) {
    record["failure"] = rounds.failure;
    write_file_atomic(o.dir / "ab.json", record.dump(2) + "\n");
    std::cout << "ab: stopped: " << rounds.failure << "\n";
    return rounds.failed_rc == 2 ? 2 : 3;
  }
  AbAnalysis a = analyse_ab(rounds.runs[0], rounds.runs[1], o.sides[0].label, o.sides[1].label, c.threshold, c.alpha,
                            calibration, c.latency_threshold);
  const std::string chart = c.chart.empty() ? (o.dir / "chart.svg").string() : c.chart;
  write_file_atomic(chart, render_svg(a.sides, a.comparison));
  for (unsigned s = 0; s < 2; ++s)
    write_file_atomic(o.dir / fmt::format("{}.json", s == 0 ? "A" : "B"), bench_to_json(a.sides[s]).dump(2) + "\n");
  record["comparison"] = nlohmann::json::parse(render_json(a.sides, a.comparison));
  write_file_atomic(o.dir / "ab.json", record.dump(2) + "\n");
  write_file_atomic(o.dir / "summary.md", header + "\n" + render_markdown(a.sides, a.comparison, "chart.svg"));
  if (c.format == "text") std::cout << render_text(a.sides, a.comparison);
  else if (c.format == "markdown") std::cout << render_markdown(a.sides, a.comparison, chart);
  else std::cout << render_json(a.sides, a.comparison);
  std::cout << fmt::format("\nRounds, ab.json, A.json/B.json (round medians; `diotorture compare` reads them), "
                           "summary.md and the chart in {}\n",
                           o.dir.string());
  return a.comparison.exit_code();
}

}  // namespace

Action setup_ab(CLI::App& sub) {
  auto o = std::make_shared<AbCli>();
  sub.add_option("--kernel", o->kernels, "Kernel A, then kernel B: a bzImage to boot under qemu, or 'host'")
;
  sub.add_option("--modules", o->modules,
                 "lib/modules/VERSION of the VM kernels: one for all, or one per VM kernel in --kernel order");
  sub.add_option("--label", o->labels, "Names of A and B in the table, e.g. --label vanilla --label patched");
  sub.add_option("--rounds", o->rounds, "Boots per kernel, in ABBA order")
      ->transform(Bounded("a number of boots per kernel", 1, 100))
      ->capture_default_str();
  sub.add_option("--threshold", o->threshold, "Percent slowdown that fails (exit 1) when significant across rounds")
      ->check(DecimalRange("a percentage", 0, 1000))
      ->capture_default_str();
  sub.add_option("--latency-threshold", o->latency_threshold,
                 "Percent rise of p99 completion latency that fails (exit 1) when significant across rounds")
      ->check(DecimalRange("a percentage", 0, 100000))
      ->capture_default_str();
  sub.add_option("--alpha", o->alpha, "Significance level of the Mann-Whitney U test")
      ->check(DecimalRange("a significance level", 1e-9, 0.5))
      ->capture_default_str();
  sub.add_option("--format", o->format, "text, markdown (for a CI job summary) or json")
      ->check(OneOf({"text", "markdown", "json"}))
      ->capture_default_str();
  sub.add_option("--chart", o->chart, "Where to write the SVG chart (default: chart.svg in the ab directory)");
  sub.add_option("--results", o->results, "Results root; the ab run gets a directory with one per round")
      ->capture_default_str();
  add_machine_options(sub, &o->machine, "Seconds before a guest is killed");
  sub.add_option("--disks", o->disks, "Blank scratch disks per boot")
      ->transform(Bounded("a disk count", 1, 20))
      ->capture_default_str();
  sub.add_option("--disk-size", o->disk_size, "Size of each scratch disk (sparse)")
      ->transform(Bounded("a disk size", 256ull << 20, 1ull << 42, true))
      ->capture_default_str();
  sub.add_flag("--no-progress", o->no_progress, "No live progress line, even on a terminal");
  sub.footer("After --: bench and its options, run in every round, e.g. -- bench --quick --workloads random");
  return [o] {
    o->args = passthrough_args();  // everything after --, even options ab has too (main.cpp)
    return ab(*o);
  };
}

}  // namespace dt
