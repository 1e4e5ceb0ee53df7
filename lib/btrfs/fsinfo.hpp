// Facts about the filesystem a directory lives on, and the checks that refuse
// a --test-dir the tool cannot honestly test on.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace dt {

struct MountInfo {
  std::string mount_point;
  std::string fstype;
  std::string source;
  std::string options;        // per-mount options
  std::string super_options;  // filesystem options
  unsigned major = 0, minor = 0;
  bool has_option(const std::string& opt) const;  // in either list, exact or "opt=..."
  bool read_only() const;
};

// Pure: the mount that holds `path` (longest mount-point prefix) in a
// /proc/self/mountinfo text.
MountInfo parse_mountinfo_for(const std::string& mountinfo, const std::string& path);
MountInfo mount_info_for(const std::filesystem::path& path);
// Pure: the mount points at or below `dir` in a /proc/self/mountinfo text.
std::vector<std::string> mount_points_below(const std::string& mountinfo, const std::string& dir);

void set_nocow(const std::filesystem::path& dir);
bool has_nocow(int fd);
// <parent>/nocow, created if needed and marked chattr +C, so that the files
// made in it are NOCOW (on btrfs: no data checksums, overwritten in place).
std::filesystem::path nocow_dir(const std::filesystem::path& parent);
// The one definition of "do this file's data blocks carry checksums?": only
// on btrfs, never for a NOCOW file, and not on a nodatasum or nodatacow mount.
bool data_checksummed(int fd);

// Tells btrfs to drop its record of an unmounted device (BTRFS_IOC_FORGET_DEV;
// "" = every unmounted one), so a later filesystem on the same device, or a
// copy of it with the same fsid, is not taken for this one. Best effort.
void forget_btrfs_device(const std::string& dev);

// "data raid1, metadata dup, system dup" via BTRFS_IOC_SPACE_INFO; "" if not btrfs.
std::string btrfs_profile(const std::filesystem::path& dir);
std::string btrfs_progs_version();

// Throws SetupError (exit 2) naming the problem and the fix if `dir` cannot
// be used: missing, not a directory, not btrfs (unless its type is in
// allow_fs), read-only, or without O_DIRECT support.
void validate_test_dir(const std::filesystem::path& dir, const std::vector<std::string>& allow_fs);

}  // namespace dt
