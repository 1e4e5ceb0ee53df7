/* Live when a direct read of a preallocated extent returns the disk's old contents. */
#include "probe.h"
int main(int argc, char **argv) {
  probe_init(argc, argv);
  const size_t len = 1 << 20;
  unsigned char *b = abuf(len), *zero = calloc(1, len);
  fill(b, len, 17);
  /* Data on disk, then freed: a later allocation likely reuses its blocks. */
  for (int i = 0; i < 4; i++) {
    char n[32];
    snprintf(n, sizeof n, "old-%d", i);
    int fd = new_file(n, 1, O_DIRECT);
    write_all(fd, b, len, 0, "data to free");
    close(fd);
  }
  sync();
  for (int i = 0; i < 4; i++) { char n[32]; snprintf(n, sizeof n, "old-%d", i); unlink(n); }
  sync();
  sync();
  for (int nocow = 1; nocow >= 0; nocow--) {
    for (int i = 0; i < 2; i++) {
      char n[32];
      snprintf(n, sizeof n, "prealloc-%d-%d", nocow, i);
      int fd = new_file(n, nocow, O_DIRECT);
      if (fallocate(fd, 0, 0, len)) setup_fail("fallocate");
      sync_fd(fd);
      close(fd);
      expect_data(n, 0, len, zero, "direct read of a preallocated range");
    }
  }
  return 0;
}
