#include "lib/nightly/report.hpp"

#include <gtest/gtest.h>

namespace dt {
namespace {

TEST(Report, CombinationBecomesParams) {
  EXPECT_EQ(combination_params("nocow/sizes=4k,ops=read"), "-p variant=nocow -p sizes=4k -p ops=read");
  EXPECT_EQ(combination_params("sizes=4k"), "-p sizes=4k");
}

TEST(Report, ConfigHintsPickTheOptionsThatMatter) {
  const std::string hints = config_hints(
      "CONFIG_BTRFS_FS=y\nCONFIG_EXT4_FS=m\n# CONFIG_BTRFS_ASSERT is not set\nCONFIG_PREEMPT_VOLUNTARY=y\n");
  EXPECT_NE(hints.find("CONFIG_BTRFS_FS=y"), std::string::npos);
  EXPECT_NE(hints.find("# CONFIG_BTRFS_ASSERT is not set"), std::string::npos);
  EXPECT_NE(hints.find("CONFIG_PREEMPT_VOLUNTARY=y"), std::string::npos);
  EXPECT_EQ(hints.find("EXT4"), std::string::npos);
}

TEST(Report, HasEverySection) {
  BugReport r;
  r.what = "selftest-short-read";
  r.kernel = "6.18.0";
  r.happened = "read of 8192 bytes returned 4096";
  r.expected = "a full-length read";
  r.reproduce = {"diotorture run selftest-short-read --seed 1"};
  r.suspected_fix = "fixed upstream by abc: is it in this kernel?";
  r.passed_on = {"6.1.0 (results/a)"};
  const std::string md = render_report(r);
  EXPECT_EQ(md.rfind("Subject: [BUG] btrfs: direct I/O: selftest-short-read: read of 8192 bytes returned 4096 (6.18.0)", 0),
            0u)
      << md;
  for (const char* part : {"## Kernel\n\n    6.18.0", "## Expected\n\na full-length read",
                           "## What happened\n\n    read of 8192", "```\ndiotorture run selftest-short-read --seed 1\n```",
                           "is it in this kernel?", "- 6.1.0 (results/a)", "(nothing from the kernel)"})
    EXPECT_NE(md.find(part), std::string::npos) << part;
}

}  // namespace
}  // namespace dt
