/* Live (a hang) when an O_DSYNC direct write syncs through btrfs_sync_file
 * taking the inode lock the writer holds (seed 004). */
#include "probe.h"
int main(int argc, char **argv) {
  probe_init(argc, argv);
  int fd = new_file("dsync", 0, O_DIRECT | O_DSYNC);
  unsigned char *b = abuf(4 * BS);
  fill(b, 4 * BS, 5);
  ssize_t r = pwrite(fd, b, 4 * BS, 0);
  if (r != 4 * BS) wrong("O_DSYNC O_DIRECT append returned %zd", r);
  r = pwrite(fd, b + BS, 2 * BS, BS);
  if (r != 2 * BS) wrong("O_DSYNC O_DIRECT overwrite returned %zd", r);
  expect_data("dsync", 0, 4 * BS, b, "after O_DSYNC direct writes");
  return 0;
}
