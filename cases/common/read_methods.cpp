#include "cases/common/read_methods.hpp"

#include <sys/uio.h>

#include <cerrno>

namespace dt {

void touch_pages(const Mapping& m, const std::string& how, uint64_t seed) {
  const size_t ps = page_size(), pages = m.size() / ps;
  for (size_t p = 0; p < pages; ++p) {
    bool t = how == "all" || (how == "first" && p == 0) || (how == "half" && p < pages / 2) ||
             (how == "alternate" && p % 2 == 0) || (how == "random" && ((seed >> (p % 64)) ^ p) % 3 == 0);
    if (t) m.data()[p * ps] = 1;
  }
}

int64_t read_by_method(const std::string& method, Ring& ring, int fd, char* buf, size_t len, uint64_t off) {
  iovec iov{buf, len};
  if (method == "preadv2-nowait") {
    ssize_t n = ::preadv2(fd, &iov, 1, static_cast<off_t>(off), RWF_NOWAIT);
    return n < 0 ? -errno : n;
  }
  if (method == "read-fixed") {
    int rc = io_uring_register_buffers(ring.get(), &iov, 1);
    if (rc < 0) return rc;
    int res = ring.run_one([&](io_uring_sqe* s) { io_uring_prep_read_fixed(s, fd, buf, len, off, 0); });
    io_uring_unregister_buffers(ring.get());
    return res;
  }
  return ring.run_one([&](io_uring_sqe* s) {
    if (method == "read") io_uring_prep_read(s, fd, buf, len, off);
    else io_uring_prep_readv(s, fd, &iov, 1, off);
    if (method == "readv-async") s->flags |= IOSQE_ASYNC;
  });
}

}  // namespace dt
