// Description: an O_DIRECT read that spans RAID stripes of a file with data
// checksums must return the data, whatever the checksum algorithm. btrfs
// looked up the checksums of a split direct read at offsets computed for
// 4-byte crc32c, so with xxhash, sha256 or blake2 every bio after the first
// failed verification and the read returned EIO; fixed by e7a04894c766
// ("btrfs: fix RAID direct I/O reads with alternate csums"), fstests
// btrfs/207 (mkfs --csum ALGO -d PROFILE, write 1 MiB, dd iflag=direct).
//
// One case per (checksum, profile): btrfs/207's matrix, crc32c, xxhash,
// sha256 and blake2 by raid0, raid1, raid10, raid5 and raid6. A filesystem
// has one checksum algorithm, fixed at mkfs time, and a case declares one
// FsSpec, so each combination is its own case with its own filesystem, named
// and reported on its own (kselftest style): one `run -g raid-csum` covers
// the whole matrix, and a failure names the algorithm and the profile. On a
// filesystem that is not the case's (a --test-dir, or a run before per-case
// provisioning), the case does not run and names the options that make one.
// The self-test corrupts one block of a raid0 xxhash file on its device: the
// direct read then really returns EIO, which the same check must report.
#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <set>

#include "lib/btrfs/copies.hpp"
#include "lib/btrfs/fsinfo.hpp"
#include "cases/common/check.hpp"
#include "lib/harness/context.hpp"
#include "lib/io/pattern.hpp"
#include "lib/io/uring.hpp"

namespace dt {
namespace {

struct Combination {
  std::string csum;     // mkfs.btrfs --csum name
  std::string profile;  // data profile
};

// What the kernel reports (BTRFS_IOC_FS_INFO) for each mkfs --csum name.
std::string reported_csum(const std::string& mkfs_name) {
  if (mkfs_name == "xxhash") return "xxhash64";
  if (mkfs_name == "blake2") return "blake2b";
  return mkfs_name;
}

std::map<std::string, Combination>& combinations() {
  static std::map<std::string, Combination> m;
  return m;
}

// The devices and stripes the range [off, off+len) of fd lives on, logged;
// returns how many distinct (devid, stripe) places hold its data.
size_t report_stripes(Context& ctx, const std::string& what, CopyReader& reader, int fd, uint64_t off, uint64_t len) {
  std::set<uint64_t> devids;
  std::set<std::pair<uint64_t, uint64_t>> stripes;
  for (uint64_t o = off; o < off + len; o += reader.devices().sectorsize)
    for (const CopyLocation& l : reader.locate(fd, o)) {
      if (l.role == "P" || l.role == "Q") continue;
      devids.insert(l.devid);
      stripes.insert({l.devid, l.physical / (64 << 10)});
    }
  ctx.log("{}: [{:#x},+{}) lives in {} 64K stripe elements on {} devices", what, off, format_size(len), stripes.size(),
          devids.size());
  return devids.size();
}

// Writes `size` bytes with checksums (buffered, synced) and reads ranges of
// them back with O_DIRECT; every read must be whole and right.
void read_ranges(Context& ctx, const Variant& v, CopyReader& reader, uint64_t size, Ring* ring,
                 const std::vector<std::string>& engines, bool corrupt_one_block) {
  AlignedBuffer want(size);
  fill_pattern(want.data(), size, 0, ctx.seed());
  const auto path = v.dir / "striped";
  {
    Fd w = open_or_throw(path, O_RDWR | O_CREAT | O_TRUNC);
    write_all(w.get(), {want.data(), size});
    if (::fsync(w.get()) != 0) throw_errno("fsync");
  }
  Fd fd = open_or_throw(path, O_RDONLY | O_DIRECT);
  // Evict what the write cached: a read that falls back to buffered then
  // shows as pages added to the page cache instead of hiding in it.
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);
  const std::string base = fmt::format("{}/{}", v.name, format_size(size));
  report_written_layout(ctx, base, fd.get(), 0, size);
  if (corrupt_one_block) {
    const uint64_t block = std::min<uint64_t>(size / 2, 192 << 10) & ~uint64_t{4095};
    const CopyLocation l = reader.locate(fd.get(), block).front();
    ctx.log("{}: corrupting block {:#x} on devid {} physical {:#x}", base, block, l.devid, l.physical);
    corrupt_copy(reader.device_path(l.devid), l.physical + 100, 100);
  }
  // The whole file, and a range starting half-way into a 64K stripe element
  // that crosses several of them (each bio of the split read after the first
  // is where the checksum offset went wrong).
  const std::vector<std::pair<uint64_t, uint64_t>> ranges = {{0, size},
                                                            {32 << 10, std::min<uint64_t>(size - (32 << 10), 192 << 10)}};
  for (const auto& [off, len] : ranges) {
    const size_t devices = report_stripes(ctx, base, reader, fd.get(), off, len);
    if (devices < 2 && reader.data_profile().find("raid1") == std::string::npos)
      ctx.note(fmt::format("{}: [{:#x},+{}) lies on one device: the read is not split across stripes", base, off,
                           format_size(len)));
    for (const std::string& engine : engines) {
      const std::string what = fmt::format("{} {} read [{:#x},+{})", base, engine, off, format_size(len));
      AlignedBuffer got(len);
      ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);  // each read must reach the devices
      PathCounts counts;
      int64_t res = traced_io(
          ctx, v.name + " " + engine + " read", what, false, fd.get(), off, len,
          [&] { return engine_pread(engine, ring, fd.get(), got.data(), len, off); }, &counts);
      if (counts.cache_adds)
        ctx.note(fmt::format("{}: {} pages entered the page cache: the O_DIRECT read fell back to buffered, so the "
                             "split direct read was not exercised",
                             what, counts.cache_adds));
      check_read(ctx, what, res, got.data(), want.data() + off, len, off, size);
    }
  }
}

