/* Live when a direct write into a preallocated extent reads back as zeros. */
#include "probe.h"
int main(int argc, char **argv) {
  probe_init(argc, argv);
  for (int nocow = 0; nocow <= 1; nocow++) {
    const char *n = nocow ? "pre-nocow" : "pre-csum";
    int fd = new_file(n, nocow, O_DIRECT);
    if (fallocate(fd, 0, 0, 16 * BS)) setup_fail("fallocate");
    unsigned char *b = abuf(16 * BS);
    memset(b, 0, 16 * BS);
    fill(b + 4 * BS, 2 * BS, 18);
    write_all(fd, b + 4 * BS, 2 * BS, 4 * BS, "direct write into prealloc");
    sync_fd(fd);
    close(fd);
    drop_caches();
    expect_data(n, 0, 16 * BS, b, "after a direct write into a preallocated extent");
  }
  return 0;
}
