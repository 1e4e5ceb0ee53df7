#include "lib/torture/cost.hpp"

#include <gtest/gtest.h>

namespace dt {
namespace {

TEST(CostClock, NestedScopesAreExclusiveAndAddUpToTheWall) {
  uint64_t t = 1000;
  CostClock c([&] { return t; });
  t += 5;  // other
  {
    auto op = c.in(Cost::Op);
    t += 10;
    {
      auto chk = c.in(Cost::CheckDio);
      t += 7;
    }
    t += 3;  // back in the op
  }
  t += 2;  // other again
  auto s = c.seconds();
  EXPECT_DOUBLE_EQ(s[static_cast<size_t>(Cost::Op)], 13e-9);
  EXPECT_DOUBLE_EQ(s[static_cast<size_t>(Cost::CheckDio)], 7e-9);
  EXPECT_DOUBLE_EQ(s[static_cast<size_t>(Cost::Other)], 7e-9);
  double sum = 0;
  for (double v : s) sum += v;
  EXPECT_DOUBLE_EQ(sum, c.wall());
}

TEST(CostClock, JsonAndTableNameEveryKindThatTookTime) {
  std::array<double, static_cast<size_t>(Cost::kCount)> s{};
  s[static_cast<size_t>(Cost::Op)] = 3;
  s[static_cast<size_t>(Cost::CheckHoles)] = 1;
  auto j = cost_to_json(s, 4);
  EXPECT_DOUBLE_EQ(j["kinds"]["op"]["percent"].get<double>(), 75.0);
  EXPECT_FALSE(j["kinds"].contains("copies"));
  const std::string t = format_time_breakdown(j);
  EXPECT_LT(t.find("op"), t.find("check-holes"));  // largest first
  EXPECT_NE(t.find("25.0%"), std::string::npos);
}

TEST(CostClock, EveryKindHasADistinctName) {
  for (size_t i = 0; i < kCostNames.size(); ++i)
    for (size_t k = i + 1; k < kCostNames.size(); ++k) EXPECT_STRNE(kCostNames[i], kCostNames[k]);
}

}  // namespace
}  // namespace dt
