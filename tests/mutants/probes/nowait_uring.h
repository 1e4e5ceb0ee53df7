/* An io_uring O_DIRECT read (io_uring tries it NOWAIT first) into fresh
 * anonymous memory with only its first page faulted in: the read must return
 * every byte asked for (seed 000, generic/678). */
#include "probe.h"
#include <liburing.h>

static void uring_read_all(const char *name, size_t len, const unsigned char *want) {
  struct io_uring ring;
  if (io_uring_queue_init(4, &ring, 0)) setup_fail("io_uring_queue_init");
  for (int round = 0; round < 8; round++) {
    drop_caches();
    int fd = open(name, O_RDONLY | O_DIRECT);
    if (fd < 0) setup_fail(name);
    unsigned char *buf = pages((int)(len / BS), 1, 0);
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    io_uring_prep_read(sqe, fd, buf, (unsigned)len, 0);
    io_uring_submit(&ring);
    struct io_uring_cqe *cqe;
    if (io_uring_wait_cqe(&ring, &cqe)) setup_fail("io_uring_wait_cqe");
    int res = cqe->res;
    io_uring_cqe_seen(&ring, cqe);
    if (res != (int)len) wrong("io_uring O_DIRECT read of %zu bytes returned %d (round %d)", len, res, round);
    if (memcmp(buf, want, len)) wrong("io_uring O_DIRECT read returned wrong data (round %d)", round);
    munmap(buf, len);
    close(fd);
  }
  io_uring_queue_exit(&ring);
}
