#include "lib/vm/panic.hpp"

#include <gtest/gtest.h>

namespace dt {
namespace {

// The shape of issue 27.14's console (6.1.192 guest, TCG).
const char* kTracepointPanic =
    "[   12.900000] diotorture: case partial-dio-write\n"
    "[   13.101000] int3: 0000 [#1] PREEMPT SMP NOPTI\n"
    "[   13.101100] CPU: 1 PID: 812 Comm: diotorture Not tainted 6.1.0-56-amd64 #1  Debian 6.1.192-1\n"
    "[   13.101200] RIP: 0010:__schedule+0x1/0x8a0\n"
    "[   13.101300] Call Trace:\n"
    "[   13.101400]  <TASK>\n"
    "[   13.101500]  ? __static_call_update+0x172/0x200\n"
    "[   13.101600]  tracepoint_probe_unregister+0x1a9/0x3c0\n"
    "[   13.101700]  event_trace_del_tracer+0x3a/0xa0\n"
    "[   13.101800]  instance_rmdir+0x4b/0xa0\n"
    "[   13.101900]  vfs_rmdir+0x80/0x1a0\n"
    "[   13.102000]  </TASK>\n"
    "[   13.110000] Kernel panic - not syncing: Fatal exception in interrupt\n";

TEST(Panic, TracepointUnregisterIsOutsideTheFilesystem) {
  auto frames = panic_frames(kTracepointPanic);
  ASSERT_GE(frames.size(), 5u);
  EXPECT_EQ(frames[0], "__schedule");
  EXPECT_EQ(frames[1], "__static_call_update");
  const std::string why = panic_outside_filesystem(kTracepointPanic);
  EXPECT_NE(why.find("outside btrfs and iomap code (in __schedule, from __static_call_update <- "
                     "tracepoint_probe_unregister"),
            std::string::npos)
      << why;
}

TEST(Panic, AFilesystemFrameIsTheFilesystems) {
  const std::string c = std::string("[ 1.0] BUG: kernel NULL pointer dereference, address: 0000000000000008\n") +
                        "[ 1.1] RIP: 0010:btrfs_finish_ordered_io+0x1c/0x900 [btrfs]\n" +
                        "[ 1.2] Call Trace:\n[ 1.3]  process_one_work+0x1c4/0x380\n" +
                        "[ 1.4] Kernel panic - not syncing: Fatal exception\n";
  EXPECT_EQ(panic_frames(c).front(), "btrfs_finish_ordered_io [btrfs]");
  EXPECT_EQ(panic_outside_filesystem(c), "");
  const std::string iomap = "[ 1.0] kernel BUG at fs/iomap/direct-io.c:99!\n[ 1.1] RIP: 0010:iomap_dio_bio_end_io+0x1/0x2\n"
                            "[ 1.4] Kernel panic - not syncing: Fatal exception\n";
  EXPECT_EQ(panic_outside_filesystem(iomap), "");
}

TEST(Panic, NoPanicOrNoFramesAssumesNothing) {
  EXPECT_EQ(panic_outside_filesystem("[ 1.0] diotorture-vm: done\n"), "");
  EXPECT_EQ(panic_outside_filesystem("[ 1.0] Kernel panic - not syncing: VFS: Unable to mount root fs\n"), "");
  // A hung-task panic with btrfs in the blocked task's stack is the filesystem's.
  const std::string hung = "[ 1.0] INFO: task kworker/u4:1:55 blocked for more than 120 seconds.\n"
                           "[ 1.1] Call Trace:\n[ 1.2]  __schedule+0x1/0x2\n[ 1.3]  btrfs_wait_ordered_range+0x1/0x2 [btrfs]\n"
                           "[ 1.4] Kernel panic - not syncing: hung_task: blocked tasks\n";
  EXPECT_EQ(panic_outside_filesystem(hung), "");
}

}  // namespace
}  // namespace dt
