#include "lib/harness/registry.hpp"
#include "lib/sys/spellcheck.hpp"

#include <gtest/gtest.h>

#include "lib/sys/sys.hpp"

namespace dt {
namespace {

std::vector<CaseInfo> fake() {
  return {{.id = "a-read", .groups = {"quick", "uring"}},
          {.id = "b-write", .groups = {"quick"}},
          {.id = "c-slow", .groups = {"auto"}},
          {.id = "selftest-hang", .groups = {"selftest"}}};
}

std::vector<std::string> ids(const std::vector<const CaseInfo*>& v) {
  std::vector<std::string> out;
  for (auto* c : v) out.push_back(c->id);
  return out;
}

TEST(Select, DefaultIsTheQuickGroup) {
  auto all = fake();
  EXPECT_EQ((std::vector<std::string>{"a-read", "b-write"}), ids(select_cases(all, {})));
}

TEST(Select, IdsAndGroupsUnionThenExclusionsApply) {
  auto all = fake();
  SelectionRequest r;
  r.ids = {"c-slow"};
  r.groups = {"quick"};
  r.exclude_groups = {"uring"};
  EXPECT_EQ((std::vector<std::string>{"b-write", "c-slow"}), ids(select_cases(all, r)));
  r.expunged = {"b-write"};
  EXPECT_EQ((std::vector<std::string>{"c-slow"}), ids(select_cases(all, r)));
}

TEST(Select, UnknownNamesSuggestTheClosest) {
  auto all = fake();
  SelectionRequest r;
  r.ids = {"a-raed"};
  try {
    select_cases(all, r);
    FAIL();
  } catch (const SetupError& e) {
    EXPECT_EQ("unknown case 'a-raed' (did you mean 'a-read'?); 'diotorture list' lists them", std::string(e.what()));
  }
  r.ids.clear();
  r.groups = {"quik"};
  EXPECT_THROW(select_cases(all, r), SetupError);
}

TEST(DidYouMean, FarWordsGetNoHint) {
  EXPECT_EQ("", did_you_mean("zzzzzzzz", {"run", "list"}));
  EXPECT_EQ("list", did_you_mean("lst", {"run", "list"}));
}

TEST(Expunge, FstestsFormat) {
  EXPECT_EQ((std::vector<std::string>{"a-read", "c-slow"}),
            parse_expunge("# comment\na-read   # flaky on 6.1\n\n  c-slow reason text\n"));
}

TEST(Registry, RealCasesAreSortedAndHaveDescriptions) {
  // The unit test binary links no cases; the registry still works when empty.
  EXPECT_TRUE(std::is_sorted(all_cases().begin(), all_cases().end(),
                             [](const CaseInfo& a, const CaseInfo& b) { return a.id < b.id; }));
}

TEST(RegistryDeathTest, DuplicateIdAborts) {
  EXPECT_DEATH(
      {
        CaseRegistrar one({.id = "dup"});
        CaseRegistrar two({.id = "dup"});
      },
      "duplicate case id 'dup'");
}

}  // namespace
}  // namespace dt
