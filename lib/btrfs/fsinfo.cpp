#include "lib/btrfs/fsinfo.hpp"

#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/btrfs_tree.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <sstream>

#include "lib/btrfs/profile.hpp"
#include "lib/io/pattern.hpp"
#include "lib/sys/sys.hpp"

namespace dt {
namespace fs = std::filesystem;

namespace {
// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool list_has(const std::string& list, const std::string& opt) {
  for (const auto& o : split(list, ','))
    if (o == opt || o.rfind(opt + "=", 0) == 0) return true;
  return false;
}

}  // namespace

bool MountInfo::has_option(const std::string& opt) const {
  return list_has(options, opt) || list_has(super_options, opt);
}

bool MountInfo::read_only() const { return list_has(options, "ro") || list_has(super_options, "ro"); }

std::vector<std::string> mount_points_below(const std::string& mountinfo, const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& line : split(mountinfo, '\n')) {
    auto f = split(line, ' ');
    if (f.size() < 5) continue;
    std::string point = unescape(f[4]);
    if (point == dir || point.starts_with(dir + "/")) out.push_back(std::move(point));
  }
  return out;
}

MountInfo parse_mountinfo_for(const std::string& mountinfo, const std::string& path) {
  MountInfo best;
  size_t best_len = 0;
  bool found = false;
  std::istringstream in(mountinfo);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string id, parent, devnum, root, mp, opts, tok;
    if (!(ls >> id >> parent >> devnum >> root >> mp >> opts)) continue;
    while (ls >> tok && tok != "-") {
    }
    MountInfo mi;
    if (!(ls >> mi.fstype >> mi.source >> mi.super_options)) continue;
    mi.mount_point = unescape(mp);
    mi.options = opts;
    std::sscanf(devnum.c_str(), "%u:%u", &mi.major, &mi.minor);
    const std::string& m = mi.mount_point;
    bool covers = path == m || m == "/" ||
                  (path.size() > m.size() && path.compare(0, m.size(), m) == 0 && path[m.size()] == '/');
    // Later lines win on equal length: they are mounted on top.
    if (covers && m.size() >= best_len) {
      best = mi;
      best_len = m.size();
      found = true;
    }
  }
  (void)found;
  return best;
}

MountInfo mount_info_for(const fs::path& path) {
  std::error_code ec;
  fs::path real = fs::canonical(path, ec);
  return parse_mountinfo_for(read_file("/proc/self/mountinfo"), (ec ? path : real).string());
}

void set_nocow(const fs::path& dir) {
  Fd fd = open_or_throw(dir, O_RDONLY | O_DIRECTORY);
  int flags = 0;
  if (::ioctl(fd.get(), FS_IOC_GETFLAGS, &flags) != 0) throw_errno("FS_IOC_GETFLAGS " + dir.string());
  flags |= FS_NOCOW_FL;
  if (::ioctl(fd.get(), FS_IOC_SETFLAGS, &flags) != 0) throw_errno("chattr +C " + dir.string());
}

bool has_nocow(int fd) {
  int flags = 0;
  if (::ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) return false;
  return flags & FS_NOCOW_FL;
}

fs::path nocow_dir(const fs::path& parent) {
  fs::path dir = parent / "nocow";
  fs::create_directories(dir);
  set_nocow(dir);
  return dir;
}

void forget_btrfs_device(const std::string& dev) {
  if (Fd ctl(::open("/dev/btrfs-control", O_RDWR | O_CLOEXEC)); ctl) {
    btrfs_ioctl_vol_args va{};
    std::snprintf(va.name, sizeof va.name, "%s", dev.c_str());
    ::ioctl(ctl.get(), BTRFS_IOC_FORGET_DEV, &va);
  }
}

bool data_checksummed(int fd) {
  if (has_nocow(fd)) return false;
  const MountInfo mi = mount_info_for(fs::read_symlink(fmt::format("/proc/self/fd/{}", fd)));
  return mi.fstype == "btrfs" && !mi.has_option("nodatasum") && !mi.has_option("nodatacow");
}

