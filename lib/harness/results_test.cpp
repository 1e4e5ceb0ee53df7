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

}  // namespace
}  // namespace dt
