/* Live when a direct read spanning two extents reads the second from behind the first on disk. */
#include "probe.h"
int main(int argc, char **argv) {
  probe_init(argc, argv);
  for (int nocow = 0; nocow <= 1; nocow++) {
    const char *n = nocow ? "two-nocow" : "two-csum";
    int fd = new_file(n, nocow, O_DIRECT);
    int other = new_file(nocow ? "between-nocow" : "between-csum", nocow, O_DIRECT);
    unsigned char *b = abuf(4 * BS), *o = abuf(16 * BS);
    fill(b, 4 * BS, 9);
    fill(o, 16 * BS, 10);
    write_all(fd, b, 2 * BS, 0, "first extent");
    sync_fd(fd);
    write_all(other, o, 16 * BS, 0, "another file's extent in between");
    sync_fd(other);
    write_all(fd, b + 2 * BS, 2 * BS, 2 * BS, "second extent");
    sync_fd(fd);
    drop_caches();
    expect_data(n, 0, 4 * BS, b, "direct read across two extents");
    close(fd);
    close(other);
  }
  return 0;
}
