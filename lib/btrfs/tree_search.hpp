// Reading btrfs trees from user space (BTRFS_IOC_TREE_SEARCH_V2, root only):
// the one loop that pages through a key range, for every caller that needs
// items the kernel does not otherwise report (chunks, file extent items).
#pragma once

#include <cstdint>
#include <functional>
#include <span>

namespace dt {

struct TreeItem {
  uint64_t objectid = 0;
  uint32_t type = 0;
  uint64_t offset = 0;
  std::span<const uint8_t> data;
};

// Calls visit() for every item of tree `tree_id` (0: the subvolume `fd` is
// in) whose key is (objectid, type, any offset), in key order. Throws
// std::system_error when the kernel refuses (EPERM without CAP_SYS_ADMIN,
// ENOTTY off btrfs); `what` names the tree in that message.
void tree_search(int fd, uint64_t tree_id, uint64_t objectid, uint32_t type, const char* what,
                 const std::function<void(const TreeItem&)>& visit);

}  // namespace dt
