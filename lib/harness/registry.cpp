#include "lib/harness/registry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "lib/sys/spellcheck.hpp"
#include "lib/sys/sys.hpp"

namespace dt {
namespace {
std::vector<CaseInfo>& mutable_registry() {
  static std::vector<CaseInfo> cases;
  return cases;
}
bool g_sorted = false;

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