std::string btrfs_profile(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return {};
  btrfs_ioctl_space_args probe{};
  if (::ioctl(fd.get(), BTRFS_IOC_SPACE_INFO, &probe) != 0) return {};
  size_t n = probe.total_spaces;
  auto buf = std::make_unique<char[]>(sizeof(btrfs_ioctl_space_args) + n * sizeof(btrfs_ioctl_space_info));
  auto* args = reinterpret_cast<btrfs_ioctl_space_args*>(buf.get());
  args->space_slots = n;
  args->total_spaces = 0;
  if (::ioctl(fd.get(), BTRFS_IOC_SPACE_INFO, args) != 0) return {};
  std::string data, meta, sys;
  for (uint64_t i = 0; i < args->total_spaces; ++i) {
    uint64_t f = args->spaces[i].flags;
    std::string p = profile_name(f);
    if ((f & BTRFS_BLOCK_GROUP_DATA) && (f & BTRFS_BLOCK_GROUP_METADATA)) data = meta = p + " (mixed)";
    else if (f & BTRFS_BLOCK_GROUP_DATA) data = p;
    else if (f & BTRFS_BLOCK_GROUP_METADATA) meta = p;
    else if (f & BTRFS_BLOCK_GROUP_SYSTEM) sys = p;
  }
  return fmt::format("data {}, metadata {}, system {}", data, meta, sys);
}

std::string btrfs_progs_version() {
  std::string out;
  try {
    if (run_command({"mkfs.btrfs", "--version"}, &out) != 0) return "unknown";
  } catch (const std::exception&) {
    return "unknown";
  }
  return trim(out.substr(0, out.find('\n')));
}

void validate_test_dir(const fs::path& dir, const std::vector<std::string>& allow_fs) {
  std::error_code ec;
  if (!fs::exists(dir, ec))
    throw SetupError(fmt::format("test dir {} does not exist; create it on a btrfs mount or omit --test-dir to "
                                 "let diotorture make a loop btrfs",
                                 dir.string()));
  if (!fs::is_directory(dir, ec))
    throw SetupError(fmt::format("test dir {} is not a directory; pass the directory of a btrfs mount", dir.string()));
  MountInfo mi = mount_info_for(dir);
  bool allowed = mi.fstype == "btrfs";
  for (const auto& a : allow_fs) allowed = allowed || a == mi.fstype;
  if (!allowed) {
    throw SetupError(fmt::format("test dir {} is on {} ({}), not btrfs; use a btrfs mount, or pass --allow-fs {} "
                                 "to run on it as a control",
                                 dir.string(), mi.fstype, mi.mount_point, mi.fstype));
  }
  if (mi.read_only())
    throw SetupError(fmt::format("test dir {} is on a read-only mount ({}); remount it read-write (mount -o "
                                 "remount,rw {})",
                                 dir.string(), mi.mount_point, mi.mount_point));
  if (::access(dir.c_str(), W_OK) != 0)
    throw SetupError(fmt::format("test dir {} is not writable: {}; fix its permissions", dir.string(),
                                 std::strerror(errno)));
  fs::path probe = dir / fmt::format(".diotorture-odirect-probe-{}", ::getpid());
  int fd = ::open(probe.c_str(), O_RDWR | O_CREAT | O_EXCL | O_DIRECT | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    if (err == ENOSPC)
      throw SetupError(fmt::format("test dir {} ({}) is full (ENOSPC creating a file); free space there or use "
                                   "another directory",
                                   dir.string(), mi.fstype));
    throw SetupError(fmt::format("test dir {} ({}) does not support O_DIRECT (open: {}); use a filesystem that does",
                                 dir.string(), mi.fstype, errno_name(err)));
  }
  AlignedBuffer buf(4096);
  std::memset(buf.data(), 0, 4096);
  ssize_t n = ::pwrite(fd, buf.data(), 4096, 0);
  int err = errno;
  ::close(fd);
  ::unlink(probe.c_str());
  if (n < 0 && err == ENOSPC)
    throw SetupError(fmt::format("test dir {} ({}) is full (ENOSPC on a 4K write); free space there or use another "
                                 "directory",
                                 dir.string(), mi.fstype));
  if (n != 4096)
    throw SetupError(fmt::format("test dir {} ({}) rejects an aligned O_DIRECT write ({}); use a filesystem that "
                                 "supports O_DIRECT",
                                 dir.string(), mi.fstype, n < 0 ? errno_name(err) : "short write"));
}

}  // namespace dt
