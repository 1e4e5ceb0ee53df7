// A throw-away btrfs: sparse image file -> loop device (LOOP_CTL_GET_FREE +
// LOOP_CONFIGURE, no losetup) -> mkfs.btrfs -> mount on a private directory.
// The destructor undoes every step that was done, in reverse, also when the
// constructor failed half-way or an interrupt unwinds the stack. Only devices
// this object attached to images it created are ever formatted.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "lib/sys.hpp"

namespace dt {

struct ScratchOptions {
  uint64_t image_size = 4ull << 30;
  std::filesystem::path base_dir = "/var/tmp";
  std::vector<std::string> mkfs_args;  // e.g. {"-d", "single"}
  std::string mount_options;
};

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
};

class ScratchFs {
 public:
  explicit ScratchFs(const ScratchOptions& opts);
  ~ScratchFs();
  ScratchFs(const ScratchFs&) = delete;
  ScratchFs& operator=(const ScratchFs&) = delete;

  const std::filesystem::path& mount_point() const { return mnt_; }
  const std::string& device() const;
  // Tasks stuck in D state pin the mount: detach it lazily and let the kernel
  // release the loop device whenever they die. Nothing is waited for.
  void abandon();
  std::string describe() const;

 private:
  void teardown();

  ScratchOptions opts_;
  std::filesystem::path dir_;    // private temporary directory
  std::filesystem::path image_;
  std::filesystem::path mnt_;
  std::unique_ptr<LoopDevice> loop_;
  bool mounted_ = false;
  bool abandoned_ = false;
};

}  // namespace dt
