// io_uring: a ring that cleans up, one-shot submission, and the two engines
// the cases are parameterised by. (A case's rule for an io_uring feature the
// kernel lacks is skip_if_unsupported in lib/harness/context.hpp.)
#pragma once

#include <liburing.h>

#include <cstdint>
#include <functional>
#include <string>

namespace dt {

class Ring {
 public:
  explicit Ring(unsigned entries);
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  io_uring* get() { return &ring_; }
  bool supports(int opcode) const;

  // Prepares one SQE with `prep`, submits, waits; returns cqe->res.
  int run_one(const std::function<void(io_uring_sqe*)>& prep);
  // Submits everything queued, then waits for `n` completions, calling
  // on_cqe(user_data, res) for each.
  void submit_and_reap(unsigned n, const std::function<void(uint64_t, int)>& on_cqe);

 private:
  io_uring ring_{};
  io_uring_probe* probe_ = nullptr;
};

// One pwrite/pread of len bytes at off by `engine`: "psync" (pwrite(2)/
// pread(2)) or "uring" (one IORING_OP_WRITE/READ on `ring`), the two
// engines the cases are parameterised by; `ring` is used (and may be null)
// only for "uring". Returns bytes or -errno.
int64_t engine_pwrite(const std::string& engine, Ring* ring, int fd, const void* buf, uint64_t len, uint64_t off);
int64_t engine_pread(const std::string& engine, Ring* ring, int fd, void* buf, uint64_t len, uint64_t off);

// Is io_uring usable here? "" if yes, else why not (kernel.io_uring_disabled, ENOSYS, ...).
std::string io_uring_unavailable_reason();

}  // namespace dt
