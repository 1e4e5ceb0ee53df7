#include "lib/trace/coverage.hpp"

#include <gtest/gtest.h>

namespace dt {
namespace {

TEST(Coverage, AreasOfAvailableFilterFunctions) {
  const std::string text =
      "btrfs_direct_write [btrfs]\n"
      "btrfs_dio_iomap_begin [btrfs]\n"
      "__iomap_dio_rw\n"
      "iomap_dio_complete\n"
      "xfs_iomap_write_direct [xfs]\n"
      "vfs_write\n"
      "btrfs_unrelated_builtin_name\n";
  auto p = functions_present(text);
  EXPECT_EQ(p["btrfs"], (std::set<std::string>{"btrfs_direct_write", "btrfs_dio_iomap_begin"}));
  // btrfs is a module here: a built-in btrfs_* name is not the module's.
  EXPECT_EQ(p["iomap"], (std::set<std::string>{"__iomap_dio_rw", "iomap_dio_complete"}));
  // Built-in btrfs: its functions go by name.
  auto b = functions_present("btrfs_direct_write\n__iomap_dio_rw\nxfs_iomap_x [xfs]\n");
  EXPECT_EQ(b["btrfs"], (std::set<std::string>{"btrfs_direct_write"}));
  EXPECT_EQ(b["iomap"], (std::set<std::string>{"__iomap_dio_rw"}));
  EXPECT_EQ(coverage_area("", false), "");
}

TEST(Coverage, FunctionsOfATrace) {
  const std::string trace =
      "# tracer: function\n"
      "#\n"
      "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
      "      diotorture-812     [001] ..... 13.101000: btrfs_direct_write <-btrfs_do_write_iter\n"
      "   kworker/u4:1-55      [000] d.... 13.102000: iomap_dio_complete_work <-process_one_work\n"
      " iou-wrk-812-900     [001] ..... 13.103000: btrfs_get_extent.constprop.0 <-btrfs_dio_iomap_begin\n"
      "\n";
  EXPECT_EQ(traced_functions(trace), (std::vector<std::string>{"btrfs_direct_write", "iomap_dio_complete_work",
                                                               "btrfs_get_extent.constprop.0"}));
}

TEST(Coverage, BaselineListsReadBack) {
  const std::string cov = "# area function seconds-when-first-seen\nbtrfs btrfs_direct_write 0.5\niomap __iomap_dio_rw 1.0\n";
  EXPECT_EQ(parse_coverage_list(cov), (std::set<std::string>{"btrfs_direct_write", "__iomap_dio_rw"}));
  EXPECT_EQ(parse_coverage_list("btrfs_sync_file\n  iomap_dio_rw  \n# a comment\n"),
            (std::set<std::string>{"btrfs_sync_file", "iomap_dio_rw"}));
}

}  // namespace
}  // namespace dt
