#include "lib/btrfs/subvol.hpp"

#include <fcntl.h>
#include <linux/btrfs.h>
#include <sys/ioctl.h>

#include <cstring>

#include "lib/sys/sys.hpp"

namespace dt {
namespace fs = std::filesystem;

namespace {
template <size_t N>
void set_name(char (&dst)[N], const fs::path& p) {
  const std::string name = p.filename().string();
  if (name.empty() || name.size() >= N) throw SetupError("bad subvolume name '" + p.string() + "'");
  std::memset(dst, 0, N);
  std::memcpy(dst, name.data(), name.size());
}
}  // namespace

void create_subvolume(const fs::path& path) {
  Fd parent = open_or_throw(path.parent_path(), O_RDONLY | O_DIRECTORY);
  btrfs_ioctl_vol_args args{};
  set_name(args.name, path);
  if (::ioctl(parent.get(), BTRFS_IOC_SUBVOL_CREATE, &args) != 0) throw_errno("BTRFS_IOC_SUBVOL_CREATE " + path.string());
}

void snapshot_subvolume(const fs::path& src, const fs::path& dst, bool readonly) {
  Fd source = open_or_throw(src, O_RDONLY | O_DIRECTORY);
  Fd parent = open_or_throw(dst.parent_path(), O_RDONLY | O_DIRECTORY);
  btrfs_ioctl_vol_args_v2 args{};
  args.fd = source.get();
  if (readonly) args.flags |= BTRFS_SUBVOL_RDONLY;
  set_name(args.name, dst);
  if (::ioctl(parent.get(), BTRFS_IOC_SNAP_CREATE_V2, &args) != 0)
    throw_errno("BTRFS_IOC_SNAP_CREATE_V2 " + src.string() + " -> " + dst.string());
}

void delete_subvolume(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return;
  Fd parent = open_or_throw(path.parent_path(), O_RDONLY | O_DIRECTORY);
  btrfs_ioctl_vol_args args{};
  set_name(args.name, path);
  if (::ioctl(parent.get(), BTRFS_IOC_SNAP_DESTROY, &args) != 0) throw_errno("BTRFS_IOC_SNAP_DESTROY " + path.string());
}

}  // namespace dt
