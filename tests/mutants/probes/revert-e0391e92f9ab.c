/* Live when an O_DSYNC direct write that fails leaves the task's journal_info
 * stub set: the next transaction of the task dereferences it (oops). */
#include "probe.h"
int main(int argc, char **argv) {
  probe_init(argc, argv);
  int fd = new_file("dsync-fault", 0, O_DIRECT | O_DSYNC);
  unsigned char *ok = abuf(BS);
  fill(ok, BS, 6);
  write_all(fd, ok, BS, 0, "initial write");
  unsigned char *none = pages(1, 0, 1);
  ssize_t r = pwrite(fd, none, BS, 0);
  if (r != -1 || errno != EFAULT) wrong("O_DSYNC write from a PROT_NONE buffer returned %zd", r);
  /* Anything that starts a transaction in this task. */
  for (int i = 0; i < 8; i++) {
    char n[32];
    snprintf(n, sizeof n, "after-%d", i);
    int f = open(n, O_CREAT | O_RDWR, 0644);
    if (f < 0) wrong("create after the failed O_DSYNC write: %s", strerror(errno));
    write_all(f, ok, BS, 0, "buffered write");
    if (fsync(f)) wrong("fsync after the failed O_DSYNC write: %s", strerror(errno));
    close(f);
  }
  if (ftruncate(fd, 3 * BS)) wrong("ftruncate: %s", strerror(errno));
  sync_fd(fd);
  return 0;
}
