#include "lib/btrfs/fsinfo.hpp"

#include <gtest/gtest.h>

namespace dt {
namespace {

const char* kMountinfo =
    "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard\n"
    "40 22 0:39 / /mnt/test rw,relatime shared:2 - btrfs /dev/loop1 rw,space_cache=v2,subvolid=5,subvol=/\n"
    "41 22 0:40 / /mnt/with\\040space ro,relatime - tmpfs tmpfs ro,size=1024k\n"
    "42 40 0:41 / /mnt/test/ro ro,nodev - btrfs /dev/loop2 ro,nodatasum\n";

TEST(Mountinfo, LongestPrefixWins) {
  MountInfo m = parse_mountinfo_for(kMountinfo, "/mnt/test/dir/file");
  EXPECT_EQ("btrfs", m.fstype);
  EXPECT_EQ("/mnt/test", m.mount_point);
  EXPECT_EQ(0u, m.major);
  EXPECT_EQ(39u, m.minor);
  EXPECT_FALSE(m.read_only());
  EXPECT_TRUE(m.has_option("space_cache"));
  EXPECT_FALSE(m.has_option("nodatasum"));
}

TEST(Mountinfo, PrefixMustEndAtAPathComponent) {
  EXPECT_EQ("ext4", parse_mountinfo_for(kMountinfo, "/mnt/testing").fstype);
}

TEST(Mountinfo, EscapesReadOnlyAndOptions) {
  MountInfo m = parse_mountinfo_for(kMountinfo, "/mnt/with space/x");
  EXPECT_EQ("tmpfs", m.fstype);
  EXPECT_TRUE(m.read_only());
  MountInfo n = parse_mountinfo_for(kMountinfo, "/mnt/test/ro");
  EXPECT_TRUE(n.has_option("nodatasum"));
  EXPECT_TRUE(n.read_only());
}

TEST(Mountinfo, MountPointsBelowADirectoryUnescaped) {
  EXPECT_EQ(mount_points_below(kMountinfo, "/mnt/test"), (std::vector<std::string>{"/mnt/test", "/mnt/test/ro"}));
  EXPECT_EQ(mount_points_below(kMountinfo, "/mnt/with space"), (std::vector<std::string>{"/mnt/with space"}));
  EXPECT_TRUE(mount_points_below(kMountinfo, "/mnt/tes").empty());  // a prefix ends at a path component
  EXPECT_TRUE(mount_points_below(kMountinfo, "/var/tmp").empty());
}

}  // namespace
}  // namespace dt
