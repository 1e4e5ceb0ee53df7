#include "lib/torture/states.hpp"

#include <gtest/gtest.h>

#include <set>

namespace dt {
namespace {

TEST(States, TableNamesAreUniqueAndFindable) {
  std::set<std::string> seen;
  for (const auto& s : state_table()) {
    EXPECT_TRUE(seen.insert(s.name).second) << s.name;
    EXPECT_EQ(find_state(s.name), &s);
    EXPECT_NE(std::string(s.confirmed_by), "");
  }
  EXPECT_EQ(find_state("balance-paws"), nullptr);
  EXPECT_EQ(make_hold("balance-paws", HoldTargets{}), nullptr);  // every known one is run by the integration test
}

TEST(States, ChoiceIsSeededAndCoversEveryState) {
  std::set<std::string> chosen;
  for (uint64_t i = 0; i < 2000; ++i) {
    Prng a(i), b(i);
    Step x, y;
    choose_state(a, x);
    choose_state(b, y);
    EXPECT_EQ(x.arg, y.arg);
    EXPECT_EQ(x.len, y.len);
    EXPECT_GE(x.len, 20u);
    EXPECT_LE(x.len, 120u);
    chosen.insert(x.arg);
  }
  EXPECT_EQ(chosen.size(), state_table().size());
}

TEST(States, HeldThroughIsWhatBothEndsConfirmed) {
  EXPECT_EQ(held_through({"balance-paused"}, {"balance-paused"}), std::vector<std::string>{"balance-paused"});
  EXPECT_TRUE(held_through({"balance-paused"}, {}).empty());  // ended during the op
  EXPECT_TRUE(held_through({}, {"balance-paused"}).empty());  // began during the op
  EXPECT_EQ(held_through({"a", "b"}, {"b", "c"}), std::vector<std::string>{"b"});
}

TEST(States, StepJsonCarriesStatesAndWindow) {
  Step op;
  op.seq = 7;
  op.op = "pwrite";
  op.len = 4096;
  op.states = {"balance-paused"};
  Step back = step_from_json(step_to_json(op));
  EXPECT_EQ(back.states, op.states);
  Step ev;
  ev.seq = 6;
  ev.event = "state";
  ev.arg = "quota-rescan";
  ev.len = 33;
  Step eb = step_from_json(step_to_json(ev));
  EXPECT_EQ(eb.arg, "quota-rescan");
  EXPECT_EQ(eb.len, 33u);
  auto bad = step_to_json(ev);
  bad["arg"] = "quota-rescna";
  EXPECT_THROW(step_from_json(bad), std::runtime_error);
}

TEST(States, GeneratorChoosesStateEventsDeterministically) {
  Mix mix = parse_mix("", "state");
  LogHeader h = make_header(3, 4);
  StepGenerator a(3, mix, h), b(3, mix, h);
  unsigned events = 0;
  for (int i = 0; i < 2000; ++i) {
    Step x = a.next(), y = b.next();
    EXPECT_EQ(step_to_json(x), step_to_json(y));
    if (x.is_event()) {
      ++events;
      EXPECT_EQ(x.event, "state");
      EXPECT_NE(find_state(x.arg), nullptr);
      EXPECT_GE(x.len, 20u);
    }
  }
  EXPECT_GT(events, 20u);
}

TEST(States, ReportCountsCellsFailuresAndHolds) {
  OpLog log;
  auto op = [&](uint64_t seq, const char* name, std::vector<std::string> st) {
    Step s;
    s.seq = seq;
    s.op = name;
    s.states = std::move(st);
    log.steps.push_back(s);
  };
  Step ev;
  ev.seq = 1;
  ev.event = "state";
  ev.arg = "balance-paused";
  ev.note = "held from step 1 to step 5 (...)";
  log.steps.push_back(ev);
  ev.seq = 9;
  ev.arg = "nearly-full";
  ev.note = "not held: 40 GiB free";
  log.steps.push_back(ev);
  op(2, "pwrite", {"balance-paused"});
  op(3, "pwrite", {"balance-paused"});
  op(4, "pread", {"balance-paused"});
  op(5, "pread", {});
  op(6, "fsync", {});
  Mix mix = parse_mix("pread,pwrite,fsync", "state");
  StateReport r = state_report(log, 4, mix, false);
  EXPECT_EQ(r.ops.size(), 3u);
  for (const auto& s : r.states) EXPECT_FALSE(find_state(s)->needs_spare) << s;  // no spare: not in the table
  EXPECT_EQ(r.total(), 3 * r.states.size());
  EXPECT_EQ(r.visited(), 2u);  // (pwrite, paused), (pread, paused); "none" is not a state cell
  EXPECT_EQ(r.cells["balance-paused"]["pwrite"].ops, 2u);
  EXPECT_EQ(r.cells["balance-paused"]["pread"].failures, 1u);
  EXPECT_EQ(r.cells[""]["fsync"].ops, 1u);
  EXPECT_EQ(r.holds["balance-paused"].held, 1u);
  EXPECT_EQ(r.holds["nearly-full"].held, 0u);
  EXPECT_EQ(r.holds["nearly-full"].last_refusal, "not held: 40 GiB free");
  auto j = r.to_json();
  EXPECT_EQ(j["cells_visited"], 2);
  EXPECT_EQ(j["table"]["balance-paused"]["pread"]["failures"], 1);
  const std::string text = r.format();
  EXPECT_NE(text.find("2 of "), std::string::npos) << text;
  EXPECT_NE(text.find("pread 1 (1 FAILED)"), std::string::npos) << text;
  EXPECT_NE(text.find("not held: 40 GiB free"), std::string::npos) << text;

  StateReport with_spare = state_report(log, 0, mix, true);
  EXPECT_EQ(with_spare.states.size(), state_table().size());
  StateReport no_states = state_report(OpLog{}, 0, parse_mix("", "none"), true);
  EXPECT_TRUE(no_states.states.empty());
  EXPECT_NE(no_states.format().find("none held"), std::string::npos);
}

}  // namespace
}  // namespace dt
