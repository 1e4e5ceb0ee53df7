// Description: an O_DIRECT read of a checksummed file whose copy on one
// mirror is corrupt must return the good data, and btrfs must rewrite the
// bad copy from the good one (read repair), as fstests btrfs/140, btrfs/142
// and btrfs/267 check. The file is written and synced, bytes of one copy of
// every block are flipped on its device (through the loop image for loop
// devices), and the file is read with O_DIRECT (pread or io_uring) from
// threads whose thread ids select every mirror in turn (btrfs's default
// read policy picks the mirror from the pid). Then every copy of every block
// is read from the devices: all must hold the written bytes again. The
// devices' corruption counters (BTRFS_IOC_GET_DEV_STATS; the kernel log's
// "csum failed" lines are rate-limited) prove that a read reached a bad copy.
// The self-test does the same to a NOCOW file, which has no checksums: the
// read from the bad mirror returns the corrupt bytes and nothing repairs
// them, and both checks must say so.
#include <fcntl.h>
#include <linux/btrfs.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <thread>

#include "lib/btrfs/copies.hpp"
#include "lib/btrfs/fsinfo.hpp"
#include "cases/common/check.hpp"
#include "lib/harness/context.hpp"
#include "lib/io/pattern.hpp"
#include "lib/io/uring.hpp"

namespace dt {
namespace {

constexpr uint32_t kFlipAt = 64, kFlipLen = 256;

// Runs fn on a fresh thread whose id is `residue` modulo n, so that btrfs's
// pid read policy sends its reads to mirror residue+1. False if no such
// thread came up in 256 tries.
template <typename F>
bool on_mirror_thread(unsigned n, unsigned residue, F&& fn) {
  for (int tries = 0; tries < 256; ++tries) {
    bool ran = false;
    std::thread t([&] {
      if (static_cast<unsigned>(::syscall(SYS_gettid)) % n == residue) {
        fn();
        ran = true;
      }
    });
    t.join();
    if (ran) return true;
  }
  return false;
}

// Checksum failures the filesystem has counted on all its devices.
uint64_t corruption_errors(const std::filesystem::path& dir, const BtrfsFsDevices& devs) {
  Fd fs = open_or_throw(dir, O_RDONLY | O_DIRECTORY);
  uint64_t total = 0;
  for (const BtrfsDevice& d : devs.devices) {
    btrfs_ioctl_get_dev_stats st{};
    st.devid = d.devid;
    st.nr_items = BTRFS_DEV_STAT_VALUES_MAX;
    if (::ioctl(fs.get(), BTRFS_IOC_GET_DEV_STATS, &st) != 0) throw_errno("BTRFS_IOC_GET_DEV_STATS");
    total += st.values[BTRFS_DEV_STAT_CORRUPTION_ERRS];
  }
  return total;
}

// The second detector: every data copy of every block holds `want`.
// Returns the number of bad copies.
uint64_t check_copies(Context& ctx, const std::string& what, CopyReader& reader, int fd, const char* want,
                      uint64_t size) {
  const uint32_t bs = reader.devices().sectorsize;
  AlignedBuffer got(bs);
  uint64_t bad = 0, copies = 0;
  for (uint64_t off = 0; off < size; off += bs) {
    for (const CopyLocation& l : reader.locate(fd, off)) {
      reader.read(l.devid, l.physical, {got.bytes(), bs});
      ++copies;
      if (std::memcmp(got.data(), want + off, bs) == 0) continue;
      if (++bad <= 16)
        ctx.fail("{}: {} of block {:#x} (devid {} {} physical {:#x}) is still corrupt", what, l.role, off, l.devid,
                 reader.device_path(l.devid), l.physical);
    }
  }
  if (bad > 16) ctx.fail("{}: {} more corrupt copies not listed", what, bad - 16);
  ctx.log("{}: {} of {} block copies on the devices hold the written bytes", what, copies - bad, copies);
  return bad;
}

// One scenario in `dir`: write, corrupt `bad_copies` copies of every block,
// read from every mirror, check what came back and what is on the devices.
void scenario(Context& ctx, const std::string& name, const std::filesystem::path& dir, uint64_t size,
              const std::string& engine, unsigned bad_copies) {
  CopyReader reader(ctx.work_dir());
  const unsigned ncopies = reader.min_data_copies();
  if (ncopies < 2 || reader.data_has_parity())
    ctx.notrun(fmt::format("needs a mirrored data profile (raid1, raid1c3, raid1c4, raid10, dup); this is {}",
                           reader.data_profile()));
  bad_copies = std::min(bad_copies, ncopies - 1);
  AlignedBuffer want(size);
  fill_pattern(want.data(), size, 0, ctx.seed());
  const auto path = dir / "repair";
  {
    Fd w = open_or_throw(path, O_RDWR | O_CREAT | O_TRUNC);
    write_all(w.get(), {want.data(), size});
    if (::fsync(w.get()) != 0) throw_errno("fsync");
  }
  Fd fd = open_or_throw(path, O_RDONLY | O_DIRECT);
  report_written_layout(ctx, name, fd.get(), 0, size);
  ctx.log("{}: {} ({}), {} copies; checksummed: {}", name, reader.data_profile(), reader.devices().csum_type, ncopies,
          data_checksummed(fd.get()));
  if (check_copies(ctx, name + " before corrupting", reader, fd.get(), want.data(), size)) return;

  // Flip bytes of the last bad_copies copies of every block.
  const uint32_t bs = reader.devices().sectorsize;
  for (uint64_t off = 0; off < size; off += bs) {
    const auto locs = reader.locate(fd.get(), off);
    for (unsigned k = 0; k < bad_copies && k < locs.size(); ++k) {
      const CopyLocation& l = locs[locs.size() - 1 - k];
      corrupt_copy(reader.device_path(l.devid), l.physical + kFlipAt, kFlipLen);
    }
  }
  ctx.log("{}: {} of {} copies of each of {} blocks corrupted on the devices", name, bad_copies, ncopies, size / bs);
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);

