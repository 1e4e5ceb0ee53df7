// The writers of benchmark results: text and markdown tables in the shape of
// seed 002's table, JSON, an SVG chart (bench_chart.cpp), one run's table and
// a calibration's advice. The results are in bench_result.hpp, their
// comparison in bench_compare.hpp.
#pragma once

#include <string>
#include <vector>

#include "lib/bench/bench_compare.hpp"
#include "lib/bench/bench_result.hpp"

namespace dt {

// Seed-002-shaped tables, one per engine: rows "Read (label)", "Diff", ...,
// one column per target, MiB/s medians; Diff marked with the verdict.
std::string render_text(const std::vector<BenchRun>& runs, const Comparison& c);
// `chart`: where the SVG chart is published, relative to the page (embedded as an image), or empty.
std::string render_markdown(const std::vector<BenchRun>& runs, const Comparison& c, const std::string& chart = "");
std::string render_json(const std::vector<BenchRun>& runs, const Comparison& c);
std::string render_svg(const std::vector<BenchRun>& runs, const Comparison& c);

// The table `bench` prints for one run: per cell median, min-max, CV, CPU
// seconds per GiB and the path the kernel took.
std::string render_run(const BenchRun& run);
// What an A/A comparison says about the machine's noise.
std::string render_calibration(const Comparison& c);

}  // namespace dt
