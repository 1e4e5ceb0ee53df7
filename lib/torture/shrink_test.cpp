#include "lib/torture/shrink.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace dt {
namespace {

bool contains_all(const std::vector<size_t>& v, std::initializer_list<size_t> need) {
  for (size_t n : need)
    if (std::find(v.begin(), v.end(), n) == v.end()) return false;
  return true;
}

TEST(Ddmin, FindsTheTwoCulprits) {
  unsigned tests = 0;
  auto fails = [&](const std::vector<size_t>& s) {
    ++tests;
    return contains_all(s, {13, 77});
  };
  auto r = ddmin(100, fails, [] { return false; });
  EXPECT_EQ(r, (std::vector<size_t>{13, 77}));
  EXPECT_LT(tests, 200u);
}

TEST(Ddmin, OneCulpritAndOrderMatters) {
  // Fails when 5 comes before 9 and 40 is present.
  auto fails = [](const std::vector<size_t>& s) { return contains_all(s, {5, 9, 40}); };
  EXPECT_EQ(ddmin(64, fails, [] { return false; }), (std::vector<size_t>{5, 9, 40}));
  EXPECT_EQ(ddmin(1, [](const std::vector<size_t>&) { return true; }, [] { return false; }).size(), 1u);
}

TEST(Ddmin, StopsWhenOutOfTime) {
  unsigned tests = 0;
  auto fails = [&](const std::vector<size_t>& s) {
    ++tests;
    return contains_all(s, {3});
  };
  auto r = ddmin(1000, fails, [&] { return tests >= 5; });
  EXPECT_LE(tests, 5u);
  EXPECT_TRUE(contains_all(r, {3}));
}

TEST(ShrinkOplog, DropsEventsFilesStepsAndShrinksSizes) {
  OpLog log;
  log.header = make_header(3, 4);
  Mix mix = parse_mix("", "all");
  StepGenerator g(3, mix, log.header);
  for (int i = 0; i < 300; ++i) log.steps.push_back(g.next());
  // The synthetic bug: a write to file 1 followed later by a read of file 1;
  // it fails at the read (steps after it are trimmed).
  uint64_t wseq = 0, rseq = 0;
  for (const Step& s : log.steps) {
    if (s.is_event() || s.file != 1) continue;
    if (!wseq && s.op == "pwrite") wseq = s.seq;
    if (wseq && !rseq && s.seq > wseq && s.op == "pread") rseq = s.seq;
  }
  ASSERT_TRUE(wseq && rseq);
  auto fails = [&](const OpLog& l, uint64_t* fail_seq) {
    bool w = false;
    for (const Step& s : l.steps) {
      if (s.seq == wseq) w = true;
      if (s.seq == rseq && w) {
        *fail_seq = s.seq;
        return true;
      }
    }
    return false;
  };
  ShrinkStats st;
  OpLog min = shrink_oplog(log, fails, std::chrono::steady_clock::now() + std::chrono::seconds(30), &st);
  ASSERT_EQ(min.steps.size(), 2u);
  EXPECT_EQ(min.steps[0].seq, wseq);
  EXPECT_EQ(min.steps[1].seq, rseq);
  EXPECT_LE(min.steps[0].len, 4096u);  // halved down to one block (or an unaligned length below it)
  EXPECT_EQ(min.steps[0].flags, 0u);
  EXPECT_GT(st.candidates, 10u);
  EXPECT_FALSE(st.out_of_time);
}

}  // namespace
}  // namespace dt
