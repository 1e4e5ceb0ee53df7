#include "lib/harness/results.hpp"

#include <gtest/gtest.h>

#include "lib/harness/runner.hpp"

namespace dt {
namespace {

CaseResult make(const char* id, Status s, const char* reason = "") {
  CaseResult r;
  r.id = id;
  r.status = s;
  r.reason = reason;
  return r;
}

TEST(ExitCode, HangBeatsFailBeatsPass) {
  EXPECT_EQ(0, exit_code({make("a", Status::Pass), make("b", Status::NotRun)}));
  EXPECT_EQ(1, exit_code({make("a", Status::Pass), make("b", Status::Fail)}));
  EXPECT_EQ(3, exit_code({make("a", Status::Fail), make("b", Status::Hang)}));
  EXPECT_EQ(0, exit_code({}));
}

TEST(RunSummary, FstestsWording) {
  EXPECT_EQ("Passed all 2 cases\n", run_summary({make("a", Status::Pass), make("b", Status::Pass)}));
  EXPECT_EQ("Not run: c\nHung: b\nFailures: a b\nFailed 2 of 3 cases\n",
            run_summary({make("a", Status::Fail), make("b", Status::Hang), make("c", Status::NotRun),
                         make("d", Status::Pass)}));
  EXPECT_EQ("Failures: a\nFailed 1 of 2 crash states\n",
            run_summary({make("a", Status::Fail), make("b", Status::Pass)}, "crash states"));
}

TEST(Junit, CountsAndEscapes) {
  RunInfo info;
  info.kernel = "6.18";
  info.hostname = "ci-host";
  std::string x = junit_xml(info, {make("a", Status::Fail, "short read <4096> & \"more\""), make("b", Status::Hang),
                                   make("c", Status::NotRun, "no uffd")});
  EXPECT_NE(std::string::npos, x.find("tests=\"3\" failures=\"1\" errors=\"1\" skipped=\"1\""));
  EXPECT_NE(std::string::npos, x.find("short read &lt;4096&gt; &amp; &quot;more&quot;"));
  EXPECT_NE(std::string::npos, x.find("<error type=\"hang\""));
  EXPECT_NE(std::string::npos, x.find("<skipped message=\"no uffd\"/>"));
  EXPECT_NE(std::string::npos, x.find("hostname=\"ci-host\""));
  EXPECT_NE(std::string::npos, x.find("<property name=\"kernel\" value=\"6.18\"/>"));
}

TEST(RunOutcome, InterruptedRunIsNotGreen) {
  RunInfo info;
  info.selected = {"a", "b", "c"};
  std::vector<CaseResult> results = {make("a", Status::Pass)};
  EXPECT_EQ("running", nlohmann::json::parse(summary_json(info, results))["outcome"]);
  mark_stopped(&info, &results, "interrupted", "SIGTERM", 143);
  ASSERT_EQ(3u, results.size());
  EXPECT_EQ(Status::NotRun, results[1].status);
  EXPECT_EQ("not run: the run was interrupted (SIGTERM)", results[2].reason);
  auto j = nlohmann::json::parse(summary_json(info, results));
  EXPECT_EQ(143, j["exit_code"]);
  EXPECT_EQ("interrupted", j["outcome"]);
  EXPECT_EQ((std::vector<std::string>{"b", "c"}), j["not_run"].get<std::vector<std::string>>());
  std::string x = junit_xml(info, results);
  EXPECT_NE(std::string::npos, x.find("errors=\"1\""));
  EXPECT_NE(std::string::npos, x.find("<error type=\"interrupted\" message=\"run interrupted (SIGTERM); exit status 143; not run: b c\"/>"));
  EXPECT_NE(std::string::npos, check_log(info, results).find("Run interrupted (SIGTERM); exit status 143"));
}

}  // namespace
}  // namespace dt
