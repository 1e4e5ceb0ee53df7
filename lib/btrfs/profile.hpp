// The btrfs block-group profiles ("single", "dup", "raid1", ...): their
// names, their bits in a block group's flags, and how the tool makes a
// filesystem of each. The one table every other place reads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dt {

struct ProfileSpec {
  std::string name;           // "raid1"
  // Its BTRFS_BLOCK_GROUP_* bit; single has none in a block group and is
  // BTRFS_AVAIL_ALLOC_BIT_SINGLE, the bit a balance convert filter takes.
  uint64_t flags = 0;
  unsigned loop_devices = 1;  // devices self-provisioning uses
  unsigned min_devices = 1;   // fewest devices mkfs.btrfs accepts
  std::string metadata;       // metadata profile that goes with it
};
const std::vector<ProfileSpec>& profile_specs();
const ProfileSpec* find_profile(const std::string& name);

// The profile of a block group's (or chunk's) type flags: "single" when none
// of the profile bits is set.
std::string profile_name(uint64_t flags);
// The bit of a profile by name (see ProfileSpec::flags); 0 if unknown.
uint64_t profile_flags(const std::string& name);

}  // namespace dt