  const uint64_t errors_before = corruption_errors(dir, reader.devices());
  uint64_t found = 0;
  unsigned reads = 0, fell_back = 0;
  // io_uring may hand a read to an io-wq worker, whose thread id (and so the
  // mirror) is not ours to choose: up to 8 rounds, until a read reaches a bad copy.
  const unsigned rounds = engine == "uring" ? 8 : 1;
  for (unsigned r = 0; r < rounds && !found; ++r) {
    for (unsigned m = 0; m < ncopies; ++m) {
      AlignedBuffer got(size);
      const std::string what = fmt::format("{} read {} (thread for mirror {}, round {})", name, engine, m + 1, r + 1);
      // A read that falls back to buffered would otherwise be served from
      // the pages the previous one left, never reaching the devices.
      ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);
      PathCounts counts;
      bool ran = on_mirror_thread(ncopies, m, [&] {
        int64_t res = traced_io(
            ctx, fmt::format("{} read", engine), what, false, fd.get(), 0, size,
            [&] {
              // A ring of this thread's own, so that its reads are issued from it.
              std::optional<Ring> ring;
              if (engine == "uring") ring.emplace(2);
              return engine_pread(engine, ring ? &*ring : nullptr, fd.get(), got.data(), size, 0);
            },
            &counts);
        check_read(ctx, what, res, got.data(), want.data(), size, 0, size);
      });
      if (!ran) ctx.fail("{}: no thread with an id selecting mirror {} came up", what, m + 1);
      fell_back += counts.cache_adds > 0;
      ++reads;
    }
    found = corruption_errors(dir, reader.devices()) - errors_before;
  }
  ctx.log("{}: the reads found {} corrupt blocks (device corruption counters)", name, found);
  if (fell_back)
    ctx.note(fmt::format("{}: {} of {} O_DIRECT reads put pages in the page cache: they fell back to buffered, so "
                         "the buffered read's repair was exercised, not the direct read's",
                         name, fell_back, reads));
  if (!found)
    ctx.note(name + ": no read counted a checksum failure: the bad copies were never read, repair not exercised");
  check_copies(ctx, name + " after the direct reads", reader, fd.get(), want.data(), size);
}

void run(Context& ctx) {
  for (const Variant& v : ctx.variants()) {
    if (!v.checksummed) {
      ctx.note(v.name + ": no data checksums, so nothing tells the good copy from the bad one: no repair to test");
      continue;
    }
    for (uint64_t size : ctx.param_sizes("sizes"))
      for (const std::string& engine : ctx.param_list("engines"))
        scenario(ctx, fmt::format("{}/{}-{}", v.name, engine, format_size(size)), v.dir, size, engine,
                 static_cast<unsigned>(ctx.param_u64("bad-copies")));
  }
}

void selftest(Context& ctx) {
  scenario(ctx, "nocow/psync-128K", nocow_dir(ctx.work_dir()), 128 << 10, "psync", 1);
}

const CaseRegistrar reg({
    .id = "dio-read-repair",
    .groups = {"auto", "raid", "csum", "read", "repair", "uring"},
    .description = "O_DIRECT read with one copy corrupt returns the good data and the bad copy is rewritten",
    .fstests = {"btrfs/140", "btrfs/142", "btrfs/267"},
    .needs = {Need::Btrfs, Need::DataCopies, Need::Datasum, Need::IoUring},
    .fs = FsSpec{.profile = "raid1"},
    .expected_kernel_log = {"csum failed"},
    .params = {param::sizes("sizes", "128k,1m", "file size; one copy of every block is corrupted", 4096, 64 << 20),
               param::choices("engines", "psync,uring", "how the direct reads are issued", {"psync", "uring"}),
               param::count("bad-copies", "1", "copies of each block corrupted (at most copies - 1)", 1, 3)},
    .timeout_s = 180,
    .fn = run,
});

const CaseRegistrar selftest_reg({
    .id = "selftest-dio-read-repair",
    .groups = {"selftest-mirror"},
    .description = "Self-test of dio-read-repair (expect FAIL: corrupt bytes read and left unrepaired on a NOCOW file)",
    .needs = {Need::Btrfs, Need::DataCopies, Need::Nodatasum},
    .fs = FsSpec{.profile = "raid1"},
    .timeout_s = 60,
    .fn = selftest,
});

}  // namespace
}  // namespace dt
