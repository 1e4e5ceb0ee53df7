#include "lib/btrfs/scratch.hpp"

#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/loop.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <thread>

#include "lib/btrfs/fsinfo.hpp"
#include "lib/sys/interrupt.hpp"

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
      record_ = Owned({"loop", dev, image.string()});
      return;
    }
    if (errno == EINVAL) {
      // The backing filesystem cannot do direct I/O: go buffered.
      cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
      if (::ioctl(fd.get(), LOOP_CONFIGURE, &cfg) == 0) {
        fd_ = std::move(fd);
        path_ = dev;
        record_ = Owned({"loop", dev, image.string()});
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
  record_.release();
}


namespace {
// blkid -p's KEY=value pairs for a device; empty if it holds nothing blkid
// recognises; {"?": output} if blkid found signatures it cannot tell apart.
std::map<std::string, std::string> probe_signatures(const std::string& dev) {
  std::string out;
  int rc = run_command({"blkid", "-p", "-o", "export", dev}, &out);
  if (rc == 2) return {};  // blkid: nothing recognised
  if (rc == 127) throw SetupError("blkid not found; install util-linux (apt-get install -y util-linux)");
  if (rc != 0) return {{"?", trim(out)}};
  std::map<std::string, std::string> kv;
  for (const auto& line : split(out, '\n')) {
    auto eq = line.find('=');
    if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  if (kv.empty()) kv["?"] = trim(out);
  return kv;
}

std::string describe_signatures(std::map<std::string, std::string> kv) {
  if (kv.empty()) return "";
  if (kv.count("?")) return fmt::format("signatures blkid cannot tell apart ({})", kv["?"]);
  std::string what;
  if (kv.count("PTTYPE")) what = fmt::format("a {} partition table", kv["PTTYPE"]);
  if (kv.count("TYPE")) {
    const std::string& t = kv["TYPE"];
    std::string s = (t == "swap" ? "swap space" : fmt::format("a {} {}", t, kv.count("USAGE") && kv["USAGE"] != "filesystem" ? kv["USAGE"] : "filesystem"));
    std::string ids;
    if (kv.count("LABEL")) ids += "LABEL=" + kv["LABEL"];
    if (kv.count("UUID")) ids += (ids.empty() ? "" : " ") + std::string("UUID=") + kv["UUID"];
    if (!ids.empty()) s += " (" + ids + ")";
    what += (what.empty() ? "" : " and ") + s;
  }
  if (!what.empty()) return what;
  std::string all;
  for (const auto& [k, v] : kv) all += (all.empty() ? "" : " ") + k + "=" + v;
  return fmt::format("signatures ({})", all);
}

// Only a whole-device btrfs that carries our label, and nothing else.
bool formatted_by_us(const std::map<std::string, std::string>& kv) {
  auto get = [&](const char* k) {
    auto it = kv.find(k);
    return it == kv.end() ? std::string() : it->second;
  };
  return get("TYPE") == "btrfs" && get("LABEL") == kScratchLabel && !kv.count("PTTYPE") && !kv.count("?");
}
}  // namespace

std::string probe_device_contents(const std::string& dev) { return describe_signatures(probe_signatures(dev)); }

namespace {
// Why `dev` (rdev) is busy, for the error message.
std::string who_holds(const std::string& dev, dev_t rdev) {
  const std::string sys = fmt::format("/sys/dev/block/{}:{}", major(rdev), minor(rdev));
  std::error_code ec;
  const std::string name = fs::canonical(sys, ec).filename().string();
  std::string mi = read_file_or_empty("/proc/self/mountinfo");
  for (const auto& line : split(mi, '\n')) {
    auto f = split(line, ' ');
    auto dash = std::find(f.begin(), f.end(), "-");
    if (dash == f.end() || dash + 2 >= f.end() || f.size() < 5) continue;
    std::string src = *(dash + 2);
    if (src == dev || (!name.empty() && src == "/dev/" + name)) return "it is mounted on " + f[4];
  }
  for (const auto& d : fs::directory_iterator("/sys/fs/btrfs", ec))
    if (!name.empty() && fs::exists(d.path() / "devices" / name))
      return fmt::format("it is a device of the mounted btrfs {}", d.path().filename().string());
  for (const auto& line : split(read_file_or_empty("/proc/swaps"), '\n'))
    if (line.rfind(dev + " ", 0) == 0 || (!name.empty() && line.rfind("/dev/" + name + " ", 0) == 0))
      return "it is in use as swap";
  std::string holders;
  for (const auto& h : fs::directory_iterator(sys + "/holders", ec)) holders += " " + h.path().filename().string();
  if (!holders.empty()) return "it is held by" + holders;
  return "another user has it open exclusively";
}
}  // namespace

void check_scratch_device(const std::string& dev, bool force_mkfs, const std::string& source,
                          const std::string& force_flag) {
  struct stat st {};
  if (::stat(dev.c_str(), &st) != 0)
    throw SetupError(fmt::format("scratch device {} (from {}) does not exist; name existing block devices", dev, source));
  if (!S_ISBLK(st.st_mode))
    throw SetupError(fmt::format("scratch device {} (from {}) is not a block device; name whole block devices "
                                 "(attach an image file with losetup first)", dev, source));
  // O_EXCL on a block device fails with EBUSY while it is mounted, a member of
  // a mounted btrfs, swap, or held by another driver. In use is refused even
  // with --force-mkfs: formatting it would destroy live data.
  auto refuse_busy = [&](const std::string& d, dev_t rdev) {
    Fd fd(::open(d.c_str(), O_RDONLY | O_EXCL | O_CLOEXEC));
    if (!fd && errno == EBUSY)
      throw SetupError(fmt::format("refusing scratch device {} (from {}): {}; unmount it or take it out of the pool "
                                   "(--force-mkfs never formats a device in use)",
                                   d, source, who_holds(d, rdev)));
    if (!fd) throw SetupError(fmt::format("cannot open scratch device {} ({})", d, std::strerror(errno)));
  };
  refuse_busy(dev, st.st_rdev);
  // A whole disk can be claimed while one of its partitions is mounted.
  std::error_code ec;
  const std::string sys = fmt::format("/sys/dev/block/{}:{}", major(st.st_rdev), minor(st.st_rdev));
  for (const auto& p : fs::directory_iterator(sys, ec)) {
    if (!fs::exists(p.path() / "partition")) continue;
    const std::string part = "/dev/" + p.path().filename().string();
    struct stat pst {};
    if (::stat(part.c_str(), &pst) == 0) refuse_busy(part, pst.st_rdev);
  }
  if (force_mkfs) return;
  const auto signatures = probe_signatures(dev);
  if (!signatures.empty() && !formatted_by_us(signatures))
    throw SetupError(fmt::format("refusing scratch device {} (from {}): it holds {}; pass {} to erase it, "
                                 "or name a blank device",
                                 dev, source, describe_signatures(signatures), force_flag));
}

ScratchBlockDevice::ScratchBlockDevice(const fs::path& base_dir, uint64_t size) {
  std::string tmpl = (base_dir / "diotorture.XXXXXX").string();
  if (!::mkdtemp(tmpl.data()))
    throw SetupError(fmt::format("cannot create a scratch directory under {} ({}); set TMPDIR to a writable disk",
                                 base_dir.string(), std::strerror(errno)));
  dir_ = fs::canonical(tmpl);  // the record names it without symlinks (reclaim checks that)
  dir_record_ = Owned({"dir", dir_.string()});
  image_ = dir_ / "device.img";
  image_record_ = Owned({"image", image_.string()});
  try {
    Fd img = open_or_throw(image_, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (::ftruncate(img.get(), static_cast<off_t>(size)) != 0) throw_errno("ftruncate " + image_.string());
    loop_ = std::make_unique<LoopDevice>(image_);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    throw;
  }
}

ScratchBlockDevice::~ScratchBlockDevice() {
  loop_.reset();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

ScratchFs::ScratchFs(const ScratchOptions& opts) : opts_(opts) {
  const ProfileSpec* spec = opts.profile.empty() ? nullptr : find_profile(opts.profile);
  if (!opts.profile.empty() && !spec) throw SetupError(fmt::format("unknown profile '{}'", opts.profile));
  if (!opts.pool.empty()) {
    // Refuse before touching anything: one bad device stops the whole run.
    if (spec && opts.pool.size() < spec->min_devices)
      throw SetupError(fmt::format("profile {} needs at least {} devices but the scratch pool ({}) has {}; add devices",
                                   spec->name, spec->min_devices, opts.pool_source, opts.pool.size()));
    if (opts.pool.size() < opts.min_devices)
      throw SetupError(fmt::format("{} devices are needed but the scratch pool ({}) has {}; add devices",
                                   opts.min_devices, opts.pool_source, opts.pool.size()));
    // The same device twice (by name or through a symlink) would make
    // mkfs.btrfs print a page of errors.
    std::map<dev_t, std::string> seen;
    for (const auto& d : opts.pool) {
      struct stat st {};
      if (::stat(d.c_str(), &st) != 0 || !S_ISBLK(st.st_mode)) continue;  // check_scratch_device says why
      auto [it, fresh] = seen.emplace(st.st_rdev, d);
      if (!fresh)
        throw SetupError(fmt::format("the scratch pool ({}) names the same device twice ({} and {}); name each "
                                     "device once",
                                     opts.pool_source, it->second, d));
    }
    for (const auto& d : opts.pool) check_scratch_device(d, opts.force_mkfs, opts.pool_source);
  }
  if (!opts.mount_point.empty()) {
    // Mounting over something would hide it, and a path-based unmount
    // would later take away the user's own filesystem.
    std::error_code ec;
    const fs::path canon = fs::canonical(opts.mount_point, ec);
    if (ec || !fs::is_directory(canon))
      throw SetupError(fmt::format("scratch mount point {} (from {}) is not a directory; create it or name another",
                                   opts.mount_point.string(), opts.mount_point_source));
    const MountInfo there = mount_info_for(canon);
    if (there.mount_point == canon.string())
      throw SetupError(fmt::format("scratch mount point {} (from {}) already has {} ({}) mounted on it; unmount it "
                                   "or name an empty directory",
                                   canon.string(), opts.mount_point_source, there.source, there.fstype));
  }
  std::string tmpl = (opts.base_dir / "diotorture.XXXXXX").string();
  if (!::mkdtemp(tmpl.data()))
    throw SetupError(fmt::format("cannot create a scratch directory under {} ({}); set TMPDIR to a writable disk",
                                 opts.base_dir.string(), std::strerror(errno)));
  dir_ = fs::canonical(tmpl);  // the record names it without symlinks (reclaim checks that)
  dir_record_ = Owned({"dir", dir_.string()});
  try {
    mnt_ = opts.mount_point.empty() ? dir_ / "mnt" : opts.mount_point;
    if (opts.mount_point.empty()) fs::create_directory(mnt_);
    if (opts.pool.empty()) {
      const unsigned n = std::max(spec ? spec->loop_devices : 1u, opts.min_devices);
      for (unsigned i = 0; i < n; ++i) {
        images_.push_back(dir_ / fmt::format("scratch{}.img", i));
        image_records_.emplace_back(OwnedItem{"image", images_.back().string()});
        Fd img = open_or_throw(images_.back(), O_RDWR | O_CREAT | O_EXCL, 0600);
        if (::ftruncate(img.get(), static_cast<off_t>(opts.image_size)) != 0)
          throw_errno("ftruncate " + images_.back().string());
      }
      for (const auto& img : images_) {
        throw_if_interrupted();
        loops_.push_back(std::make_unique<LoopDevice>(img));
        devices_.push_back(loops_.back()->path());
      }
    } else {
      devices_ = opts.pool;
    }
    // Our own loop devices are blank and may be forced; a pool device only
    // when the user said so (mkfs.btrfs then repeats the check itself).
    std::vector<std::string> argv = {"mkfs.btrfs", "-q", "-L", kScratchLabel};
    // A pool device that holds our own earlier filesystem needs -f as well;
    // check_scratch_device has let through nothing else.
    if (opts.pool.empty() || opts.force_mkfs || std::any_of(opts.pool.begin(), opts.pool.end(), [](const auto& d) {
          return formatted_by_us(probe_signatures(d));
        }))
      argv.push_back("-f");
    if (spec) argv.insert(argv.end(), {"-d", spec->name, "-m", spec->metadata});
    argv.insert(argv.end(), opts.mkfs_args.begin(), opts.mkfs_args.end());
    argv.insert(argv.end(), devices_.begin(), devices_.end());
    std::string out;
    throw_if_interrupted();
    int rc = run_command(argv, &out);
    if (rc == 127) throw SetupError("mkfs.btrfs not found; install btrfs-progs (apt-get install -y btrfs-progs)");
    if (rc != 0) throw SetupError(fmt::format("mkfs.btrfs {} failed ({}): {}", fmt::join(devices_, " "), rc, trim(out)));
    throw_if_interrupted();
    mount();
  } catch (...) {
    teardown();
    throw;
  }
}

ScratchFs::~ScratchFs() { teardown(); }

void ScratchFs::mount() {
  // Name every device, so the mount does not depend on a udev scan.
  std::string mopts;
  for (size_t i = 1; i < devices_.size(); ++i) mopts += (mopts.empty() ? "" : ",") + ("device=" + devices_[i]);
  if (!opts_.mount_options.empty()) mopts += (mopts.empty() ? "" : ",") + opts_.mount_options;
  mount_record_ = Owned({"mount", mnt_.string(), devices_[0]});
  if (::mount(devices_[0].c_str(), mnt_.c_str(), "btrfs", 0, mopts.empty() ? nullptr : mopts.c_str()) != 0) {
    const int err = errno;
    mount_record_.release();
    throw SetupError(fmt::format("mount {} on {} failed: {}; check --mount-options", devices_[0], mnt_.string(),
                                 std::strerror(err)));
  }
  mounted_ = true;
  mount_id_ = mount_id_of(mnt_);
  mount_record_.update({"mount", mnt_.string(), devices_[0], mount_id_});
}

void ScratchFs::while_unmounted(const std::function<void()>& fn) {
  if (mounted_) {
    // Only our own mount (by mount ID), as in teardown.
    if (!our_mount_is_there()) throw SetupError(fmt::format("{} is no longer our mount; not unmounting it", mnt_.string()));
    if (::umount2(mnt_.c_str(), 0) != 0) throw_errno("umount " + mnt_.string());
    mounted_ = false;
    mount_record_.release();
  }
  // umount returns while the filesystem may still be alive: files that an
  // exited process's io_uring ring held are released asynchronously. Wait
  // (up to 10 s) until btrfs lets go of every device.
  for (int i = 0; i < 100; ++i) {
    bool busy = false;
    for (const auto& d : devices_)
      if (Fd probe(::open(d.c_str(), O_RDONLY | O_EXCL | O_CLOEXEC)); !probe) busy = busy || errno == EBUSY;
    if (!busy) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  try {
    fn();
  } catch (...) {
    mount();
    throw;
  }
  mount();
}

ScratchOptions ScratchOptions::with(const FsSpec& spec) const {
  ScratchOptions o = *this;
  o.mkfs_args.insert(o.mkfs_args.end(), spec.mkfs_args.begin(), spec.mkfs_args.end());
  if (!spec.mount_options.empty())
    o.mount_options = o.mount_options.empty() ? spec.mount_options : o.mount_options + "," + spec.mount_options;
  if (spec.size) o.image_size = spec.size;
  if (!spec.profile.empty()) o.profile = spec.profile;
  o.min_devices = std::max(o.min_devices, spec.min_devices);
  return o;
}

std::string FsSpec::describe() const {
  std::vector<std::string> parts;
  if (!mkfs_args.empty()) parts.push_back(fmt::format("mkfs {}", fmt::join(mkfs_args, " ")));
  if (!mount_options.empty()) parts.push_back("-o " + mount_options);
  if (size) parts.push_back(format_size(size));
  if (!profile.empty()) parts.push_back(profile);
  if (min_devices) parts.push_back(fmt::format("{}+ devices", min_devices));
  return parts.empty() ? "the run's filesystem" : fmt::format("{}", fmt::join(parts, ", "));
}



std::string ScratchFs::describe() const {
  const std::string prof = opts_.profile.empty() ? "" : opts_.profile + " ";
  std::string opts = opts_.mount_options.empty() ? "" : ", -o " + opts_.mount_options;
  if (!opts_.mkfs_args.empty()) opts += fmt::format(", mkfs {}", fmt::join(opts_.mkfs_args, " "));
  if (!opts_.pool.empty())
    return fmt::format("{}btrfs on scratch pool {} from {} at {}{}", prof, fmt::join(devices_, " "),
                       opts_.pool_source, mnt_.string(), opts);
  return fmt::format("{}loop btrfs {} on {} ({} sparse image{} in {}{})", prof, fmt::join(devices_, " "),
                     mnt_.string(), format_size(opts_.image_size), images_.size() == 1 ? "" : "s each",
                     dir_.string(), opts);
}

bool ScratchFs::our_mount_is_there() const {
  if (mount_id_) return mount_id_of(mnt_) == mount_id_;
  // No mount IDs (kernel before 5.8): the mount at that exact path must be
  // of our first device.
  const MountInfo mi = mount_info_for(mnt_);
  return mi.mount_point == fs::weakly_canonical(mnt_).string() && mi.source == devices_.front();
}

void ScratchFs::abandon() {
  if (mounted_ && our_mount_is_there()) ::umount2(mnt_.c_str(), MNT_DETACH);
  mounted_ = false;
  mount_record_.release();
  teardown();
}

void ScratchFs::teardown() {
  if (mounted_) {
    // A just-killed child may still hold files for a moment. Whatever is at
    // the path must still be our mount each time: never unmount another.
    for (int i = 0; i < 50 && our_mount_is_there() && ::umount2(mnt_.c_str(), 0) != 0 && errno == EBUSY; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (our_mount_is_there()) ::umount2(mnt_.c_str(), MNT_DETACH);
    mounted_ = false;
    mount_record_.release();
  }
  // mkfs registered the devices with btrfs; forget them so a later
  // filesystem on the same loop numbers is not confused with this one.
  for (const auto& d : devices_) forget_btrfs_device(d);
  devices_.clear();
  loops_.clear();
  std::error_code ec;
  if (!dir_.empty()) {
    // The loop devices keep the unlinked images alive until autoclear releases them.
    for (const auto& img : images_) fs::remove(img, ec);
    images_.clear();
    image_records_.clear();
    if (opts_.mount_point.empty()) fs::remove(mnt_, ec);
    fs::remove(dir_, ec);
    dir_.clear();
    dir_record_.release();
  }
}

}  // namespace dt
