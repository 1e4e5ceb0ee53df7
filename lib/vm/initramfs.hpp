// Building the initramfs `diotorture vm` boots: a newc cpio archive written
// directly (no cpio tool), holding busybox, this binary, mkfs.btrfs and the
// shared libraries each needs, and the kernel modules btrfs and virtio need,
// in dependency order. The parsers of ldd and `modprobe --show-depends`
// output are pure and unit-tested.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace dt {

// A newc ("070701") cpio archive in memory.
class CpioWriter {
 public:
  void add_dir(const std::string& path, uint32_t mode = 0755);
  void add_file(const std::string& path, const std::string& data, uint32_t mode = 0644);
  // Appends the trailer and returns the archive.
  std::string finish();

 private:
  void entry(const std::string& path, uint32_t mode, const std::string& data);
  std::string out_;
  uint32_t ino_ = 1;
};

// Pure: the absolute library paths in `ldd` output ("libc.so.6 => /lib/... (0x...)"
// and the interpreter line "/lib64/ld-linux-x86-64.so.2 (0x...)").
std::vector<std::string> parse_ldd(const std::string& text);

// Pure: the module files of `modprobe --show-depends` output, in load order
// ("insmod /path/x.ko" lines; "builtin x" lines name nothing to load).
std::vector<std::string> parse_show_depends(const std::string& text);

struct InitramfsSpec {
  std::vector<std::string> binaries;  // absolute paths; each goes to the same path inside
  // Host path -> path inside, for binaries whose host path the guest hides
  // (anything under /tmp or /var/tmp, which the guest mounts tmpfs on).
  std::vector<std::pair<std::string, std::string>> placed_binaries;
  std::filesystem::path modules_dir;  // .../lib/modules/VERSION of the guest kernel ("" = all built in)
  std::vector<std::string> modules;   // module names to load, with their dependencies
  std::string init_script;
  std::vector<std::pair<std::string, std::string>> extra_files;  // path, contents
};

// Builds the archive; throws SetupError naming what is missing.
std::string build_initramfs(const InitramfsSpec& spec, std::vector<std::string>* module_order);

// The release string a bzImage carries in its setup header
// ("6.1.0-50-amd64 (debian-kernel@...) #1 SMP ..."), first word only; "" if
// the file is not a bzImage.
std::string bzimage_release(const std::filesystem::path& kernel);

}  // namespace dt
