#include "lib/btrfs/scratch.hpp"

#include <gtest/gtest.h>

namespace dt {
namespace {

TEST(FsSpec, LaidOverTheRunsOptions) {
  ScratchOptions run;
  run.image_size = 4ull << 30;
  run.mkfs_args = {"-O", "^no-holes"};
  run.mount_options = "noatime";
  run.profile = "raid1";
  const FsSpec spec{.mkfs_args = {"--csum", "xxhash"}, .mount_options = "compress-force=zstd", .size = 1ull << 30,
                    .min_devices = 3};
  const ScratchOptions o = run.with(spec);
  EXPECT_EQ((std::vector<std::string>{"-O", "^no-holes", "--csum", "xxhash"}), o.mkfs_args);
  EXPECT_EQ("noatime,compress-force=zstd", o.mount_options);
  EXPECT_EQ(1ull << 30, o.image_size);
  EXPECT_EQ("raid1", o.profile);  // the run's, since the spec names none
  EXPECT_EQ(3u, o.min_devices);
  EXPECT_EQ("mkfs --csum xxhash, -o compress-force=zstd, 1G, 3+ devices", spec.describe());
  EXPECT_TRUE(FsSpec{}.empty());
  EXPECT_EQ("the run's filesystem", FsSpec{}.describe());
  EXPECT_EQ(run.with(FsSpec{}).mkfs_args, run.mkfs_args);
}

}  // namespace
}  // namespace dt