void run(Context& ctx) {
  const Combination& want = combinations().at(ctx.id());
  CopyReader reader(ctx.work_dir());
  const std::string csum = reader.devices().csum_type, profile = reader.data_profile();
  if (csum != reported_csum(want.csum) || profile != want.profile)
    ctx.notrun(fmt::format("this filesystem is {} with {} checksums; the case needs {} with {} (its own filesystem, or "
                           "run {} --profile {} --mkfs-options \"--csum {}\")",
                           profile, csum, want.profile, want.csum, ctx.id(), want.profile, want.csum));
  Ring ring(2);
  for (const Variant& v : ctx.variants()) {
    if (!v.checksummed)
      ctx.note(v.name + ": no data checksums, so no checksum lookup: a control for the striped read itself");
    for (uint64_t size : ctx.param_sizes("sizes")) read_ranges(ctx, v, reader, size, &ring, ctx.param_list("engines"), false);
  }
}

void selftest(Context& ctx) {
  CopyReader reader(ctx.work_dir());
  if (!reader.data_has_parity() && reader.min_data_copies() != 1)
    ctx.notrun("needs a profile with one copy of each block (raid0, raid5, raid6): run with --profile raid0");
  for (const Variant& v : ctx.variants())
    if (v.checksummed) read_ranges(ctx, v, reader, 1 << 20, nullptr, {"psync"}, true);
}

const KernelCommit kFix{"e7a04894c766", "btrfs: fix RAID direct I/O reads with alternate csums"};

[[maybe_unused]] const bool registered = [] {
  for (const char* csum : {"crc32c", "xxhash", "sha256", "blake2"})
    for (const char* profile : {"raid0", "raid1", "raid10", "raid5", "raid6"}) {
      const std::string id = fmt::format("raid-csum-dio-read-{}-{}", csum, profile);
      combinations()[id] = {csum, profile};
      CaseRegistrar{{
          .id = id,
          .groups = {"auto", "raid", "raid-csum", "csum", "read", "uring"},
          .description = fmt::format("O_DIRECT reads across stripes of a {} file with {} checksums return the data", profile, csum),
          .fixed_by = {kFix},
          .fstests = {"btrfs/207"},
          .needs = {Need::Btrfs, Need::IoUring},
          .fs = FsSpec{.mkfs_args = {"--csum", csum}, .size = 1ull << 30, .profile = profile},
          .params = {param::sizes("sizes", "1m,4m", "file size", 256 << 10, 256 << 20),
                     param::choices("engines", "psync,uring", "how the direct reads are issued", {"psync", "uring"})},
          .timeout_s = 120,
          .fn = run,
      }};
    }
  CaseRegistrar{{
      .id = "selftest-raid-csum-dio-read",
      .groups = {"selftest-mirror"},
      .description = "Self-test of raid-csum-dio-read-* (expect FAIL: EIO): one block corrupted on a raid0 xxhash device",
      .fixed_by = {kFix},
      .needs = {Need::Btrfs, Need::Datasum},
      .fs = FsSpec{.mkfs_args = {"--csum", "xxhash"}, .size = 1ull << 30, .profile = "raid0"},
      .timeout_s = 60,
      .fn = selftest,
  }};
  return true;
}();

}  // namespace
}  // namespace dt
