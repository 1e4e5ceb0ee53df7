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

TEST(Kmsg, ATransactionAbortAndAForcedReadonlyFail) {
  auto f = scan_kernel_log({"BTRFS: Transaction aborted (error -5)",
                            "BTRFS info (device loop3 state EA): forced readonly"});
  ASSERT_EQ(2u, f.size());
  EXPECT_EQ("Transaction aborted", f[0].signature);
  EXPECT_EQ("forced readonly", f[1].signature);
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

// A WARNING as the kernel prints it, in the task `pid`/`comm`.
std::vector<std::string> warning(int pid, const std::string& comm, const std::string& where = "fs/btrfs/inode.c:123") {
  return {"------------[ cut here ]------------",
          "WARNING: CPU: 1 PID: " + std::to_string(pid) + " at " + where + " btrfs_foo+0x1/0x2",
          "Modules linked in:",
          "CPU: 1 UID: 0 PID: " + std::to_string(pid) + " Comm: " + comm + " Not tainted 6.18.0 #1",
          "Call Trace:",
          " <TASK>",
          " btrfs_foo+0x1/0x2",
          "---[ end trace 0000000000000000 ]---"};
}

OwnTasks ours() { return OwnTasks{{100, 101}, {"diotorture", "mkfs.btrfs"}, true, {"/dev/loop3"}, "7.7"}; }
const auto never_alive = [](int) { return false; };

TEST(KmsgAttribution, AnotherProcesssWarningIsANoteNotAFinding) {
  auto a = attribute_kernel_log(warning(4711, "dd"), ours(), never_alive);
  EXPECT_TRUE(scan_kernel_log(a.ours).empty());
  ASSERT_EQ(1u, a.notes.size());
  EXPECT_EQ("kernel warning from another process (pid 4711, comm dd): WARNING: CPU: 1 PID: 4711 at fs/btrfs/inode.c:123 "
            "btrfs_foo+0x1/0x2",
            a.notes[0]);
}

TEST(KmsgAttribution, WhatCouldBeOursFails) {
  for (const auto& [pid, comm] : std::vector<std::pair<int, std::string>>{
           {100, "whatever"},                   // our pid
           {4711, "diotorture"},                // our command name (a thread of ours)
           {55, "kworker/u8:3"},                // a kernel thread: I/O completion of anyone
           {56, "btrfs-transacti"},             // btrfs's own thread
           {57, "iou-wrk-100"}}) {              // io_uring worker
    auto a = attribute_kernel_log(warning(pid, comm), ours(), never_alive);
    EXPECT_EQ(1u, scan_kernel_log(a.ours).size()) << comm;
    EXPECT_TRUE(a.notes.empty()) << comm;
  }
  // A report about our device is ours whoever's task it ran in.
  auto w = warning(4711, "dd");
  w.insert(w.begin() + 2, "BTRFS: error (device loop3) in btrfs_finish_ordered_io:3050: errno=-5 IO failure");
  EXPECT_FALSE(scan_kernel_log(attribute_kernel_log(w, ours(), never_alive).ours).empty());
  // No task named (a bare line): could be ours.
  EXPECT_EQ(1u, scan_kernel_log(attribute_kernel_log({"BUG: unable to handle page fault"}, ours(), never_alive).ours).size());
}

TEST(KmsgAttribution, ExecOnlyTrustsATaskStillAliveOutsideItsTree) {
  OwnTasks own = ours();
  own.comms_complete = false;  // exec: the program may start anything
  EXPECT_TRUE(attribute_kernel_log(warning(4711, "dd"), own, never_alive).notes.empty());
  auto a = attribute_kernel_log(warning(4711, "dd"), own, [](int pid) { return pid == 4711; });
  EXPECT_EQ(1u, a.notes.size());
  EXPECT_TRUE(scan_kernel_log(a.ours).empty());
}

TEST(KmsgAttribution, TwoReportsAreJudgedEachOnItsOwn) {
  auto log = warning(4711, "dd");
  const auto mine = warning(100, "diotorture");
  log.insert(log.end(), mine.begin(), mine.end());
  auto a = attribute_kernel_log(log, ours(), never_alive);
  EXPECT_EQ(1u, a.notes.size());
  ASSERT_EQ(1u, scan_kernel_log(a.ours).size());
  EXPECT_NE(std::string::npos, scan_kernel_log(a.ours)[0].line.find("PID: 100"));
  // The hung-task report names its task as comm:pid.
  auto h = attribute_kernel_log({"INFO: task dd:4711 blocked for more than 120 seconds."}, ours(), never_alive);
  EXPECT_EQ(1u, h.notes.size());
  auto mine_hung = attribute_kernel_log({"INFO: task diotorture:4712 blocked for more than 120 seconds."}, ours(), never_alive);
  EXPECT_EQ(1u, scan_kernel_log(mine_hung.ours).size());
}

TEST(KmsgAttribution, PlantedLinesOfAnotherRunAreDropped) {
  auto a = attribute_kernel_log({"WARNING: planted [planted by diotorture run 9.9]",
                                 "WARNING: mine [planted by diotorture run 7.7]"},
                                ours(), never_alive);
  ASSERT_EQ(1u, a.ours.size());
  EXPECT_NE(std::string::npos, a.ours[0].find("7.7"));
}

}  // namespace
}  // namespace dt
