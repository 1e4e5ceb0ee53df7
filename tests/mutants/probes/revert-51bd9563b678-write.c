/* Live (a hang) when a direct write from an mmap of the same file range
 * faults its buffer in while holding the ordered extent (seed 003). */
#include "probe.h"
int main(int argc, char **argv) {
  probe_init(argc, argv);
  int fd = new_file("self-mmap-w", 0, 0);
  unsigned char *b = abuf(16 * BS);
  fill(b, 16 * BS, 3);
  write_all(fd, b, 16 * BS, 0, "initial write");
  sync_fd(fd);
  close(fd);
  drop_caches();
  fd = open("self-mmap-w", O_RDWR | O_DIRECT);
  unsigned char *m = mmap(NULL, 16 * BS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) setup_fail("mmap");
  ssize_t r = pwrite(fd, m, 16 * BS, 0);
  if (r != 16 * BS) wrong("O_DIRECT write from an mmap of the same range returned %zd", r);
  expect_data("self-mmap-w", 0, 16 * BS, b, "after writing a range onto itself");
  return 0;
}
