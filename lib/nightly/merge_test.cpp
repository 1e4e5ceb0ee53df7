#include "lib/nightly/merge.hpp"

#include <gtest/gtest.h>

#include "lib/sys/sys.hpp"

namespace dt {
namespace {

using nlohmann::json;

MergeInput run(const std::string& shard, json cases, const std::string& kernel = "6.18.0") {
  std::vector<std::string> sel;
  for (const auto& c : cases) sel.push_back(c["id"]);
  return MergeInput{MergeInput::Kind::Run, "run" + shard,
                    json{{"kernel", kernel}, {"tool_version", "v1"}, {"shard", shard}, {"hostname", "h"},
                         {"outcome", "complete"}, {"selected", sel}, {"cases", cases}}};
}

json one_case(const std::string& id, const std::string& status, json combos = json::object(), bool shard_note = false) {
  json notes = json::array();
  if (shard_note) notes.push_back("shard x: ran");
  return json{{"id", id}, {"status", status}, {"combinations", combos}, {"notes", notes}, {"duration_s", 1.0}};
}

MergeInput campaign(const std::string& shard, json subruns) {
  return MergeInput{MergeInput::Kind::Campaign, "campaign" + shard,
                    json{{"kernel", "6.18.0"}, {"tool_version", "v1"}, {"shard", shard}, {"torture", {{"subruns", subruns}}}}};
}

TEST(Merge, ShardsBecomeOneRun) {
  auto m = merge_inputs({run("1/2", json::array({one_case("a", "pass"), one_case("m", "pass", {{"x=1", true}}, true)})),
                         run("2/2", json::array({one_case("b", "fail"), one_case("m", "fail", {{"x=2", false}}, true)}))},
                        false, "merge-1", "t");
  ASSERT_EQ(m.summary["cases"].size(), 3u);
  EXPECT_EQ(m.summary["selected"], json({"a", "m", "b"}));
  const json& mc = m.summary["cases"][1];
  EXPECT_EQ(mc["id"], "m");
  EXPECT_EQ(mc["status"], "fail") << "the worst status wins";
  EXPECT_EQ(mc["combinations"].size(), 2u);
  EXPECT_EQ(mc["duration_s"], 2.0);
  EXPECT_EQ(m.summary["exit_code"], 1);
  EXPECT_TRUE(m.summary["missing_shards"].empty());
}

TEST(Merge, RefusesOverlapsAndMixes) {
  auto a = run("1/2", json::array({one_case("a", "pass")}));
  auto b = run("2/2", json::array({one_case("b", "pass")}));
  EXPECT_THROW(merge_inputs({a, a}, false, "m", "t"), SetupError) << "the same shard twice";
  EXPECT_THROW(merge_inputs({a, run("", json::array({one_case("z", "pass")}))}, false, "m", "t"), SetupError)
      << "a whole run beside a shard";
  EXPECT_THROW(merge_inputs({a, run("2/3", json::array({one_case("b", "pass")}))}, false, "m", "t"), SetupError)
      << "shards of another N";
  EXPECT_THROW(merge_inputs({a, run("2/2", json::array({one_case("a", "pass")}))}, false, "m", "t"), SetupError)
      << "one case in two shards";
  EXPECT_THROW(merge_inputs({run("1/2", json::array({one_case("m", "pass", {{"x=1", true}}, true)})),
                             run("2/2", json::array({one_case("m", "pass", {{"x=1", true}}, true)}))},
                            false, "m", "t"),
               SetupError)
      << "one combination in two shards";
  auto other = run("2/2", json::array({one_case("b", "pass")}), "6.1.0-50-amd64");
  try {
    merge_inputs({a, other}, false, "m", "t");
    FAIL() << "two kernels merged";
  } catch (const SetupError& e) {
    EXPECT_NE(std::string(e.what()).find("--allow-mixed"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(merge_inputs({a, other}, true, "m", "t"));
  auto m = merge_inputs({a}, false, "m", "t");
  EXPECT_EQ(m.summary["missing_shards"], json({"2/2"}));
  EXPECT_EQ(m.summary["exit_code"], 2) << "an incomplete merge is not a pass";
}

TEST(Merge, TortureFailuresDedupedBySignatureSmallestReproKept) {
  auto sub = [](int seed, const std::string& sig, int steps, const std::string& status = "fail") {
    json s{{"seed", seed}, {"sub_run", 0}, {"status", status}, {"seconds", 1.0}, {"signature", sig},
           {"failure", {{"kind", "data"}, {"op", "pwrite"}, {"msg", "m"}}}, {"repro", "/r" + std::to_string(seed)},
           {"steps", steps}};
    return s;
  };
  auto m = merge_inputs({campaign("1/2", json::array({sub(1, "A", 5), sub(3, "B", 2)})),
                         campaign("2/2", json::array({sub(2, "A", 1), json{{"seed", 4}, {"status", "pass"}}}))},
                        false, "m", "t");
  const json& f = m.summary["torture"]["failures"];
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0]["signature"], "A");
  EXPECT_EQ(f[0]["count"], 2);
  EXPECT_EQ(f[0]["kept"]["repro"], "/r2") << "the smallest repro";
  EXPECT_EQ(f[1]["count"], 1);
  EXPECT_EQ(m.summary["torture"]["passed"], 1);
  EXPECT_EQ(m.summary["torture"]["subruns"].size(), 4u);
  EXPECT_EQ(m.summary["exit_code"], 1);
  // All known: the merged run passes.
  auto k = merge_inputs({campaign("", json::array({sub(1, "A", 5, "known")}))}, false, "m", "t");
  EXPECT_EQ(k.summary["torture"]["failures"][0]["status"], "known");
  EXPECT_EQ(k.summary["exit_code"], 0);
}

}  // namespace
}  // namespace dt
