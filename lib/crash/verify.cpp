#include "lib/crash/verify.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <set>

#include "lib/btrfs/copies.hpp"
#include "lib/btrfs/fsinfo.hpp"
#include "lib/btrfs/layout.hpp"
#include "lib/crash/expect.hpp"
#include "lib/crash/stamp.hpp"
#include "lib/run/kmsg.hpp"
#include "lib/io/pattern.hpp"
#include "lib/sys/sys.hpp"

namespace dt {
namespace fs = std::filesystem;

std::string device_by_serial(const std::string& serial) {
  std::error_code ec;
  for (const auto& d : fs::directory_iterator("/sys/block", ec)) {
    if (trim(read_file_or_empty(d.path() / "serial")) == serial) return "/dev/" + d.path().filename().string();
  }
  return "";
}

namespace {

constexpr uint64_t kChunk = 1 << 20;

struct FileCheck {
  uint64_t sectors = 0;
};

// Reads [0, size) with O_DIRECT and judges every sector; EIO is localised
// to 4 KiB blocks and reported as what it is.
void check_file_data(const fs::path& path, const FileExpectation& exp, ViolationList* v, FileCheck* fc) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC));
  if (!fd) {
    v->add(exp.file, 0, 0, fmt::format("cannot open: {}", errno_name(errno)));
    return;
  }
  struct stat st{};
  ::fstat(fd.get(), &st);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  AlignedBuffer buf(kChunk);
  auto judge = [&](uint64_t off, uint64_t len) {
    for (uint64_t s = 0; s + kStampSector <= len; s += kStampSector) {
      const StampRead got = stamp_decode(buf.data() + s, exp.file_id, off + s);
      ++fc->sectors;
      const std::string why = judge_sector(exp, off + s, got);
      if (!why.empty()) v->add(exp.file, off + s, kStampSector, why);
    }
  };
  for (uint64_t off = 0; off < size; off += kChunk) {
    const uint64_t want = std::min(kChunk, (size - off + 4095) / 4096 * 4096);
    ssize_t n = ::pread(fd.get(), buf.data(), want, static_cast<off_t>(off));
    if (n >= 0) {
      judge(off, std::min<uint64_t>(static_cast<uint64_t>(n), size - off));
      continue;
    }
    for (uint64_t b = off; b < off + want; b += 4096) {
      ssize_t m = ::pread(fd.get(), buf.data(), 4096, static_cast<off_t>(b));
      if (m < 0) v->add(exp.file, b, 4096, fmt::format("read fails with {} (data or checksum missing)", errno_name(errno)));
      else judge(b, std::min<uint64_t>(static_cast<uint64_t>(m), size - b));
    }
  }
  // Promised sectors past EOF are lost too.
  for (auto it = exp.sectors.lower_bound((size + kStampSector - 1) / kStampSector * kStampSector);
       it != exp.sectors.end(); ++it)
    v->add(exp.file, it->first, kStampSector,
           fmt::format("lost: beyond i_size {}, but {}", size, promise_text(exp, it->second)));
  if (size < exp.size_at_least)
    v->add(exp.file, size, exp.size_at_least - size,
           fmt::format("i_size {} is less than {}, acknowledged by ack {}", size, exp.size_at_least, exp.size_ack));
  if (exp.prealloc_end > 0) {
    const uint64_t from = (size + 4095) / 4096 * 4096;
    uint64_t covered = 0;
    for (const auto& e : fiemap(fd.get())) {
      const uint64_t a = std::max(from, e.logical), b = std::min(exp.prealloc_end, e.logical + e.length);
      if (b > a) covered += b - a;
    }
    if (from < exp.prealloc_end && covered < exp.prealloc_end - from)
      v->add(exp.file, from, exp.prealloc_end - from,
             fmt::format("preallocated blocks beyond EOF lost: {} of {} bytes still allocated (fallocate acknowledged "
                         "by ack {})",
                         covered, exp.prealloc_end - from, exp.prealloc_ack));
  }
}

}  // namespace

