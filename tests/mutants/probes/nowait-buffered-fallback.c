/* Live when a misaligned RWF_NOWAIT O_DIRECT write (which needs the buffered path) is not answered EAGAIN. */
#include "probe.h"
int main(int argc, char **argv) {
  probe_init(argc, argv);
  int fd = new_file("nowait-mis", 1, O_DIRECT);
  unsigned char *b = abuf(16 * BS);
  fill(b, 16 * BS, 20);
  write_all(fd, b, 16 * BS, 0, "nocow data");
  sync_fd(fd);
  struct iovec v = {b, BS};
  ssize_t r = pwritev2(fd, &v, 1, 512, RWF_NOWAIT);
  if (!(r < 0 && errno == EAGAIN)) wrong("misaligned RWF_NOWAIT O_DIRECT write returned %zd (%s), expected EAGAIN", r, r < 0 ? strerror(errno) : "done");
  return 0;
}
