/* Live when a RWF_NOWAIT direct write into a hole of a NOCOW file is not answered EAGAIN (or done). */
#include "probe.h"
int main(int argc, char **argv) {
  probe_init(argc, argv);
  int fd = new_file("nowait-hole", 1, O_DIRECT);
  if (ftruncate(fd, 16 * BS)) setup_fail("ftruncate");
  sync_fd(fd);
  unsigned char *b = abuf(BS);
  fill(b, BS, 19);
  struct iovec v = {b, BS};
  ssize_t r = pwritev2(fd, &v, 1, 4 * BS, RWF_NOWAIT);
  if (r < 0 && errno != EAGAIN) wrong("RWF_NOWAIT write into a hole of a NOCOW file: %s (expected EAGAIN)", strerror(errno));
  if (r >= 0 && r != BS) wrong("RWF_NOWAIT write returned %zd", r);
  return 0;
}
