#include "lib/btrfs/tree_search.hpp"

#include <linux/btrfs.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

namespace dt {

void tree_search(int fd, uint64_t tree_id, uint64_t objectid, uint32_t type, const char* what,
                 const std::function<void(const TreeItem&)>& visit) {
  constexpr size_t kBuf = 64 * 1024;
  std::vector<uint64_t> storage((sizeof(btrfs_ioctl_search_args_v2) + kBuf) / 8 + 1);
  auto* args = reinterpret_cast<btrfs_ioctl_search_args_v2*>(storage.data());
  uint64_t min_offset = 0;
  for (;;) {
    std::memset(&args->key, 0, sizeof args->key);
    args->key.tree_id = tree_id;
    args->key.min_objectid = args->key.max_objectid = objectid;
    args->key.min_type = args->key.max_type = type;
    args->key.min_offset = min_offset;
    args->key.max_offset = UINT64_MAX;
    args->key.max_transid = UINT64_MAX;
    args->key.nr_items = UINT32_MAX;
    args->buf_size = kBuf;
    if (::ioctl(fd, BTRFS_IOC_TREE_SEARCH_V2, args) != 0)
      throw std::system_error(errno, std::generic_category(), std::string("BTRFS_IOC_TREE_SEARCH_V2 (") + what + ")");
    if (args->key.nr_items == 0) return;
    size_t pos = 0;
    uint64_t last = 0;
    for (uint32_t i = 0; i < args->key.nr_items; ++i) {
      btrfs_ioctl_search_header h;
      std::memcpy(&h, args->buf + pos, sizeof h);
      pos += sizeof h;
      if (h.objectid == objectid && h.type == type)
        visit({h.objectid, h.type, h.offset, {reinterpret_cast<const uint8_t*>(args->buf) + pos, h.len}});
      pos += h.len;
      last = h.offset;
    }
    if (last == UINT64_MAX) return;
    min_offset = last + 1;
  }
}

}  // namespace dt
