#include "lib/harness/shard.hpp"

#include <gtest/gtest.h>

#include <set>

#include "lib/harness/registry.hpp"
#include "lib/sys/sys.hpp"

namespace dt {
namespace {

TEST(Shard, ParsesIOverN) {
  Shard s = parse_shard("2/4");
  EXPECT_EQ(s.index, 2u);
  EXPECT_EQ(s.count, 4u);
  EXPECT_EQ(s.name(), "2/4");
  EXPECT_TRUE(parse_shard("1/1").whole());
}

TEST(Shard, RefusesBadInputWithTheFix) {
  for (const char* bad : {"", "1", "/2", "1/", "a/b", "1/0", "-1/2", "1 /2", "1/2/3", "1.5/2", "1/100001"})
    EXPECT_THROW(parse_shard(bad), SetupError) << bad;
  try {
    parse_shard("3/2");
    FAIL() << "3/2 accepted";
  } catch (const SetupError& e) {
    EXPECT_NE(std::string(e.what()).find("numbered 1 to 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_shard("0/2"), SetupError);
}

// Disjoint and complete: every unit and every combination in exactly one shard.
TEST(Shard, UnitsAndCombinationsAreDisjointAndComplete) {
  for (unsigned n : {1u, 2u, 3u, 7u}) {
    for (size_t unit = 0; unit < 50; ++unit) {
      unsigned owners = 0;
      for (unsigned i = 1; i <= n; ++i) owners += unit_in_shard(unit, Shard{i, n});
      EXPECT_EQ(owners, 1u) << unit << " of " << n;
    }
    for (const char* id : {"dio-mmap-same-range", "a", "zz"})
      for (size_t k = 0; k < 40; ++k) {
        unsigned owners = 0;
        for (unsigned i = 1; i <= n; ++i) owners += combination_in_shard(id, k, Shard{i, n});
        EXPECT_EQ(owners, 1u) << id << " " << k;
      }
  }
}

TEST(Shard, CombinationsSpreadEvenly) {
  unsigned in_first = 0;
  for (size_t k = 0; k < 24; ++k) in_first += combination_in_shard("dio-mmap-same-range", k, Shard{1, 2});
  EXPECT_EQ(in_first, 12u);
}

TEST(Shard, CasesDealtRoundRobinCombinationCasesEverywhere) {
  std::vector<CaseInfo> infos(5);
  std::vector<const CaseInfo*> sel;
  for (size_t i = 0; i < infos.size(); ++i) {
    infos[i].id = "c" + std::to_string(i);
    infos[i].shards_combinations = i == 2;
    sel.push_back(&infos[i]);
  }
  auto ids = [](const std::vector<const CaseInfo*>& v) {
    std::vector<std::string> o;
    for (auto* c : v) o.push_back(c->id);
    return o;
  };
  EXPECT_EQ(ids(cases_in_shard(sel, Shard{1, 2})), (std::vector<std::string>{"c0", "c2", "c3"}));
  EXPECT_EQ(ids(cases_in_shard(sel, Shard{2, 2})), (std::vector<std::string>{"c1", "c2", "c4"}));
  EXPECT_EQ(ids(cases_in_shard(sel, Shard{1, 1})).size(), 5u);
  std::vector<const CaseInfo*> two = {&infos[0], &infos[1]};
  EXPECT_THROW(cases_in_shard(two, Shard{3, 3}), SetupError);
}

TEST(SeedRange, ParsesAndShards) {
  SeedRange r = parse_seed_range("3..9");
  EXPECT_EQ(r.first, 3u);
  EXPECT_EQ(r.last, 9u);
  EXPECT_EQ(parse_seed_range("5").last, 5u);
  std::multiset<uint64_t> all;
  for (unsigned i = 1; i <= 3; ++i)
    for (uint64_t s : seeds_in_shard(r, Shard{i, 3})) all.insert(s);
  EXPECT_EQ(all, (std::multiset<uint64_t>{3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(seeds_in_shard(r, Shard{1, 3}), (std::vector<uint64_t>{3, 6, 9}));
  EXPECT_TRUE(seeds_in_shard(parse_seed_range("1..2"), Shard{3, 4}).empty());
  // The top of the range does not wrap around.
  const uint64_t top = 9999999999999999999ull;
  EXPECT_EQ(seeds_in_shard(SeedRange{top - 1, top}, Shard{2, 2}), (std::vector<uint64_t>{top}));
}

TEST(SeedRange, RefusesBadInput) {
  for (const char* bad : {"", "..", "1..", "..2", "a..b", "5..3", "1...3", "-1..2", "0..1000000"})
    EXPECT_THROW(parse_seed_range(bad), SetupError) << bad;
}

}  // namespace
}  // namespace dt
