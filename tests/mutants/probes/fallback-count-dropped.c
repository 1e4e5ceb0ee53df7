/* Live when a misaligned O_DIRECT write (buffered fallback) returns the wrong count. */
#include "probe.h"
int main(int argc, char **argv) {
  probe_init(argc, argv);
  int fd = new_file("misaligned", 0, O_DIRECT);
  unsigned char *b = abuf(4 * BS);
  fill(b, 4 * BS, 24);
  write_all(fd, b, 4 * BS, 0, "data");
  ssize_t r = pwrite(fd, b, BS, 512);
  if (r != BS) wrong("O_DIRECT write of 4096 at offset 512 returned %zd", r);
  unsigned char *want = abuf(4 * BS);
  memcpy(want, b, 4 * BS);
  memcpy(want + 512, b, BS);
  expect_data("misaligned", 0, 4 * BS, want, "after a misaligned O_DIRECT write");
  return 0;
}
