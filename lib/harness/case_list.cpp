#include "lib/harness/case_list.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "lib/harness/require.hpp"

namespace dt {

namespace {
std::string commits(const std::vector<KernelCommit>& ks) {
  std::vector<std::string> out;
  for (const auto& k : ks) out.push_back(fmt::format("{} (\"{}\")", k.hash, k.subject));
  return fmt::format("{}", fmt::join(out, ", "));
}
}  // namespace

std::string case_list_text(const std::vector<const CaseInfo*>& cases, bool verbose) {
  std::string out;
  for (const CaseInfo* c : cases) {
    out += fmt::format("{:<28} {}\n    groups: {}; requires: {}; timeout {}s\n", c->id, c->description,
                       fmt::join(c->groups, ","), describe_needs(c->needs), c->timeout_s);
    if (!verbose) continue;
    if (!c->fixed_by.empty()) out += fmt::format("    fixed by: {}\n", commits(c->fixed_by));
    if (!c->regressed_by.empty()) out += fmt::format("    regressed by: {}\n", commits(c->regressed_by));
    if (!c->fstests.empty()) out += fmt::format("    fstests: {}\n", fmt::join(c->fstests, " "));
    if (!c->fs.empty()) out += fmt::format("    filesystem: {}\n", c->fs.describe());
    for (const auto& p : c->params)
      out += fmt::format("    -p {}={}  {} ({})\n", p.name, p.default_value, p.help, describe_allowed(p));
  }
  return out;
}

std::string case_list_markdown(const std::vector<const CaseInfo*>& cases) {
  std::string out = "| case | groups | what it checks | fixed by | fstests | needs |\n|---|---|---|---|---|---|\n";
  for (const CaseInfo* c : cases) {
    std::vector<std::string> fixes;
    for (const auto& k : c->fixed_by) fixes.push_back(fmt::format("`{}` {}", k.hash, k.subject));
    std::string needs = describe_needs(c->needs);
    if (!c->fs.empty()) needs += "; own filesystem: " + c->fs.describe();
    out += fmt::format("| `{}` | {} | {} | {} | {} | {} |\n", c->id, fmt::join(c->groups, ", "), c->description,
                       fixes.empty() ? "—" : fmt::format("{}", fmt::join(fixes, "; ")),
                       c->fstests.empty() ? "—" : fmt::format("{}", fmt::join(c->fstests, ", ")), needs);
  }
  return out;
}

}  // namespace dt
