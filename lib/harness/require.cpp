#include "lib/harness/require.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "lib/btrfs/copies.hpp"
#include "lib/btrfs/fsinfo.hpp"
#include "lib/io/iopath.hpp"
#include "lib/io/uffd.hpp"
#include "lib/io/uring.hpp"
#include "lib/sys/sys.hpp"

namespace dt {
namespace fs = std::filesystem;

namespace {

// A scratch file for probing what files under `dir` really get; removed again.
class ProbeFile {
 public:
  ProbeFile(const fs::path& dir, const char* name) : path_(dir / name) {
    fs::create_directories(dir);
    fd_ = open_or_throw(path_, O_RDWR | O_CREAT | O_TRUNC);
  }
  ~ProbeFile() {
    fd_.reset();
    std::error_code ec;
    fs::remove(path_, ec);
  }
  int fd() const { return fd_.get(); }

 private:
  fs::path path_;
  Fd fd_;
};

std::string need_btrfs(const fs::path& dir) {
  const std::string type = mount_info_for(dir).fstype;
  return type == "btrfs" ? "" : fmt::format("needs btrfs; {} is on {}", dir.string(), type);
}

std::string need_kprobes() {
  const std::string root = ensure_tracefs();
  if (root.empty()) return "needs kprobe events, and tracefs cannot be mounted";
  if (::access((root + "/kprobe_events").c_str(), W_OK) != 0)
    return fmt::format("needs kprobe events; {}/kprobe_events is missing (CONFIG_KPROBE_EVENTS)", root);
  return {};
}

std::string need_copies(const fs::path& dir) {
  CopyReader reader(dir);
  if (reader.min_data_copies() >= 2 || reader.data_has_parity()) return {};
  return fmt::format("needs a data profile with copies or parity; {} has {}: run with --profile raid1 (or dup, "
                     "raid1c3, raid1c4, raid10, raid5, raid6)",
                     dir.string(), reader.data_profile());
}

std::string need_datasum(const fs::path& dir) {
  ProbeFile probe(dir / "datasum", ".require-datasum");
  return data_checksummed(probe.fd()) ? "" : "needs data checksums, and files here get none (nodatasum or nodatacow mount?)";
}

std::string need_nodatasum(const fs::path& dir) {
  ProbeFile probe(nocow_dir(dir), ".require-nodatasum");
  return data_checksummed(probe.fd()) ? "needs NOCOW files without checksums, and chattr +C files here still get them"
                                      : "";
}

std::string need_compression(const fs::path& dir) {
  ProbeFile probe(dir, ".require-compression");
  if (::fsetxattr(probe.fd(), "btrfs.compression", "zstd", 4, 0) == 0) return {};
  return fmt::format("needs compression; setting btrfs.compression=zstd failed: {}", std::strerror(errno));
}

std::string need_reflink(const fs::path& dir) {
  ProbeFile src(dir, ".require-reflink-src"), dst(dir, ".require-reflink-dst");
  file_clone_range r{.src_fd = static_cast<int64_t>(src.fd()), .src_offset = 0, .src_length = 0, .dest_offset = 0};
  if (::ioctl(dst.fd(), FICLONERANGE, &r) == 0) return {};
  return fmt::format("needs reflink (FICLONERANGE): {}", std::strerror(errno));
}

}  // namespace

const char* need_name(Need n) {
  switch (n) {
    case Need::IoUring: return "io_uring";
    case Need::Userfaultfd: return "userfaultfd";
    case Need::Kprobes: return "kprobes";
    case Need::Btrfs: return "btrfs";
    case Need::DataCopies: return "data copies";
    case Need::Datasum: return "datasum";
    case Need::Nodatasum: return "nodatasum";
    case Need::Compression: return "compression";
    case Need::Reflink: return "reflink";
  }
  return "?";
}

std::string describe_needs(const std::vector<Need>& needs) {
  std::string s = "root, O_DIRECT";
  for (Need n : needs) s += std::string(", ") + need_name(n);
  return s;
}

std::string unmet_need(Need n, const fs::path& dir) {
  switch (n) {
    case Need::IoUring: {
      std::string why = io_uring_unavailable_reason();
      return why.empty() ? why : why + "; enable it with sysctl kernel.io_uring_disabled=0";
    }
    case Need::Userfaultfd: return userfaultfd_unavailable_reason();
    case Need::Kprobes: return need_kprobes();
    case Need::Btrfs: return need_btrfs(dir);
    case Need::DataCopies: return need_btrfs(dir).empty() ? need_copies(dir) : need_btrfs(dir);
    case Need::Datasum: return need_datasum(dir);
    case Need::Nodatasum: return need_btrfs(dir).empty() ? need_nodatasum(dir) : need_btrfs(dir);
    case Need::Compression: return need_btrfs(dir).empty() ? need_compression(dir) : need_btrfs(dir);
    case Need::Reflink: return need_reflink(dir);
  }
  return "unknown requirement";
}

std::string unmet_needs(const CaseInfo& c, const fs::path& dir) {
  for (Need n : c.needs)
    if (std::string why = unmet_need(n, dir); !why.empty()) return why;
  return {};
}

}  // namespace dt
