#include "lib/run/kmsg.hpp"

#include <gtest/gtest.h>

namespace dt {
namespace {

TEST(Kmsg, PlantedLinesOfOtherRunsAreNotOurs) {
  const std::string mine = "WARNING: x [planted by diotorture run 12.34]";
  EXPECT_FALSE(planted_by_another_run(mine, "12.34"));
  EXPECT_TRUE(planted_by_another_run(mine, "12.345"));
  EXPECT_TRUE(planted_by_another_run(mine, "99.1"));
  EXPECT_FALSE(planted_by_another_run("WARNING: CPU: 1 PID: 12 at fs/btrfs/inode.c:123", "12.34"));
}

TEST(Kmsg, MessagesAboutAnotherFilesystemAreNotOurs) {
  const std::vector<std::string> own = {"loop4", "loop7"};
  EXPECT_TRUE(about_another_device("BTRFS warning (device loop2): csum failed root 5 ino 271", own));
  EXPECT_FALSE(about_another_device("BTRFS warning (device loop4): csum failed root 5 ino 271", own));
  EXPECT_FALSE(about_another_device("BTRFS error (device loop7 state EA): bdev /dev/loop7 errs", own));
  EXPECT_TRUE(about_another_device("BTRFS error (device loop70 state EA): x", own));
  EXPECT_FALSE(about_another_device("WARNING: CPU: 1 PID: 12 at fs/btrfs/inode.c:123", own));
  EXPECT_FALSE(about_another_device("BTRFS warning (device loop2): csum failed", {}));
}

TEST(Kmsg, FindsTheSignaturesThatFailACase) {
  std::vector<std::string> lines = {
      "loop1: detected capacity change",
      "BTRFS info (device loop1): first mount of filesystem",
      "WARNING: CPU: 1 PID: 12 at fs/btrfs/inode.c:123 btrfs_foo+0x1/0x2",
      "INFO: task mmap-rw-fault:12176 blocked for more than 120 seconds.",
      "BTRFS warning (device loop1): csum failed root 5 ino 257 off 0 csum 0x1 expected csum 0x2 mirror 1",
      "BUG: KASAN: use-after-free in foo",
      "WARNING: possible circular locking dependency detected",
      "UBSAN: shift-out-of-bounds in fs/btrfs/x.c:1:2",
  };
  auto f = scan_kernel_log(lines);
  ASSERT_EQ(6u, f.size());
  EXPECT_EQ("WARNING:", f[0].signature);
  EXPECT_EQ("INFO: task ... blocked for more than", f[1].signature);
  EXPECT_EQ("csum failed", f[2].signature);
  EXPECT_EQ("BUG:", f[3].signature);
}

TEST(Kmsg, FindsDirectIoSignatures) {
  std::vector<std::string> lines = {
      "Page cache invalidation failure on direct I/O.  Possible data corruption due to collision with buffered I/O!",
      "File: /mnt/f PID: 123 Comm: dio-invalidate-",
      "BTRFS error (device vdb): direct IO failed ino 257 op 0x8801 offset 0x0 len 4096 err no 10",
      "assertion failed: inode_is_locked(&inode->vfs_inode), in fs/btrfs/ordered-data.c:983",
      "BTRFS info (device vdb): using crc32c (crc32c-intel) checksum algorithm",
  };
  auto f = scan_kernel_log(lines);
  ASSERT_EQ(3u, f.size());
  EXPECT_EQ("Page cache invalidation failure on direct I/O", f[0].signature);
  EXPECT_EQ("direct IO failed", f[1].signature);
  EXPECT_EQ("assertion failed:", f[2].signature);
}

TEST(Kmsg, IgnoresOurMarkersAndQuietLogs) {
  EXPECT_TRUE(scan_kernel_log({"diotorture: begin run WARNING: in a case name", "EXT4-fs mounted"}).empty());
}

TEST(Kmsg, RecordTextDropsHeaderAndDictionary) {
  EXPECT_EQ("hello world", kmsg_record_text("6,1234,5678,-;hello world\n SUBSYSTEM=block\n"));
}

TEST(Kmsg, LinesOfOtherDevicesAreNotOurs) {
  std::vector<std::string> lines = {
      "BTRFS warning (device loop5): scrub: checksum error at logical 13631488 on dev /dev/loop5",
      "BTRFS error (device loop0 state EA): csum failed root 5 ino 257",
      "WARNING: CPU: 1 PID: 12 at fs/btrfs/inode.c:123 btrfs_foo+0x1/0x2",
  };
  auto kept = drop_other_devices(lines, {"/dev/loop0", "/dev/loop1"});
  ASSERT_EQ(2u, kept.size());
  EXPECT_EQ(lines[1], kept[0]);
  EXPECT_EQ(lines[2], kept[1]);
}

}  // namespace
}  // namespace dt
