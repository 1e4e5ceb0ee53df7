/* The short direct write the fault-in path makes: an O_DIRECT write whose
 * buffer's second page is PROT_NONE transfers the first page, cannot fault
 * the second in, and falls back to buffered for it. Stock 6.1 writes the
 * first block and returns 4096 or EFAULT (the latter is the known stock bug
 * "written dropped when the buffered fallback fails", catalogue G): both are
 * accepted; what must hold is the file afterwards. */
#include "probe.h"

/* Overwrite inside a 16 KiB file: block 1 must be the new data, blocks 0, 2,
 * 3 the old, and the file must read back and fsync cleanly. */
static __attribute__((unused)) void short_overwrite(int nocow) {
  const char *name = nocow ? "short-nocow" : "short-csum";
  int fd = new_file(name, nocow, 0);
  unsigned char *old = abuf(4 * BS);
  fill(old, 4 * BS, 1);
  write_all(fd, old, 4 * BS, 0, "initial write");
  sync_fd(fd);
  close(fd);
  fd = open(name, O_RDWR | O_DIRECT);
  if (fd < 0) setup_fail(name);
  unsigned char *buf = pages(2, 1, 2);
  ssize_t r = pwrite(fd, buf, 2 * BS, BS);
  if (!(r == BS || (r < 0 && errno == EFAULT)))
    wrong("%s: short O_DIRECT write returned %zd (%s), expected 4096 or EFAULT", name, r, r < 0 ? strerror(errno) : "-");
  if (fsync(fd)) wrong("%s: fsync after the short write: %s", name, strerror(errno));
  close(fd);
  unsigned char *want = abuf(4 * BS);
  memcpy(want, old, 4 * BS);
  memcpy(want + BS, buf, BS);
  expect_data(name, 0, 4 * BS, want, "after a short overwrite");
  drop_caches();
  expect_data(name, 0, 4 * BS, want, "after a short overwrite and drop_caches");
  if (size_of(open(name, O_RDONLY)) != 4 * BS) wrong("%s: size changed by an overwrite", name);
}

/* Append at EOF (4 KiB file): the size must end at the last block written. */
static __attribute__((unused)) void short_append(void) {
  int fd = new_file("short-append", 0, 0);
  unsigned char *old = abuf(BS);
  fill(old, BS, 2);
  write_all(fd, old, BS, 0, "initial write");
  sync_fd(fd);
  close(fd);
  fd = open("short-append", O_RDWR | O_DIRECT);
  unsigned char *buf = pages(2, 1, 2);
  ssize_t r = pwrite(fd, buf, 2 * BS, BS);
  if (!(r == BS || (r < 0 && errno == EFAULT)))
    wrong("short append returned %zd (%s), expected 4096 or EFAULT", r, r < 0 ? strerror(errno) : "-");
  off_t s = size_of(fd);
  if (s != 2 * BS) wrong("short append: i_size %lld, expected %d (one block written)", (long long)s, 2 * BS);
  if (fsync(fd)) wrong("short append: fsync: %s", strerror(errno));
  close(fd);
  unsigned char *want = abuf(2 * BS);
  memcpy(want, old, BS);
  memcpy(want + BS, buf, BS);
  expect_data("short-append", 0, 2 * BS, want, "after a short append");
}

/* A write past EOF that transfers nothing (first page PROT_NONE) must leave
 * the size alone. */
static __attribute__((unused)) void empty_write_past_eof(void) {
  int fd = new_file("empty-past-eof", 0, O_DIRECT);
  unsigned char *buf = pages(1, 0, 1);
  ssize_t r = pwrite(fd, buf, BS, 2 * BS);
  if (r != -1 || errno != EFAULT) wrong("write from a PROT_NONE buffer returned %zd (%s), expected EFAULT", r, r < 0 ? strerror(errno) : "-");
  off_t s = size_of(fd);
  if (s != 0) wrong("a write past EOF that wrote nothing left i_size %lld, expected 0", (long long)s);
  close(fd);
}
