/* Live when direct I/O starting inside an extent uses the extent's first blocks. */
#include "probe.h"
int main(int argc, char **argv) {
  probe_init(argc, argv);
  for (int nocow = 0; nocow <= 1; nocow++) {
    const char *n = nocow ? "mid-nocow" : "mid-csum";
    int fd = new_file(n, nocow, O_DIRECT);
    unsigned char *b = abuf(16 * BS);
    fill(b, 16 * BS, 7);
    write_all(fd, b, 16 * BS, 0, "one 64 KiB extent");
    sync_fd(fd);
    drop_caches();
    expect_data(n, 2 * BS, BS, b + 2 * BS, "direct read inside one extent");
    unsigned char *nb = abuf(BS);
    fill(nb, BS, 8);
    write_all(fd, nb, BS, 5 * BS, "overwrite inside the extent");
    sync_fd(fd);
    memcpy(b + 5 * BS, nb, BS);
    drop_caches();
    expect_data(n, 0, 16 * BS, b, "after an overwrite inside one extent");
    close(fd);
  }
  return 0;
}
