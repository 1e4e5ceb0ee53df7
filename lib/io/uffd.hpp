// An anonymous region registered with userfaultfd for missing-page faults.
// Unserved, any access to it (including the kernel's, during a read into it)
// blocks until the process dies: a dependable in-kernel hang. Served, each
// page is filled by a callback: a dependable way to make the kernel see
// exactly the bytes a test chooses, at the moment it faults.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <thread>

#include "lib/sys/sys.hpp"

namespace dt {

class UserfaultRegion {
 public:
  explicit UserfaultRegion(size_t len);
  ~UserfaultRegion();
  UserfaultRegion(const UserfaultRegion&) = delete;
  UserfaultRegion& operator=(const UserfaultRegion&) = delete;

  char* data() const { return map_.data(); }
  size_t size() const { return map_.size(); }

  // Starts a thread that resolves each fault with fill(page_index, page).
  void serve(std::function<void(size_t, char*)> fill);

 private:
  Mapping map_;
  Fd uffd_;
  Fd stop_read_, stop_write_;
  std::thread server_;
};

// Can this process use userfaultfd(2)? "" if yes, else why not.
std::string userfaultfd_unavailable_reason();

}  // namespace dt
