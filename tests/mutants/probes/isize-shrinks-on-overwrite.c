/* Live when a direct overwrite inside the file changes i_size. */
#include "probe.h"
int main(int argc, char **argv) {
  probe_init(argc, argv);
  int fd = new_file("overwrite", 0, O_DIRECT);
  unsigned char *b = abuf(8 * BS);
  fill(b, 8 * BS, 12);
  write_all(fd, b, 8 * BS, 0, "32 KiB");
  write_all(fd, b, BS, 0, "overwrite block 0");
  if (size_of(fd) != 8 * BS) wrong("i_size %lld after overwriting block 0 of a 32 KiB file", (long long)size_of(fd));
  expect_data("overwrite", 0, 8 * BS, b, "after an overwrite");
  return 0;
}
