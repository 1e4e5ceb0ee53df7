/* Live when a 2 KiB-aligned O_DIRECT write goes direct and breaks the block it half-covers. */
#include "probe.h"
int main(int argc, char **argv) {
  probe_init(argc, argv);
  for (int nocow = 0; nocow <= 1; nocow++) {
    const char *n = nocow ? "half-nocow" : "half-csum";
    int fd = new_file(n, nocow, O_DIRECT);
    unsigned char *b = abuf(4 * BS), *h = abuf(BS);
    fill(b, 4 * BS, 25);
    fill(h, BS, 26);
    write_all(fd, b, 4 * BS, 0, "data");
    sync_fd(fd);
    ssize_t r = pwrite(fd, h, 2048, BS + 2048);
    if (r != 2048) wrong("%s: O_DIRECT write of 2048 at 6144 returned %zd (%s)", n, r, r < 0 ? strerror(errno) : "-");
    if (fsync(fd)) wrong("%s: fsync: %s", n, strerror(errno));
    memcpy(b + BS + 2048, h, 2048);
    close(fd);
    expect_data(n, 0, 4 * BS, b, "after a 2 KiB write");
    drop_caches();
    expect_data(n, 0, 4 * BS, b, "after a 2 KiB write and drop_caches");
  }
  return 0;
}
