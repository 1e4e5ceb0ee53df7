#include "lib/harness/case_events.hpp"

#include <gtest/gtest.h>

namespace dt {
namespace {

CaseResult make(const char* id, Status s) {
  CaseResult r;
  r.id = id;
  r.status = s;
  return r;
}

TEST(CaseEvents, WritersAndReaderAgree) {
  CaseResult r;
  for (const std::string& line : {event::note("n"), event::skip("io_uring readv", "EINVAL"), event::variant("nocow", false),
                                  event::metric("ms", 2.5, "ms"), event::fail("short read")}) {
    EXPECT_EQ('\n', line.back());
    apply_event(&r, line.substr(0, line.size() - 1));
  }
  EXPECT_EQ(std::vector<std::string>{"n"}, r.notes);
  EXPECT_EQ(std::vector<std::string>{"io_uring readv: EINVAL"}, r.skips);
  EXPECT_EQ("no checksums", r.variants["nocow"]);
  EXPECT_EQ(Status::Fail, r.status);
  EXPECT_EQ("short read", r.reason);
  EXPECT_DOUBLE_EQ(2.5, r.metrics["ms"]["max"].get<double>());
}

TEST(SummaryJson, RoundTripsCaseFields) {
  RunInfo info;
  info.run_id = "r1";
  info.kernel = "6.18.44";
  CaseResult r = make("nowait-multi-extent-read", Status::Pass);
  apply_event(&r, R"({"type":"layout","file":"f","summary":"s","ok":true,"data_extents":4,"holes":1})");
  apply_event(&r, R"({"type":"path","key":"nocow read","verdict":"direct"})");
  apply_event(&r, R"({"type":"path","key":"nocow read","verdict":"direct"})");
  apply_event(&r, R"({"type":"path","key":"datasum write","verdict":"buffered"})");
  auto j = nlohmann::json::parse(summary_json(info, {r}));
  EXPECT_EQ("6.18.44", j["kernel"]);
  EXPECT_EQ(0, j["exit_code"]);
  const auto& c = j["cases"][0];
  EXPECT_EQ("pass", c["status"]);
  EXPECT_EQ(2, c["path"]["by_key"]["nocow read"]["direct"]);
  EXPECT_EQ("path: datasum write 1 buffered; nocow read 2 direct", c["path"]["summary"]);
  EXPECT_EQ(4, c["layout"]["files"][0]["data_extents"]);
}

TEST(ApplyEvent, CombinationsAreReportedEachOnItsOwn) {
  CaseResult r;
  apply_event(&r, R"({"type":"combination","name":"nocow/size=4k","ok":true})");
  apply_event(&r, R"({"type":"combination","name":"nocow/size=64k","ok":false})");
  EXPECT_EQ(2u, r.combinations.size());
  EXPECT_EQ("combinations: 2, 1 FAIL: nocow/size=64k", combination_line(r));
  EXPECT_NE(std::string::npos, summary_json({}, {r}).find("nocow/size=64k"));
}

TEST(ApplyEvent, FailAndNotrun) {
  CaseResult r = make("x", Status::Pass);
  apply_event(&r, R"({"type":"notrun","reason":"no io_uring"})");
  EXPECT_EQ(Status::NotRun, r.status);
  apply_event(&r, R"({"type":"fail","msg":"short read"})");
  EXPECT_EQ(Status::Fail, r.status);
  apply_event(&r, "not json");
  EXPECT_EQ("no io_uring", r.reason);  // first reason stays
  EXPECT_EQ(1u, r.failures.size());
}

}  // namespace
}  // namespace dt
