/* Tries to show a page cache page faulted in between iomap's invalidation and
 * btrfs's extent lock staying stale after a direct write. A race: a mapper
 * thread keeps reading the page while direct writes change the block. */
#include "probe.h"
#include <pthread.h>
static volatile int stop;
static unsigned char *map;
static void *mapper(void *a) {
  (void)a;
  unsigned s = 0;
  while (!stop) s += map[0];
  return (void *)(long)s;
}
int main(int argc, char **argv) {
  probe_init(argc, argv);
  int fd = new_file("pc-race", 0, O_DIRECT);
  unsigned char *b = abuf(BS);
  fill(b, BS, 29);
  write_all(fd, b, BS, 0, "data");
  sync_fd(fd);
  map = mmap(NULL, BS, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) setup_fail("mmap");
  pthread_t t;
  pthread_create(&t, NULL, mapper, NULL);
  for (int i = 0; i < 2000; i++) {
    memset(b, i & 0xff, BS);
    write_all(fd, b, BS, 0, "direct write");
    int bfd = open("pc-race", O_RDONLY);
    unsigned char c;
    if (pread(bfd, &c, 1, 0) != 1) setup_fail("pread");
    close(bfd);
    if (c != (i & 0xff)) { stop = 1; pthread_join(t, NULL); wrong("buffered read after direct write %d sees 0x%02x, expected 0x%02x", i, c, i & 0xff); }
  }
  stop = 1;
  pthread_join(t, NULL);
  return 0;
}
