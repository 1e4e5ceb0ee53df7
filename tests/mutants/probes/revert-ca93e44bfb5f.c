/* Live when an io_uring direct read across four extents returns short (seed 000). */
#include "nowait_uring.h"
int main(int argc, char **argv) {
  probe_init(argc, argv);
  int fd = new_file("four", 0, O_DIRECT), sp = new_file("spacer", 0, O_DIRECT);
  unsigned char *b = abuf(4 * BS);
  fill(b, 4 * BS, 30);
  for (int i = 0; i < 4; i++) {
    write_all(fd, b + i * BS, BS, i * BS, "one extent");
    sync_fd(fd);
    write_all(sp, b, BS, i * BS, "spacer");
    sync_fd(sp);
  }
  close(fd);
  uring_read_all("four", 4 * BS, b);
  return 0;
}
