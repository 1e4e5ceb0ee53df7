#include "lib/harness/case_list.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

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

namespace {
// Markdown lines wrapped at kWidth: the reference pages keep every line
// readable in a terminal and in a diff, generated or not.
constexpr size_t kWidth = 110;

// `text` as lines of at most kWidth characters (a word longer than that
// stands alone), the first starting with `first`, the rest with `indent`.
std::string wrap(const std::string& first, const std::string& indent, const std::string& text) {
  std::string out, line = first;
  bool line_start = first.empty();  // no space before the first word of a line
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find(' ', i);
    if (j == std::string::npos) j = text.size();
    const std::string word = text.substr(i, j - i);
    i = j + 1;
    if (word.empty()) continue;
    if (!line_start && line.size() + 1 + word.size() > kWidth) {
      out += line + "\n";
      line = indent;
      line_start = true;
    }
    line += (line_start ? "" : " ") + word;
    line_start = false;
  }
  return out + line + "\n";
}
}  // namespace

std::string case_list_markdown(const std::vector<const CaseInfo*>& cases) {
  // Groups first, as `run -g` selects them, then one section per case.
  std::vector<std::string> groups;
  for (const CaseInfo* c : cases)
    for (const auto& g : c->groups)
      if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
  std::sort(groups.begin(), groups.end());
  std::string out = "### Groups\n\n";
  for (const auto& g : groups) {
    std::vector<std::string> ids;
    for (const CaseInfo* c : cases)
      if (std::find(c->groups.begin(), c->groups.end(), g) != c->groups.end())
        ids.push_back(fmt::format("`{}`", c->id));
    out += wrap(fmt::format("- `{}` ({}):", g, ids.size()), "  ", fmt::format("{}", fmt::join(ids, ", ")));
  }
  for (const CaseInfo* c : cases) {
    out += fmt::format("\n### {}\n\n", c->id);
    out += wrap("", "", c->description);
    out += "\n";
    out += wrap("- groups:", "  ", fmt::format("{}", fmt::join(c->groups, ", ")));
    for (const auto& k : c->fixed_by) out += wrap("- fixed by:", "  ", fmt::format("`{}` {}", k.hash, k.subject));
    for (const auto& k : c->regressed_by)
      out += wrap("- regressed by:", "  ", fmt::format("`{}` {}", k.hash, k.subject));
    if (!c->fstests.empty()) out += wrap("- fstests:", "  ", fmt::format("{}", fmt::join(c->fstests, ", ")));
    out += wrap("- needs:", "  ", describe_needs(c->needs));
    if (!c->fs.empty()) out += wrap("- own filesystem:", "  ", c->fs.describe());
    out += fmt::format("- timeout: {} s\n", c->timeout_s);
    for (const auto& p : c->params)
      out += wrap(fmt::format("- `-p {}`", p.name), "  ",
                  fmt::format("(default `{}`): {} ({})", p.default_value, p.help, describe_allowed(p)));
  }
  return out;
}

}  // namespace dt
