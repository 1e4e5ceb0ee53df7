/* Live when a size-extending direct write leaves i_size unchanged. */
#include "probe.h"
int main(int argc, char **argv) {
  probe_init(argc, argv);
  int fd = new_file("append", 0, O_DIRECT);
  unsigned char *b = abuf(4 * BS);
  fill(b, 4 * BS, 11);
  write_all(fd, b, 2 * BS, 0, "append to an empty file");
  if (size_of(fd) != 2 * BS) wrong("i_size %lld after a direct append of 8192 to an empty file", (long long)size_of(fd));
  write_all(fd, b + 2 * BS, 2 * BS, 2 * BS, "second append");
  if (size_of(fd) != 4 * BS) wrong("i_size %lld after appending to 16384", (long long)size_of(fd));
  expect_data("append", 0, 4 * BS, b, "after direct appends");
  return 0;
}
