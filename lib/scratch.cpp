#include "lib/scratch.hpp"

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "lib/interrupt.hpp"

namespace dt {
namespace fs = std::filesystem;

LoopDevice::LoopDevice(const fs::path& image) {
  Fd backing = open_or_throw(image, O_RDWR);
  Fd ctl(::open("/dev/loop-control", O_RDWR | O_CLOEXEC));
  if (!ctl) throw SetupError(fmt::format("cannot open /dev/loop-control ({}); load the loop module or pass --test-dir",
                                         std::strerror(errno)));
  // Another process may take the device between GET_FREE and CONFIGURE: retry.
  for (int attempt = 0; attempt < 16; ++attempt) {
    int n = ::ioctl(ctl.get(), LOOP_CTL_GET_FREE);
    if (n < 0) throw_errno("LOOP_CTL_GET_FREE");
    std::string dev = fmt::format("/dev/loop{}", n);
    Fd fd(::open(dev.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd) throw_errno("open " + dev);
    loop_config cfg{};
    cfg.fd = static_cast<uint32_t>(backing.get());
    cfg.block_size = 4096;
    cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO;
    std::snprintf(reinterpret_cast<char*>(cfg.info.lo_file_name), LO_NAME_SIZE, "%s", image.c_str());
    if (::ioctl(fd.get(), LOOP_CONFIGURE, &cfg) == 0) {
      fd_ = std::move(fd);
      path_ = dev;
      return;
    }
    if (errno == EINVAL) {
      // The backing filesystem cannot do direct I/O: go buffered.
      cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
      if (::ioctl(fd.get(), LOOP_CONFIGURE, &cfg) == 0) {
        fd_ = std::move(fd);
        path_ = dev;
        return;
      }
    }
    if (errno != EBUSY) throw_errno("LOOP_CONFIGURE " + dev);
  }
  throw SetupError("no free loop device after 16 attempts; detach unused ones (losetup -D) and retry");
}

LoopDevice::~LoopDevice() { detach(); }

void LoopDevice::detach() {
  if (!fd_) return;
  // EBUSY while a lazily-detached mount still holds it: autoclear finishes later.
  ::ioctl(fd_.get(), LOOP_CLR_FD, 0);
  fd_.reset();
}

ScratchFs::ScratchFs(const ScratchOptions& opts) : opts_(opts) {
  std::string tmpl = (opts.base_dir / "diotorture.XXXXXX").string();
  if (!::mkdtemp(tmpl.data()))
    throw SetupError(fmt::format("cannot create a scratch directory under {} ({}); set TMPDIR to a writable disk",
                                 opts.base_dir.string(), std::strerror(errno)));
  dir_ = tmpl;
  try {
    image_ = dir_ / "scratch.img";
    mnt_ = dir_ / "mnt";
    fs::create_directory(mnt_);
    {
      Fd img = open_or_throw(image_, O_RDWR | O_CREAT | O_EXCL, 0600);
      if (::ftruncate(img.get(), static_cast<off_t>(opts.image_size)) != 0) throw_errno("ftruncate " + image_.string());
    }
    throw_if_interrupted();
    loop_ = std::make_unique<LoopDevice>(image_);
    std::vector<std::string> argv = {"mkfs.btrfs", "-f", "-q", "-L", "diotorture"};
    argv.insert(argv.end(), opts.mkfs_args.begin(), opts.mkfs_args.end());
    argv.push_back(loop_->path());
    std::string out;
    int rc = run_command(argv, &out);
    if (rc == 127) throw SetupError("mkfs.btrfs not found; install btrfs-progs (apt-get install -y btrfs-progs)");
    if (rc != 0) throw SetupError(fmt::format("mkfs.btrfs {} failed ({}): {}", loop_->path(), rc, trim(out)));
    throw_if_interrupted();
    if (::mount(loop_->path().c_str(), mnt_.c_str(), "btrfs", 0,
                opts.mount_options.empty() ? nullptr : opts.mount_options.c_str()) != 0)
      throw SetupError(fmt::format("mount {} on {} failed: {}; check --mount-options", loop_->path(), mnt_.string(),
                                   std::strerror(errno)));
    mounted_ = true;
  } catch (...) {
    teardown();
    throw;
  }
}

ScratchFs::~ScratchFs() { teardown(); }

const std::string& ScratchFs::device() const { return loop_->path(); }

std::string ScratchFs::describe() const {
  return fmt::format("loop btrfs {} on {} ({} sparse image {}{})", loop_ ? loop_->path() : "?", mnt_.string(),
                     format_size(opts_.image_size), image_.string(),
                     opts_.mount_options.empty() ? "" : ", -o " + opts_.mount_options);
}

void ScratchFs::abandon() {
  if (mounted_) {
    ::umount2(mnt_.c_str(), MNT_DETACH);
    mounted_ = false;
  }
  abandoned_ = true;
  teardown();
}

void ScratchFs::teardown() {
  if (mounted_) {
    // A just-killed child may still hold files for a moment.
    for (int i = 0; i < 50 && ::umount2(mnt_.c_str(), 0) != 0 && errno == EBUSY; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (::umount2(mnt_.c_str(), 0) != 0 && errno != EINVAL) ::umount2(mnt_.c_str(), MNT_DETACH);
    mounted_ = false;
  }
  loop_.reset();
  std::error_code ec;
  if (!dir_.empty()) {
    // The loop device keeps the unlinked image alive until autoclear releases it.
    fs::remove(image_, ec);
    fs::remove(mnt_, ec);
    fs::remove(dir_, ec);
    dir_.clear();
  }
}

}  // namespace dt
