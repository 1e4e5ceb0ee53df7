#include "lib/io/uring.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "lib/io/pattern.hpp"
#include "lib/sys/sys.hpp"

namespace dt {

Ring::Ring(unsigned entries) {
  int rc = io_uring_queue_init(entries, &ring_, 0);
  if (rc < 0) throw_errno("io_uring_queue_init", -rc);
  probe_ = io_uring_get_probe_ring(&ring_);
}

Ring::~Ring() {
  if (probe_) io_uring_free_probe(probe_);
  io_uring_queue_exit(&ring_);
}

bool Ring::supports(int opcode) const { return probe_ && io_uring_opcode_supported(probe_, opcode); }

int Ring::run_one(const std::function<void(io_uring_sqe*)>& prep) {
  int res = 0;
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (!sqe) throw std::runtime_error("io_uring: no free SQE");
  prep(sqe);
  submit_and_reap(1, [&](uint64_t, int r) { res = r; });
  return res;
}

void Ring::submit_and_reap(unsigned n, const std::function<void(uint64_t, int)>& on_cqe) {
  int rc = io_uring_submit(&ring_);
  if (rc < 0) throw_errno("io_uring_submit", -rc);
  for (unsigned done = 0; done < n; ++done) {
    io_uring_cqe* cqe = nullptr;
    rc = io_uring_wait_cqe(&ring_, &cqe);
    if (rc == -EINTR) {
      --done;
      continue;
    }
    if (rc < 0) throw_errno("io_uring_wait_cqe", -rc);
    uint64_t ud = cqe->user_data;
    int res = cqe->res;
    io_uring_cqe_seen(&ring_, cqe);
    on_cqe(ud, res);
  }
}

std::string io_uring_unavailable_reason() {
  std::string disabled = trim(read_file_or_empty("/proc/sys/kernel/io_uring_disabled"));
  if (disabled == "2") return "io_uring is disabled (kernel.io_uring_disabled=2)";
  io_uring ring;
  int rc = io_uring_queue_init(2, &ring, 0);
  if (rc < 0) return fmt::format("io_uring_setup failed: {}", std::strerror(-rc));
  io_uring_queue_exit(&ring);
  return {};
}

int64_t engine_pwrite(const std::string& engine, Ring* ring, int fd, const void* buf, uint64_t len, uint64_t off) {
  if (engine == "uring")
    return ring->run_one([&](io_uring_sqe* s) { io_uring_prep_write(s, fd, buf, static_cast<unsigned>(len), off); });
  ssize_t n = ::pwrite(fd, buf, len, static_cast<off_t>(off));
  return n < 0 ? -static_cast<int64_t>(errno) : n;
}

int64_t engine_pread(const std::string& engine, Ring* ring, int fd, void* buf, uint64_t len, uint64_t off) {
  if (engine == "uring")
    return ring->run_one([&](io_uring_sqe* s) { io_uring_prep_read(s, fd, buf, static_cast<unsigned>(len), off); });
  ssize_t n = ::pread(fd, buf, len, static_cast<off_t>(off));
  return n < 0 ? -static_cast<int64_t>(errno) : n;
}

}  // namespace dt
