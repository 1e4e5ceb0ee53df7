/* Live when an io_uring direct read of one 64 KiB extent returns short (79d3d1d12e6f). */
#include "nowait_uring.h"
int main(int argc, char **argv) {
  probe_init(argc, argv);
  int fd = new_file("one", 0, O_DIRECT);
  unsigned char *b = abuf(16 * BS);
  fill(b, 16 * BS, 31);
  write_all(fd, b, 16 * BS, 0, "one extent");
  sync_fd(fd);
  close(fd);
  uring_read_all("one", 16 * BS, b);
  return 0;
}
