// A throw-away btrfs on one or more devices, in one of two ways:
// - self-provisioned: sparse image files -> loop devices (LOOP_CTL_GET_FREE +
//   LOOP_CONFIGURE, no losetup) -> mkfs.btrfs with the profile -> mount on a
//   private directory;
// - a scratch device pool the user named (fstests SCRATCH_DEV_POOL): each
//   device is checked first, and one that is in use is always refused, one
//   that holds a filesystem or partition table unless force_mkfs is set.
// The destructor undoes every step that was done, in reverse, also when the
// constructor failed half-way or an interrupt unwinds the stack. Only devices
// this object attached to images it created, or that the user named as
// scratch, are ever formatted.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lib/btrfs/profile.hpp"
#include "lib/sys/owned.hpp"
#include "lib/sys/sys.hpp"

namespace dt {

// A btrfs block group profile the tool can provision.

// A scratch filesystem made a particular way, on top of the run's options: a
// case that declares one gets it freshly made for it (on loop images or the
// user's scratch pool); on a --test-dir run such a case does not run.
struct FsSpec {
  std::vector<std::string> mkfs_args;  // added to mkfs.btrfs, e.g. {"--csum", "xxhash"}
  std::string mount_options;           // e.g. "compress-force=zstd"
  uint64_t size = 0;                   // bytes per device; 0: the run's --scratch-size
  std::string profile;                 // data profile; "": the run's
  unsigned min_devices = 0;            // more devices than the profile alone needs
  bool empty() const { return mkfs_args.empty() && mount_options.empty() && !size && profile.empty() && !min_devices; }
  bool operator==(const FsSpec&) const = default;
  std::string describe() const;  // "mkfs --csum xxhash, -o compress-force=zstd, 1G, raid1"
};

struct ScratchOptions {
  uint64_t image_size = 4ull << 30;  // per loop image
  std::filesystem::path base_dir = "/var/tmp";
  std::vector<std::string> mkfs_args;  // extra arguments, e.g. {"-O", "^no-holes"}
  std::string mount_options;
  std::string profile;                    // "" = mkfs.btrfs defaults on one device
  std::vector<std::string> pool;          // user-named scratch devices; empty = loop images
  std::string pool_source;                // "--scratch-dev-pool", "local.config", ...
  bool force_mkfs = false;                // format pool devices that hold a filesystem
  std::filesystem::path mount_point;      // SCRATCH_MNT; empty = a private directory
  std::string mount_point_source;         // "--scratch-mnt", "local.config", ...
  unsigned min_devices = 0;               // loop images: at least this many, whatever the profile needs

  // These options with `spec` laid over them (mkfs arguments and mount
  // options added, size, profile and device count replaced).
  ScratchOptions with(const FsSpec& spec) const;
};

// The label mkfs.btrfs gives every filesystem this tool formats: a pool
// device that carries it needs no --force-mkfs on the next run.
inline constexpr const char* kScratchLabel = "diotorture";

// What a block device holds, from a low-level probe (blkid -p): "" if blank,
// else e.g. "a btrfs filesystem (LABEL=data UUID=...)".
std::string probe_device_contents(const std::string& dev);

// Throws SetupError naming the device and what was found unless it is a
// block device that nothing has open exclusively (mounted, btrfs member,
// swap, holders) and, without force_mkfs, that holds no filesystem other than
// one this tool formatted (its own label). `force_flag` is the flag the
// message suggests (--force-mkfs for the pool, --force-device for bench).
void check_scratch_device(const std::string& dev, bool force_mkfs, const std::string& source,
                          const std::string& force_flag = "--force-mkfs");

class LoopDevice {
 public:
  // Attaches `image` to a free loop device with autoclear set, so the kernel
  // detaches it by itself once the last user goes, even if we are killed.
  explicit LoopDevice(const std::filesystem::path& image);
  ~LoopDevice();
  LoopDevice(const LoopDevice&) = delete;
  LoopDevice& operator=(const LoopDevice&) = delete;
  const std::string& path() const { return path_; }
  void detach();

 private:
  Fd fd_;
  std::string path_;
  Owned record_;
};

// A blank loop device on a sparse image of its own, for raw-device
// measurements: the same loop settings as the scratch filesystem's devices.
class ScratchBlockDevice {
 public:
  ScratchBlockDevice(const std::filesystem::path& base_dir, uint64_t size);
  ~ScratchBlockDevice();
  ScratchBlockDevice(const ScratchBlockDevice&) = delete;
  ScratchBlockDevice& operator=(const ScratchBlockDevice&) = delete;
  const std::string& path() const { return loop_->path(); }

 private:
  std::filesystem::path dir_, image_;
  Owned dir_record_, image_record_;
  std::unique_ptr<LoopDevice> loop_;
};

class ScratchFs {
 public:
  explicit ScratchFs(const ScratchOptions& opts);
  ~ScratchFs();
  ScratchFs(const ScratchFs&) = delete;
  ScratchFs& operator=(const ScratchFs&) = delete;

  const std::filesystem::path& mount_point() const { return mnt_; }
  const std::vector<std::string>& devices() const { return devices_; }
  // Loop images can be made afresh after a stuck task pins the old mount; a
  // user's device pool cannot.
  bool can_reprovision() const { return opts_.pool.empty(); }
  // Tasks stuck in D state pin the mount: detach it lazily and let the kernel
  // release the loop devices whenever they die. Nothing is waited for.
  void abandon();
  std::string describe() const;
  // Runs fn with the filesystem unmounted (for `btrfs check`), then mounts it
  // again with the same options. Throws SetupError if it cannot remount.
  void while_unmounted(const std::function<void()>& fn);

 private:
  void mount();
  void teardown();
  // The mount at mnt_ is the one we made (same mount ID): never unmount
  // something else that happens to be mounted at the same path.
  bool our_mount_is_there() const;

  ScratchOptions opts_;
  std::filesystem::path dir_;  // private temporary directory
  std::vector<std::filesystem::path> images_;
  std::filesystem::path mnt_;
  std::vector<std::unique_ptr<LoopDevice>> loops_;
  std::vector<std::string> devices_;
  bool mounted_ = false;
  uint64_t mount_id_ = 0;
  Owned dir_record_, mount_record_;
  std::vector<Owned> image_records_;
};

}  // namespace dt
