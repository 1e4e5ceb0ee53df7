/* Live when a plain direct write looks short to btrfs (ordered extent finished twice). */
#include "probe.h"
int main(int argc, char **argv) {
  probe_init(argc, argv);
  int fd = new_file("plain", 0, O_DIRECT);
  unsigned char *b = abuf(8 * BS);
  fill(b, 8 * BS, 13);
  ssize_t r = pwrite(fd, b, 8 * BS, 0);
  if (r != 8 * BS) wrong("direct write of 32 KiB returned %zd", r);
  sync_fd(fd);
  fill(b, 4 * BS, 14);
  r = pwrite(fd, b, 4 * BS, 2 * BS);
  if (r != 4 * BS) wrong("direct overwrite of 16 KiB returned %zd", r);
  sync_fd(fd);
  unsigned char *want = abuf(8 * BS);
  fill(want, 8 * BS, 13);
  memcpy(want + 2 * BS, b, 4 * BS);
  drop_caches();
  expect_data("plain", 0, 8 * BS, want, "after direct writes");
  return 0;
}
