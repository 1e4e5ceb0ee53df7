#include "lib/btrfs/profile.hpp"

#include <linux/btrfs.h>
#include <linux/btrfs_tree.h>

namespace dt {

const std::vector<ProfileSpec>& profile_specs() {
  // Loop counts give every profile more than its minimum where that changes
  // the placement (raid10 over 4 devices really stripes; raid5 over 3 rotates
  // parity). Metadata follows the data's redundancy; raid5/6 get raid1/raid1c3
  // metadata as the btrfs documentation recommends.
  static const std::vector<ProfileSpec> specs = {
      {"single", BTRFS_AVAIL_ALLOC_BIT_SINGLE, 1, 1, "dup"},
      {"dup", BTRFS_BLOCK_GROUP_DUP, 1, 1, "dup"},
      {"raid0", BTRFS_BLOCK_GROUP_RAID0, 2, 2, "raid1"},
      {"raid1", BTRFS_BLOCK_GROUP_RAID1, 2, 2, "raid1"},
      {"raid1c3", BTRFS_BLOCK_GROUP_RAID1C3, 3, 3, "raid1c3"},
      {"raid1c4", BTRFS_BLOCK_GROUP_RAID1C4, 4, 4, "raid1c4"},
      {"raid10", BTRFS_BLOCK_GROUP_RAID10, 4, 2, "raid10"},
      {"raid5", BTRFS_BLOCK_GROUP_RAID5, 3, 2, "raid1"},
      {"raid6", BTRFS_BLOCK_GROUP_RAID6, 4, 3, "raid1c3"},
  };
  return specs;
}

const ProfileSpec* find_profile(const std::string& name) {
  for (const auto& p : profile_specs())
    if (p.name == name) return &p;
  return nullptr;
}

std::string profile_name(uint64_t flags) {
  for (const auto& p : profile_specs())
    if (p.flags != BTRFS_AVAIL_ALLOC_BIT_SINGLE && (flags & p.flags)) return p.name;
  return "single";
}

uint64_t profile_flags(const std::string& name) {
  const ProfileSpec* p = find_profile(name);
  return p ? p->flags : 0;
}

}  // namespace dt
