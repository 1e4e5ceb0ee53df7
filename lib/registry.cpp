#include "lib/registry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "lib/sys.hpp"

namespace dt {
namespace {
std::vector<CaseInfo>& mutable_registry() {
  static std::vector<CaseInfo> cases;
  return cases;
}
bool g_sorted = false;

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

std::string describe_requirements(unsigned mask) {
  std::string s = "root, O_DIRECT";
  if (mask & kNeedsIoUring) s += ", io_uring";
  if (mask & kNeedsUserfaultfd) s += ", userfaultfd";
  return s;
}

CaseRegistrar::CaseRegistrar(CaseInfo info) {
  auto& reg = mutable_registry();
  for (const auto& c : reg) {
    if (c.id == info.id) {
      std::fprintf(stderr, "diotorture: duplicate case id '%s'\n", info.id.c_str());
      std::abort();
    }
  }
  reg.push_back(std::move(info));
  g_sorted = false;
}

const std::vector<CaseInfo>& all_cases() {
  auto& reg = mutable_registry();
  if (!g_sorted) {
    std::sort(reg.begin(), reg.end(), [](const CaseInfo& a, const CaseInfo& b) { return a.id < b.id; });
    g_sorted = true;
  }
  return reg;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    // A prefix or substring is a strong hint ("mmap" -> "dio-mmap-same-range").
    if (word.size() >= 3 && c.find(word) != std::string::npos) d = std::min<size_t>(d, 1);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  if (best_d <= std::max<size_t>(2, word.size() / 3)) return best;
  return {};
}

std::vector<const CaseInfo*> select_cases(const std::vector<CaseInfo>& all, const SelectionRequest& req) {
  std::vector<std::string> ids, groups;
  std::set<std::string> group_set;
  for (const auto& c : all) {
    ids.push_back(c.id);
    group_set.insert(c.groups.begin(), c.groups.end());
  }
  groups.assign(group_set.begin(), group_set.end());
  auto unknown = [](const char* kind, const std::string& name, const std::vector<std::string>& known,
                    const char* list_cmd) -> SetupError {
    std::string hint = did_you_mean(name, known);
    return SetupError(fmt::format("unknown {} '{}'{}; '{}' lists them", kind, name,
                                  hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint), list_cmd));
  };
  for (const auto& id : req.ids)
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) throw unknown("case", id, ids, "diotorture list");
  for (const auto& g : req.groups)
    if (!group_set.count(g)) throw unknown("group", g, groups, "diotorture list");
  for (const auto& g : req.exclude_groups)
    if (!group_set.count(g)) throw unknown("group", g, groups, "diotorture list");

  std::vector<std::string> want_groups = req.groups;
  if (req.ids.empty() && want_groups.empty()) want_groups.push_back("quick");
  std::vector<const CaseInfo*> out;
  for (const auto& c : all) {
    bool wanted = std::find(req.ids.begin(), req.ids.end(), c.id) != req.ids.end();
    for (const auto& g : want_groups)
      if (std::find(c.groups.begin(), c.groups.end(), g) != c.groups.end()) wanted = true;
    for (const auto& g : req.exclude_groups)
      if (std::find(c.groups.begin(), c.groups.end(), g) != c.groups.end()) wanted = false;
    if (std::find(req.expunged.begin(), req.expunged.end(), c.id) != req.expunged.end()) wanted = false;
    if (wanted) out.push_back(&c);
  }
  return out;
}

std::vector<std::string> parse_expunge(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& raw : split(text, '\n')) {
    std::string line = raw.substr(0, raw.find('#'));
    line = trim(line);
    // fstests lines may carry a trailing reason after whitespace.
    auto ws = line.find_first_of(" \t");
    if (ws != std::string::npos) line.resize(ws);
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

}  // namespace dt
