/* Live when a direct write to a NOCOW file overwrites an extent its reflink clone shares. */
#include "probe.h"
int main(int argc, char **argv) {
  probe_init(argc, argv);
  int fd = new_file("nocow-src", 1, O_DIRECT);
  unsigned char *b = abuf(16 * BS), *nb = abuf(BS);
  fill(b, 16 * BS, 15);
  write_all(fd, b, 16 * BS, 0, "nocow data");
  sync_fd(fd);
  int cl = new_file("nocow-clone", 1, 0);
  if (ioctl(cl, FICLONE, fd)) setup_fail("FICLONE");
  close(cl);
  fill(nb, BS, 16);
  write_all(fd, nb, BS, 3 * BS, "direct overwrite of a shared block");
  sync_fd(fd);
  drop_caches();
  expect_data("nocow-clone", 0, 16 * BS, b, "the clone after its source was overwritten");
  memcpy(b + 3 * BS, nb, BS);
  expect_data("nocow-src", 0, 16 * BS, b, "the source after the overwrite");
  return 0;
}
