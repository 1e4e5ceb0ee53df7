/* Live when concurrent O_APPEND direct writers overwrite each other (shared inode lock kept). */
#include "probe.h"
#include <pthread.h>
enum { WRITERS = 2, EACH = 300 };
static int fds[WRITERS];
static void *writer(void *arg) {
  long w = (long)arg;
  unsigned char *b = abuf(BS);
  for (int i = 0; i < EACH; i++) {
    memset(b, 0, BS);
    snprintf((char *)b, BS, "writer %ld op %d", w, i);
    if (write(fds[w], b, BS) != BS) { printf("append failed: %s\n", strerror(errno)); exit(2); }
  }
  return NULL;
}
int main(int argc, char **argv) {
  probe_init(argc, argv);
  close(new_file("append-race", 0, 0));
  for (int w = 0; w < WRITERS; w++) {
    fds[w] = open("append-race", O_WRONLY | O_APPEND | O_DIRECT);
    if (fds[w] < 0) setup_fail("open");
  }
  pthread_t t[WRITERS];
  for (long w = 0; w < WRITERS; w++) pthread_create(&t[w], NULL, writer, (void *)w);
  for (int w = 0; w < WRITERS; w++) pthread_join(t[w], NULL);
  int fd = open("append-race", O_RDONLY);
  off_t s = size_of(fd);
  if (s != (off_t)WRITERS * EACH * BS) wrong("%d O_APPEND direct writes of 4 KiB left i_size %lld, expected %lld", WRITERS * EACH, (long long)s, (long long)WRITERS * EACH * BS);
  static char seen[WRITERS][EACH];
  char b[BS];
  for (off_t o = 0; o < s; o += BS) {
    long w; int i;
    if (pread(fd, b, BS, o) != BS || sscanf(b, "writer %ld op %d", &w, &i) != 2 || w < 0 || w >= WRITERS || i < 0 || i >= EACH)
      wrong("block at %lld is not one of the appends", (long long)o);
    if (seen[w][i]++) wrong("append %ld/%d is in the file twice", w, i);
  }
  return 0;
}
