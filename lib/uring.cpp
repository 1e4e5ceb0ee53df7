#include "lib/uring.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "lib/context.hpp"
#include "lib/pattern.hpp"
#include "lib/sys.hpp"

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

bool skip_if_unsupported(Context& ctx, const std::string& what, int err) {
  if (err != EINVAL && err != EOPNOTSUPP && err != ENOSYS) return false;
  ctx.skip(what, fmt::format("the kernel answered {}", errno_name(err)));
  return true;
}

}  // namespace dt
