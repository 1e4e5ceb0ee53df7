/* Live when a NOCOW direct overwrite fails with ENOSPC on a full filesystem (it needs no data space). */
#include "probe.h"
int main(int argc, char **argv) {
  probe_init(argc, argv);
  int fd = new_file("nocow-keep", 1, O_DIRECT);
  unsigned char *b = abuf(1 << 20);
  fill(b, 1 << 20, 27);
  write_all(fd, b, 1 << 20, 0, "nocow data");
  sync_fd(fd);
  /* Fill the data space. */
  int f = new_file("filler", 0, O_DIRECT);
  off_t o = 0;
  for (;;) {
    ssize_t r = pwrite(f, b, 1 << 20, o);
    if (r <= 0) break;
    o += r;
  }
  for (int bs = 64 * BS; bs >= BS; bs /= 2)
    while (pwrite(f, b, bs, o) == bs) o += bs;
  fsync(f);
  sync();
  printf("filled %lld MiB\n", (long long)(o >> 20));
  fill(b, 16 * BS, 28);
  ssize_t r = pwrite(fd, b, 16 * BS, 4 * BS);
  if (r != 16 * BS) wrong("NOCOW direct overwrite on a full filesystem returned %zd (%s)", r, r < 0 ? strerror(errno) : "-");
  return 0;
}