nlohmann::json check_crash_state(const CrashStateSpec& st, const std::vector<Ack>& acks, const fs::path& mnt,
                                 std::ostream& out) {
  const auto t0 = std::chrono::steady_clock::now();
  nlohmann::json r = {{"id", st.id}, {"serial", st.serial}, {"acked", st.acked}, {"what", st.what}};
  ViolationList v;
  std::vector<std::string> problems;  // not tied to a file range
  const std::string dev = device_by_serial(st.serial);
  r["device"] = dev;
  if (dev.empty()) {
    r["violations"] = {"the crash state's disk (serial " + st.serial + ") is not in the guest"};
    return r;
  }
  // Every state carries the same fsid: btrfs must forget the last one first,
  // or it refuses a device with an older generation than the one it knows.
  forget_btrfs_device("");
  KmsgWatch kmsg(fmt::format("diotorture crash: state {} on {}", st.id, dev));
  fs::create_directories(mnt);
  if (::mount(dev.c_str(), mnt.c_str(), "btrfs", 0, nullptr) != 0) {
    const int err = errno;
    auto log = kmsg.collect();
    r["mount"] = "failed: " + errno_name(err);
    r["kernel_log"] = log;
    r["violations"] = {fmt::format("mount after the crash fails with {} (acks made before it: {})", errno_name(err),
                                   st.acked)};
    forget_btrfs_device("");
    return r;
  }
  r["mount"] = "ok";
  std::vector<Ack> before(acks.begin(), acks.begin() + std::min<uint64_t>(st.acked, acks.size()));
  auto files = expectations(before);
  FileCheck fc;
  unsigned files_checked = 0;
  for (const auto& [rel, exp] : files) {
    const fs::path p = mnt / rel;
    struct stat sb{};
    if (::lstat(p.c_str(), &sb) != 0) {
      if (exp.must_exist)
        v.add(rel, 0, 0, fmt::format("missing, but its creation was acknowledged durable by ack {}", exp.created_by));
      continue;
    }
    ++files_checked;
    check_file_data(p, exp, &v, &fc);
  }
  // Files no ack speaks of yet may exist; if they do, no garbage in them.
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(mnt, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (!it->is_regular_file()) continue;
    const std::string rel = fs::relative(it->path(), mnt).string();
    const std::string name = it->path().filename().string();
    if (files.count(rel) || name.size() < 2 || name[0] != 'f') continue;
    FileExpectation loose;
    loose.file = rel;
    try {
      loose.file_id = static_cast<uint32_t>(std::stoul(name.substr(1)));
    } catch (const std::exception&) {
      continue;
    }
    ++files_checked;
    check_file_data(it->path(), loose, &v, &fc);
  }
  r["files_checked"] = files_checked;
  r["sectors_checked"] = fc.sectors;
  try {
    Fd root = open_or_throw(mnt, O_RDONLY | O_DIRECTORY);
    ScrubTotals scrub = scrub_readonly(root.get(), btrfs_devices(root.get()));
    r["scrub"] = scrub.errors_beyond_supers() ? "errors: " + scrub.summary()
                 : scrub.super_errors       ? "clean but for superblock copies (rewritten at the next commit)"
                                            : "clean";
    r["scrub_detail"] = scrub.summary();
    if (scrub.errors_beyond_supers()) problems.push_back("scrub found errors: " + scrub.summary());
  } catch (const std::exception& e) {
    r["scrub"] = std::string("not run: ") + e.what();
  }
  if (::umount(mnt.c_str()) != 0) problems.push_back("umount fails with " + errno_name(errno));
  std::string check_out;
  const int rc = run_command({"btrfs", "check", "--readonly", dev}, &check_out);
  if (rc == 127) {
    r["btrfs_check"] = "not run (no btrfs-progs in the guest)";
  } else {
    r["btrfs_check"] = rc == 0 ? "clean" : fmt::format("exit {}", rc);
    if (rc != 0) {
      problems.push_back(fmt::format("btrfs check --readonly exits {}", rc));
      r["btrfs_check_output"] = check_out;
    }
  }
  forget_btrfs_device("");
  const auto log = kmsg.collect();
  r["kernel_log"] = log;
  for (const auto& f : scan_kernel_log(log)) problems.push_back("kernel log: " + f.signature + ": " + f.line);
  nlohmann::json vs = nlohmann::json::array();
  for (const auto& p : problems) vs.push_back(p);
  for (const auto& l : v.lines(20)) vs.push_back(l);
  r["violations"] = vs;
  r["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out << fmt::format("crash-check: state {} on {}: {} files, {} sectors, {}\n", st.id, dev, files_checked, fc.sectors,
                     vs.empty() ? "ok" : fmt::format("{} violations", vs.size()))
      << std::flush;
  return r;
}

}  // namespace dt
