// The pieces the writers of bench_report.hpp share (the tables and the
// chart): titles, numbers as shown, and what a set of runs holds.
#pragma once

#include <string>
#include <vector>

#include "lib/bench/bench_compare.hpp"
#include "lib/bench/bench_result.hpp"

namespace dt::bench_table {

// "Nodatasum", "Read": a target's and a workload's name in a table.
std::string title(const std::string& target);
std::string op_title(const std::string& op);
// A median rate in its unit: "812.4 MiB/s", "25.3k IOPS".
std::string rate(double v, const std::string& unit);
// The Diff cell: the change of the median with its verdict's mark.
std::string diff_cell(const Verdict& v);
// The comparison of one cell with the run labelled `label`, or nullptr.
const CellComparison* find_cmp(const Comparison& c, const std::string& target, const std::string& engine,
                               const std::string& op, const std::string& label);
// Every target, engine, and workload of `engine`, over all runs, in first-seen order.
std::vector<std::string> all_targets(const std::vector<BenchRun>& runs);
std::vector<std::string> all_engines(const std::vector<BenchRun>& runs);
std::vector<std::string> all_ops(const std::vector<BenchRun>& runs, const std::string& engine);

}  // namespace dt::bench_table
