#include "lib/bench/bench_table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

namespace dt::bench_table {

namespace {
// The distinct values of `key` over the cells of `runs` that `keep` accepts, in first-seen order.
std::vector<std::string> distinct(const std::vector<BenchRun>& runs, const std::function<bool(const BenchCell&)>& keep,
                                  const std::function<const std::string&(const BenchCell&)>& key) {
  std::vector<std::string> v;
  for (const auto& r : runs)
    for (const auto& c : r.cells)
      if (keep(c) && std::find(v.begin(), v.end(), key(c)) == v.end()) v.push_back(key(c));
  return v;
}
bool any(const BenchCell&) { return true; }
}  // namespace

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

std::string diff_cell(const Verdict& v) {
  const char* mark = v.regression ? " !" : v.significant ? " *" : !v.testable ? " ?" : "";
  return fmt::format("{:+.1f} %{}", v.diff_pct, mark);
}

const CellComparison* find_cmp(const Comparison& c, const std::string& target, const std::string& engine,
                               const std::string& op, const std::string& label) {
  for (const auto& x : c.cells)
    if (x.target == target && x.engine == engine && x.op == op && x.label == label) return &x;
  return nullptr;
}

std::vector<std::string> all_targets(const std::vector<BenchRun>& runs) {
  return distinct(runs, any, [](const BenchCell& c) -> const std::string& { return c.target; });
}
std::vector<std::string> all_engines(const std::vector<BenchRun>& runs) {
  return distinct(runs, any, [](const BenchCell& c) -> const std::string& { return c.engine; });
}
std::vector<std::string> all_ops(const std::vector<BenchRun>& runs, const std::string& engine) {
  return distinct(runs, [&](const BenchCell& c) { return c.engine == engine; },
                  [](const BenchCell& c) -> const std::string& { return c.op; });
}

}  // namespace dt::bench_table
