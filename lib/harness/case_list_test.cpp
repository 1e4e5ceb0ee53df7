#include "lib/harness/case_list.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace dt {
namespace {

// A case whose every field is longer than a line, so the Markdown must wrap.
CaseInfo wordy() {
  return {.id = "wordy-case",
          .groups = {"auto", "quick", "nowait"},
          .description = std::string(30, 'd') + " " + std::string(40, 'e') + " " + std::string(50, 'f'),
          .fixed_by = {{"0123456789ab", "btrfs: a fix whose subject goes on and on about the direct I/O path "
                                        "and the page cache until it needs a second line"}},
          .fstests = {"generic/001"},
          .params = {param::choices("methods", "a,b", "how the thing is done, in words enough to run past the end "
                                                      "of one line of the page",
                                    {"a", "b", "c"})}};
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST(CaseListMarkdown, WrapsEveryLineAt110Columns) {
  const CaseInfo c = wordy();
  const std::string md = case_list_markdown({&c});
  for (const auto& l : lines(md)) EXPECT_LE(l.size(), 110u) << l;
}

TEST(CaseListMarkdown, LosesNoWordAndIndentsContinuations) {
  const CaseInfo c = wordy();
  const std::string md = case_list_markdown({&c});
  // Joined again, the wrapped item says exactly what the registry says.
  std::string joined;
  for (const auto& l : lines(md)) joined += (l.starts_with("  ") ? " " + l.substr(2) : "\n" + l);
  EXPECT_NE(joined.find("- fixed by: `0123456789ab` " + c.fixed_by[0].subject), std::string::npos) << joined;
  std::string flat = md;  // the description is a paragraph: its lines are joined by a newline
  for (auto& ch : flat)
    if (ch == '\n') ch = ' ';
  EXPECT_NE(flat.find(c.description), std::string::npos) << md;
  EXPECT_NE(joined.find("- `-p methods` (default `a,b`): " + c.params[0].help), std::string::npos) << joined;
  EXPECT_NE(md.find("### wordy-case\n"), std::string::npos);
  EXPECT_NE(md.find("- `quick` (1): `wordy-case`\n"), std::string::npos) << md;
}

}  // namespace
}  // namespace dt
