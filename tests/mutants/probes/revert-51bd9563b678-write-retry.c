/* Live (a hang) when a direct write whose buffer cannot be faulted in retries forever. */
#include "probe.h"
int main(int argc, char **argv) {
  probe_init(argc, argv);
  int fd = new_file("forever-w", 0, O_DIRECT);
  unsigned char *buf = pages(2, 1, 2);
  ssize_t r = pwrite(fd, buf, 2 * BS, 0);
  if (!(r == BS || (r < 0 && errno == EFAULT))) wrong("direct write from [page][PROT_NONE] returned %zd", r);
  return 0;
}
