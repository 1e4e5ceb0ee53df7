#include "lib/harness/registry.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

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

std::string describe_allowed(const ParamSpec& p) {
  auto range = [&](const char* what) {
    const std::string hi = p.max == UINT64_MAX ? "any" : format_size(p.max);
    std::string s = fmt::format("{} from {} to {}", what, format_size(p.min), hi);
    if (p.multiple_of > 1) s += fmt::format(", multiples of {}", format_size(p.multiple_of));
    return s;
  };
  switch (p.type) {
    case ParamType::Choices: return fmt::format("a comma-separated list of {}", fmt::join(p.choices, ", "));
    case ParamType::Choice: return fmt::format("one of {}", fmt::join(p.choices, ", "));
    case ParamType::Sizes: return range("comma-separated sizes");
    case ParamType::Size: return range("a size");
    case ParamType::Counts: return fmt::format("comma-separated whole numbers from {} to {}", p.min, p.max);
    case ParamType::Count: return fmt::format("a whole number from {} to {}", p.min, p.max);
  }
  return "?";
}

std::string param_error(const ParamSpec& p, const std::string& value) {
  const bool list = p.type == ParamType::Choices || p.type == ParamType::Sizes || p.type == ParamType::Counts;
  std::vector<std::string> items = list ? split(value, ',') : std::vector<std::string>{value};
  auto bad = [&](const std::string& item) {
    return fmt::format("-p {}={}: '{}' is not allowed; give {}", p.name, value, item, describe_allowed(p));
  };
  if (items.empty() || value.empty()) return bad(value);
  for (const std::string& raw : items) {
    const std::string item = trim(raw);
    if (item.empty()) return bad(raw);
    if (p.type == ParamType::Choices || p.type == ParamType::Choice) {
      if (std::find(p.choices.begin(), p.choices.end(), item) == p.choices.end()) return bad(item);
      continue;
    }
    uint64_t v = 0;
    const bool sizes = p.type == ParamType::Sizes || p.type == ParamType::Size;
    const bool parsed = sizes ? parse_size(item, &v) : item.find_first_not_of("0123456789") == std::string::npos &&
                                                            item.size() < 20 && parse_size(item, &v);
    if (!parsed || v < p.min || v > p.max || (sizes && p.multiple_of > 1 && v % p.multiple_of)) return bad(item);
  }
  return {};
}

namespace param {
ParamSpec choices(std::string name, std::string def, std::string help, std::vector<std::string> allowed) {
  return {std::move(name), std::move(def), std::move(help), ParamType::Choices, std::move(allowed)};
}
ParamSpec choice(std::string name, std::string def, std::string help, std::vector<std::string> allowed) {
  return {std::move(name), std::move(def), std::move(help), ParamType::Choice, std::move(allowed)};
}
ParamSpec sizes(std::string name, std::string def, std::string help, uint64_t min, uint64_t max,
                uint64_t multiple_of) {
  return {std::move(name), std::move(def), std::move(help), ParamType::Sizes, {}, min, max, multiple_of};
}
ParamSpec size(std::string name, std::string def, std::string help, uint64_t min, uint64_t max,
               uint64_t multiple_of) {
  return {std::move(name), std::move(def), std::move(help), ParamType::Size, {}, min, max, multiple_of};
}
ParamSpec counts(std::string name, std::string def, std::string help, uint64_t min, uint64_t max) {
  return {std::move(name), std::move(def), std::move(help), ParamType::Counts, {}, min, max};
}
ParamSpec count(std::string name, std::string def, std::string help, uint64_t min, uint64_t max) {
  return {std::move(name), std::move(def), std::move(help), ParamType::Count, {}, min, max};
}
}  // namespace param

std::string fix_hint(const CaseInfo& c) {
  if (c.fixed_by.empty()) return {};
  std::vector<std::string> fixes;
  for (const auto& k : c.fixed_by) fixes.push_back(k.hash + " " + k.subject);
  return fmt::format("fixed upstream by {}: is it in this kernel?", fmt::join(fixes, " and "));
}

CaseRegistrar::CaseRegistrar(CaseInfo info) {
  auto& reg = mutable_registry();
  for (const auto& c : reg) {
    if (c.id == info.id) {
      std::fprintf(stderr, "diotorture: duplicate case id '%s'\n", info.id.c_str());
      std::abort();
    }
  }
  // A default that its own declaration refuses is a bug in the case: say so
  // at start-up, before anything runs.
  for (const auto& p : info.params) {
    if (std::string err = param_error(p, p.default_value); !err.empty()) {
      std::fprintf(stderr, "diotorture: case '%s' declares a bad default: %s\n", info.id.c_str(), err.c_str());
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
