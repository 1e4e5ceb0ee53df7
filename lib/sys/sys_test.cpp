#include "lib/sys/sys.hpp"

#include <gtest/gtest.h>

namespace dt {
namespace {

TEST(ParseSize, UnitsAndRejects) {
  uint64_t v = 0;
  EXPECT_TRUE(parse_size("4096", &v));
  EXPECT_EQ(4096u, v);
  EXPECT_TRUE(parse_size("64k", &v));
  EXPECT_EQ(65536u, v);
  EXPECT_TRUE(parse_size("8M", &v));
  EXPECT_EQ(8u << 20, v);
  EXPECT_TRUE(parse_size("4G", &v));
  EXPECT_EQ(4ull << 30, v);
  EXPECT_TRUE(parse_size("1T", &v));
  EXPECT_EQ(1ull << 40, v);
  EXPECT_TRUE(parse_size("4TiB", &v));
  EXPECT_EQ(4ull << 40, v);
  EXPECT_TRUE(parse_size("0x5000", &v));
  EXPECT_EQ(0x5000u, v);
  EXPECT_TRUE(parse_size("0XfFfF", &v));
  EXPECT_EQ(0xffffu, v);
  for (const char* bad : {"", "abc", "-1", "4x", "1.5M", "99999999999999999999", "17179869184G", "16777216T", "1P", "0x", "0x5g",
                          "0x10000000000000000"})
    EXPECT_FALSE(parse_size(bad, &v)) << bad;
}

TEST(FormatSize, LargestExactUnit) {
  EXPECT_EQ("4K", format_size(4096));
  EXPECT_EQ("1M", format_size(1 << 20));
  EXPECT_EQ("1536K", format_size(1536 << 10));
  EXPECT_EQ("100", format_size(100));
}

TEST(Split, TrimsFields) {
  EXPECT_EQ((std::vector<std::string>{"a", "b", ""}), split(" a , b ,", ','));
}

}  // namespace
}  // namespace dt

namespace dt {
namespace {
TEST(WhyNotWritable, NamesTheBlockingPart) {
  EXPECT_EQ("", why_not_writable("/tmp/some/new/dir", true));
  EXPECT_EQ("", why_not_writable("/tmp/file.svg", false));
  EXPECT_EQ("/proc/version is not a directory", why_not_writable("/proc/version/x", true));
  EXPECT_EQ("it is a directory; name a file", why_not_writable("/tmp", false));
  EXPECT_EQ("/nonexistent-dir is not a directory", why_not_writable("/nonexistent-dir/chart.svg", false));
}
}  // namespace
}  // namespace dt

namespace dt {
namespace {
TEST(TaskStat, NameWithSpacesAndParenthesis) {
  // A qemu vCPU thread is named "CPU 0/TCG"; a name may even hold ") S".
  const std::string line =
      "4242 (CPU 0/TCG) S) R 1 4242 4242 0 -1 4194560 10 0 0 0 150 25 0 0 20 0 4 0 987654 1000000 500 "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
  TaskStat st;
  ASSERT_TRUE(parse_task_stat(line, &st));
  EXPECT_EQ(st.comm, "CPU 0/TCG) S");
  EXPECT_EQ(st.state, 'R');
  EXPECT_EQ(st.cpu_ticks, 175u);
  EXPECT_EQ(st.start_time, "987654");
  EXPECT_FALSE(parse_task_stat("", &st));               // the task is gone
  EXPECT_FALSE(parse_task_stat("4242 (x) R 1 2", &st));  // cut short
}
}  // namespace
}  // namespace dt
