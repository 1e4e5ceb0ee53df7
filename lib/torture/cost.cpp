#include "lib/torture/cost.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace dt {

uint64_t CostClock::steady_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

CostClock::CostClock(std::function<uint64_t()> now_ns) : now_(std::move(now_ns)), t0_(now_()), since_(t0_) {}

Cost CostClock::switch_to(Cost k) {
  const uint64_t now = now_();
  ns_[static_cast<size_t>(current_)] += now - since_;
  since_ = now;
  const Cost prev = current_;
  current_ = k;
  return prev;
}

std::array<double, static_cast<size_t>(Cost::kCount)> CostClock::seconds() {
  switch_to(current_);
  std::array<double, static_cast<size_t>(Cost::kCount)> out{};
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<double>(ns_[i]) / 1e9;
  return out;
}

double CostClock::wall() const { return static_cast<double>(now_() - t0_) / 1e9; }

nlohmann::json cost_to_json(const std::array<double, static_cast<size_t>(Cost::kCount)>& s, double wall) {
  nlohmann::json kinds = nlohmann::json::object();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] <= 0) continue;
    kinds[kCostNames[i]] = {{"seconds", s[i]}, {"percent", wall > 0 ? 100.0 * s[i] / wall : 0.0}};
  }
  return {{"wall_s", wall}, {"kinds", kinds}};
}

std::string format_time_breakdown(const nlohmann::json& b) {
  std::vector<std::pair<double, std::string>> rows;
  if (b.contains("kinds") && b["kinds"].is_object())
    for (auto it = b["kinds"].begin(); it != b["kinds"].end(); ++it)
      rows.emplace_back(it->value("seconds", 0.0), it.key());
  std::sort(rows.begin(), rows.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
  const double wall = b.value("wall_s", 0.0);
  std::string out = fmt::format("time breakdown ({:.2f}s of engine wall time{}):\n", wall,
                                b.contains("readback_bytes")
                                    ? fmt::format("; {:.1f} MiB read back", b["readback_bytes"].get<double>() / 1048576)
                                    : "");
  for (const auto& [secs, name] : rows)
    out += fmt::format("  {:<18} {:>9.3f}s {:>6.1f}%\n", name, secs, wall > 0 ? 100 * secs / wall : 0.0);
  return out;
}

}  // namespace dt
