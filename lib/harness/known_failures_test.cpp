#include "lib/harness/known_failures.hpp"

#include <gtest/gtest.h>

#include "lib/sys/sys.hpp"

namespace dt {
namespace {

const char* kList =
    "# case  kernels  reason\n"
    "\n"
    "append-unfaulted-buffer  6.1.0-50-amd64,6.1.17[0-6]*  ff66fe666233 missing: size 8192 after a 4096 append\n"
    "nowait-write\t6.18.*\tEAGAIN where btrfs/226 expects success\n";

CaseResult failed(const char* id) {
  CaseResult r;
  r.id = id;
  r.status = Status::Fail;
  r.reason = "file size 8192";
  return r;
}

TEST(KnownFailures, ParsesIdKernelGlobsAndReason) {
  auto l = parse_known_failures(kList, "kf.txt");
  ASSERT_EQ(2u, l.size());
  EXPECT_EQ("append-unfaulted-buffer", l[0].case_id);
  EXPECT_EQ((std::vector<std::string>{"6.1.0-50-amd64", "6.1.17[0-6]*"}), l[0].kernels);
  EXPECT_EQ("ff66fe666233 missing: size 8192 after a 4096 append", l[0].reason);
  EXPECT_EQ("kf.txt:3", l[0].where);
  EXPECT_EQ("EAGAIN where btrfs/226 expects success", l[1].reason);
}

TEST(KnownFailures, RefusesAnEntryWithoutKernelsOrReason) {
  EXPECT_THROW(parse_known_failures("nowait-write\n", "kf.txt"), SetupError);
  EXPECT_THROW(parse_known_failures("nowait-write 6.18.*\n", "kf.txt"), SetupError);
  try {
    parse_known_failures("# fine\nnowait-write 6.18.*   \n", "kf.txt");
  } catch (const SetupError& e) {
    EXPECT_NE(std::string::npos, std::string(e.what()).find("kf.txt:2"));
  }
}

TEST(KnownFailures, MatchesOnlyTheListedCaseOnTheListedKernels) {
  auto l = parse_known_failures(kList, "kf.txt");
  EXPECT_NE(nullptr, find_known_failure(l, "append-unfaulted-buffer", "6.1.0-50-amd64"));
  EXPECT_NE(nullptr, find_known_failure(l, "append-unfaulted-buffer", "6.1.176"));
  EXPECT_EQ(nullptr, find_known_failure(l, "append-unfaulted-buffer", "6.1.192"));
  EXPECT_EQ(nullptr, find_known_failure(l, "append-unfaulted-buffer", "6.18.0"));
  EXPECT_NE(nullptr, find_known_failure(l, "nowait-write", "6.18.0-1-amd64"));
  EXPECT_EQ(nullptr, find_known_failure(l, "nowait-large-read", "6.18.0"));
}

TEST(KnownFailures, AListedFailureIsKnownAndDoesNotFailTheRun) {
  auto l = parse_known_failures(kList, "kf.txt");
  CaseResult r = failed("nowait-write");
  apply_known_failures(&r, l, "6.18.0", false);
  EXPECT_EQ(Status::Known, r.status);
  EXPECT_STREQ("known", status_name(r.status));
  ASSERT_EQ(1u, r.notes.size());
  EXPECT_NE(std::string::npos, r.notes[0].find("kf.txt:4"));
  EXPECT_EQ(0, exit_code({r}));
  EXPECT_NE(std::string::npos, run_summary({r}).find("Known failures: nowait-write"));
  EXPECT_NE(std::string::npos, run_summary({r}).find("Passed 0 of 1 cases, the other 1 known failures"));
}

TEST(KnownFailures, UnlistedStrictAndHangsStayFailures) {
  auto l = parse_known_failures(kList, "kf.txt");
  CaseResult other = failed("nowait-large-read");
  apply_known_failures(&other, l, "6.18.0", false);
  EXPECT_EQ(Status::Fail, other.status);
  CaseResult strict = failed("nowait-write");
  apply_known_failures(&strict, l, "6.18.0", true);
  EXPECT_EQ(Status::Fail, strict.status);
  EXPECT_EQ(1u, strict.notes.size());
  EXPECT_EQ(1, exit_code({strict}));
  CaseResult hang = failed("nowait-write");
  hang.status = Status::Hang;
  apply_known_failures(&hang, l, "6.18.0", false);
  EXPECT_EQ(Status::Hang, hang.status);
}

TEST(KnownFailures, NamesEntriesForCasesThatDoNotExist) {
  auto l = parse_known_failures(kList, "kf.txt");
  EXPECT_EQ((std::vector<std::string>{"kf.txt:4: nowait-write"}),
            unknown_case_ids(l, {"append-unfaulted-buffer", "nowait-large-read"}));
}

}  // namespace
}  // namespace dt
