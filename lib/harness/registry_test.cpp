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

TEST(ParamError, ChoicesSizesAndCounts) {
  const ParamSpec methods = param::choices("methods", "read", "", {"read", "readv"});
  EXPECT_EQ("", param_error(methods, "read,readv"));
  EXPECT_NE(std::string::npos, param_error(methods, "bogus").find("'bogus' is not allowed; give a comma-separated "
                                                                  "list of read, readv"));
  EXPECT_NE("", param_error(methods, ""));
  EXPECT_NE("", param_error(methods, "read,"));

  const ParamSpec sizes = param::sizes("block-sizes", "4k", "", 4096, 16 << 20);
  EXPECT_EQ("", param_error(sizes, "4k,64k,1m"));
  EXPECT_NE("", param_error(sizes, "3k"));        // not a multiple of 4 KiB
  EXPECT_NE("", param_error(sizes, "0"));         // below the minimum
  EXPECT_NE("", param_error(sizes, "32m"));       // above the maximum
  EXPECT_NE("", param_error(sizes, "4k,lots"));   // not a size

  const ParamSpec depth = param::count("queue-depth", "8", "", 1, 1024);
  EXPECT_EQ("", param_error(depth, "1024"));
  EXPECT_NE("", param_error(depth, "100000"));
  EXPECT_NE("", param_error(depth, "0"));
  EXPECT_NE("", param_error(depth, "4k"));  // a count is a plain number
  EXPECT_NE("", param_error(depth, "1,2")); // one value, not a list
  EXPECT_EQ("a whole number from 1 to 1024", describe_allowed(depth));
}

TEST(FixHint, NamesEveryFix) {
  CaseInfo c{.id = "x"};
  EXPECT_EQ("", fix_hint(c));
  c.fixed_by = {{"b73a6fd1b1ef", "btrfs: split partial dio bios before submit"}};
  EXPECT_EQ("fixed upstream by b73a6fd1b1ef btrfs: split partial dio bios before submit: is it in this kernel?",
            fix_hint(c));
}

TEST(RegistryDeathTest, BadDefaultAborts) {
  EXPECT_DEATH({ CaseRegistrar bad({.id = "bad-default", .params = {param::count("n", "0", "", 1, 9)}}); },
               "declares a bad default");
}

}  // namespace
}  // namespace dt
