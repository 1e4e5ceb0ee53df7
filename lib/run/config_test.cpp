#include "lib/run/config.hpp"

#include <gtest/gtest.h>

namespace dt {
namespace {

TEST(FstestsConfig, AssignmentsExportsQuotesAndExpansion) {
  auto v = parse_fstests_config(
      "# local.config\n"
      "export TEST_DEV=/dev/vdb\n"
      "BASE=\"/mnt\"\n"
      "TEST_DIR=${BASE}/test   # the test mount\n"
      "SCRATCH_MNT='$BASE/scratch'\n"
      "HOMEDIR=$HOME/x\n",
      {{"HOME", "/root"}});
  EXPECT_EQ("/dev/vdb", v["TEST_DEV"]);
  EXPECT_EQ("/mnt/test", v["TEST_DIR"]);
  EXPECT_EQ("$BASE/scratch", v["SCRATCH_MNT"]);  // single quotes do not expand
  EXPECT_EQ("/root/x", v["HOMEDIR"]);
}

TEST(FstestsConfig, OnlyTheFirstSectionApplies) {
  auto v = parse_fstests_config("[btrfs_default]\nTEST_DIR=/mnt/a\n[btrfs_nocow]\nTEST_DIR=/mnt/b\n", {});
  EXPECT_EQ("/mnt/a", v["TEST_DIR"]);
}

}  // namespace
}  // namespace dt
