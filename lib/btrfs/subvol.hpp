// Subvolumes and snapshots through the btrfs ioctls (not btrfs-progs), for
// cases whose bug needs shared extents or a snapshot taken mid-test.
#pragma once

#include <filesystem>

namespace dt {

// Creates the subvolume `path` (its parent must exist, on btrfs).
void create_subvolume(const std::filesystem::path& path);
// Snapshots the subvolume `src` as `dst` (BTRFS_IOC_SNAP_CREATE_V2).
void snapshot_subvolume(const std::filesystem::path& src, const std::filesystem::path& dst, bool readonly = false);
// Deletes the subvolume or snapshot `path` with everything in it; no error if absent.
void delete_subvolume(const std::filesystem::path& path);

}  // namespace dt
