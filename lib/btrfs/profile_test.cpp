#include "lib/btrfs/profile.hpp"

#include <gtest/gtest.h>
#include <linux/btrfs.h>
#include <linux/btrfs_tree.h>

namespace dt {

TEST(Profile, NameAndFlagsRoundTrip) {
  for (const auto& p : profile_specs()) {
    EXPECT_EQ(profile_flags(p.name), p.flags) << p.name;
    EXPECT_EQ(profile_name(p.flags), p.name) << p.name;
    // A block group's type carries its kind next to the profile bit.
    EXPECT_EQ(profile_name(p.flags | BTRFS_BLOCK_GROUP_DATA), p.name) << p.name;
    EXPECT_NE(p.flags, 0u) << p.name;
  }
}

TEST(Profile, SingleIsNoProfileBit) {
  EXPECT_EQ(profile_name(BTRFS_BLOCK_GROUP_DATA), "single");
  EXPECT_EQ(profile_name(0), "single");
  EXPECT_EQ(profile_flags("single"), BTRFS_AVAIL_ALLOC_BIT_SINGLE);
}

TEST(Profile, UnknownName) {
  EXPECT_EQ(profile_flags("raid7"), 0u);
  EXPECT_EQ(find_profile("raid7"), nullptr);
}

TEST(Profile, EveryKernelProfileBitIsInTheTable) {
  uint64_t all = 0;
  for (const auto& p : profile_specs()) all |= p.flags;
  EXPECT_EQ(all & BTRFS_BLOCK_GROUP_PROFILE_MASK, static_cast<uint64_t>(BTRFS_BLOCK_GROUP_PROFILE_MASK));
}

}  // namespace dt
