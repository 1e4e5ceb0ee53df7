/* Live (a hang) when a direct read into an mmap of the same file range
 * faults its buffer in with the extent range locked (seed 003). */
#include "probe.h"
int main(int argc, char **argv) {
  probe_init(argc, argv);
  int fd = new_file("self-mmap-r", 0, 0);
  unsigned char *b = abuf(16 * BS);
  fill(b, 16 * BS, 4);
  write_all(fd, b, 16 * BS, 0, "initial write");
  sync_fd(fd);
  close(fd);
  drop_caches();
  fd = open("self-mmap-r", O_RDWR | O_DIRECT);
  unsigned char *m = mmap(NULL, 16 * BS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) setup_fail("mmap");
  ssize_t r = pread(fd, m, 16 * BS, 0);
  if (r != 16 * BS) wrong("O_DIRECT read into an mmap of the same range returned %zd", r);
  if (memcmp(m, b, 16 * BS)) wrong("read onto itself changed the data");
  return 0;
}
