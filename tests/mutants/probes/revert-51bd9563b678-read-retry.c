/* Live (a hang) when a direct read whose buffer cannot be faulted in retries forever. */
#include "probe.h"
int main(int argc, char **argv) {
  probe_init(argc, argv);
  int fd = new_file("forever-r", 0, O_DIRECT);
  unsigned char *b = abuf(2 * BS);
  fill(b, 2 * BS, 22);
  write_all(fd, b, 2 * BS, 0, "data");
  sync_fd(fd);
  unsigned char *buf = pages(2, 1, 2);
  ssize_t r = pread(fd, buf, 2 * BS, 0);
  if (!(r == BS || (r < 0 && errno == EFAULT))) wrong("direct read into [page][PROT_NONE] returned %zd", r);
  return 0;
}
