/* Live when a direct write finished after a fault-in returns fewer bytes than it wrote. */
#include "probe.h"
int main(int argc, char **argv) {
  probe_init(argc, argv);
  int fd = new_file("retry-w", 0, O_DIRECT);
  unsigned char *buf = pages(4, 1, 0);
  ssize_t r = pwrite(fd, buf, 4 * BS, 0);
  if (r != 4 * BS) wrong("direct write of 16 KiB from a partly faulted-in buffer returned %zd", r);
  return 0;
}
