/* Live when a direct read finished after a fault-in returns fewer bytes than it read. */
#include "probe.h"
int main(int argc, char **argv) {
  probe_init(argc, argv);
  int fd = new_file("retry-r", 0, O_DIRECT);
  unsigned char *b = abuf(4 * BS);
  fill(b, 4 * BS, 21);
  write_all(fd, b, 4 * BS, 0, "data");
  sync_fd(fd);
  unsigned char *buf = pages(4, 1, 0);
  ssize_t r = pread(fd, buf, 4 * BS, 0);
  if (r != 4 * BS) wrong("direct read of 16 KiB into a partly faulted-in buffer returned %zd", r);
  if (memcmp(buf, b, 4 * BS)) wrong("direct read into a partly faulted-in buffer: wrong data");
  return 0;
}
