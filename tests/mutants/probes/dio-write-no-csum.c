/* Live when direct writes store no data checksums (the blocks read back EIO). */
#include "probe.h"
int main(int argc, char **argv) {
  probe_init(argc, argv);
  int fd = new_file("csum", 0, O_DIRECT);
  unsigned char *b = abuf(8 * BS);
  fill(b, 8 * BS, 23);
  write_all(fd, b, 8 * BS, 0, "direct write");
  write_all(fd, b + 2 * BS, 2 * BS, 2 * BS, "direct overwrite");
  sync_fd(fd);
  close(fd);
  drop_caches();
  expect_data("csum", 0, 8 * BS, b, "checksummed file after direct writes");
  return 0;
}
