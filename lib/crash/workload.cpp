#include "lib/crash/workload.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/mount.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <liburing.h>

#include <memory>
#include <ostream>

#include "lib/btrfs/fsinfo.hpp"
#include "lib/crash/stamp.hpp"
#include "lib/io/pattern.hpp"
#include "lib/io/uring.hpp"
#include "lib/sys/spellcheck.hpp"

namespace dt {
namespace fs = std::filesystem;

namespace {
constexpr uint64_t kMarkerBlock = 4096;
constexpr uint64_t kRegion = 1 << 20;  // each file's writes stay in its first MiB
constexpr uint64_t kQueueDepth = 32;
}  // namespace

Acker::Acker(const std::string& device, uint64_t marker_start, uint64_t marker_bytes, const std::string& serial)
    : dev_(open_or_throw(device, O_WRONLY | O_DIRECT | O_CLOEXEC)),
      marker_start_(marker_start),
      marker_slots_(marker_bytes / kMarkerBlock) {
  if (marker_slots_ == 0) throw SetupError("no room for ack markers after the filesystem; make the disk larger");
  if (!serial.empty()) {
    serial_ = open_or_throw(serial, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    termios t{};
    // Raw: the host reads exactly the bytes written, no \r added.
    if (::tcgetattr(serial_.get(), &t) == 0) {
      ::cfmakeraw(&t);
      ::tcsetattr(serial_.get(), TCSANOW, &t);
    }
  }
}

void Acker::ack(Ack a) {
  a.seq = next_seq_++;
  AlignedBuffer block(kMarkerBlock);
  const std::string m = encode_marker(a, kMarkerBlock);
  std::memcpy(block.data(), m.data(), kMarkerBlock);
  const off_t at = static_cast<off_t>(marker_start_ + (a.seq % marker_slots_) * kMarkerBlock);
  if (::pwrite(dev_.get(), block.data(), kMarkerBlock, at) != static_cast<ssize_t>(kMarkerBlock))
    throw_errno("write ack marker");
  if (serial_) {
    write_all(serial_.get(), a.to_json().dump() + "\n");
    ::tcdrain(serial_.get());
  }
}

nlohmann::json WorkloadTally::to_json() const {
  nlohmann::json j = {{"workload", workload}, {"kind", kind},     {"writes", writes},
                      {"acks", acks},         {"eagain_retries", eagain_retries}, {"short_writes", short_writes}};
  if (injected_eio || injected_not_failed) {
    j["injected_eio"] = injected_eio;
    j["injected_not_failed"] = injected_not_failed;
  }
  if (!path.empty()) j["path"] = path;
  if (!path_detail.empty()) j["path_detail"] = path_detail;
  if (!not_run.empty()) j["not_run"] = not_run;
  if (!error.empty()) j["error"] = error;
  return j;
}

Scenario::Scenario(Acker& acker, const fs::path& mnt, const CrashWorkload& w, const std::string& kind, unsigned ops,
                   uint64_t seed, uint32_t* next_file_id, WorkloadTally* tally)
    : acker_(acker), w_(w), kind_(kind), ops_(ops), rng_(seed), next_file_id_(next_file_id), tally_(tally) {
  const fs::path top = mnt / w.name;
  fs::create_directories(top);
  dir_ = kind == "nodatasum" ? nocow_dir(top) : top / "datasum";
  fs::create_directories(dir_);
  rel_dir_ = fs::relative(dir_, mnt).string();
}

Scenario::File Scenario::create(int extra_flags, bool sync_name) {
  File f;
  f.id = (*next_file_id_)++;
  f.rel = rel_dir_ + fmt::format("/f{}", f.id);
  const fs::path p = dir_ / fmt::format("f{}", f.id);
  f.fd = open_or_throw(p, O_RDWR | O_CREAT | O_EXCL | O_DIRECT | O_CLOEXEC | extra_flags, 0644);
  start_path(f);
  if (!sync_name) return f;
  if (::fsync(f.fd.get()) != 0) throw_errno("fsync " + p.string());
  Fd d = open_or_throw(dir_, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (::fsync(d.get()) != 0) throw_errno("fsync " + dir_.string());
  ack(f, "file and directory fsync returned after create", {}, 0, 0, {}, true);
  return f;
}

void Scenario::start_path(const File& f) {
  if (tracer_) return;
  // The workload's writes, proven direct or not by the best evidence the
  // kernel offers; a durability pass over buffered fallbacks is a different claim.
  tracer_ = std::make_unique<PathTracer>();
  traced_ = Fd(::dup(f.fd.get()));
  if (tracer_->available()) tracer_->start({traced_.get()});
}

WriteRun Scenario::fill(File& f, uint64_t off, uint64_t step, uint64_t count) {
  WriteRun r{0, off, step, 0};
  for (uint64_t i = 0; i < count; ++i) {
    AckedWrite w = pwrite(f, off + i * step, step);
    if (i == 0) r.wseq = w.wseq;
    if (w.len != step || w.wseq != r.wseq + i) throw std::runtime_error("a fill write was short or out of sequence");
    ++r.count;
  }
  return r;
}

AckedWrite Scenario::stamp(File& f, char* buf, uint64_t off, uint64_t len) {
  AckedWrite w{acker_.next_wseq(), off, len};
  stamp_fill(buf, len, f.id, w.wseq, off);
  ++tally_->writes;
  return w;
}

AckedWrite Scenario::pwrite(File& f, uint64_t off, uint64_t len, int rwf) {
  AlignedBuffer buf(len);
  AckedWrite w = stamp(f, buf.data(), off, len);
  iovec iov{buf.data(), len};
  ssize_t n = ::pwritev2(f.fd.get(), &iov, 1, static_cast<off_t>(off), rwf);
  if (n < 0) throw_errno(fmt::format("pwritev2 {} [{:#x}, +{})", f.rel, off, len));
  if (static_cast<uint64_t>(n) < len) ++tally_->short_writes;
  w.len = static_cast<uint64_t>(n) / kStampSector * kStampSector;
  return w;
}

void Scenario::ack(const File& f, const std::string& promise, std::vector<AckedWrite> writes, uint64_t size_at_least,
                   uint64_t prealloc_end, std::vector<WriteRun> runs, bool creates) {
  Ack a;
  a.workload = w_.name;
  a.kind = kind_;
  a.file = f.rel;
  a.file_id = f.id;
  a.promise = promise;
  a.writes = std::move(writes);
  a.size_at_least = size_at_least;
  a.prealloc_end = prealloc_end;
  a.runs = std::move(runs);
  a.creates = creates;
  acker_.ack(a);
  ++tally_->acks;
}

void Scenario::finish_path() {
  if (!tracer_) return;
  PathReport r;
  r.op = std::string(w_.name) + " writes";
  r.write = true;
  if (tracer_->available()) tracer_->stop(&r, traced_.get(), 0, kRegion);
  else r.untraced_reason = tracer_->unavailable_reason();
  judge_path(&r);
  tally_->path = r.verdict + (r.evidence.empty() ? "" : " " + r.evidence);
  tally_->path_detail = r.explained();
  tracer_.reset();
}

std::pair<uint64_t, uint64_t> Scenario::random_write() {
  const uint64_t len = 4096 * rng_.between(1, 32);
  const uint64_t off = 4096 * rng_.below((kRegion - len) / 4096 + 1);
  return {off, len};
}

namespace {

uint64_t end_of(const std::vector<AckedWrite>& ws, uint64_t size) {
  for (const auto& w : ws) size = std::max(size, w.off + w.len);
  return size;
}

// A few writes, then one sync call that covers them all.
void writes_then_sync(Scenario& s, bool datasync) {
  auto f = s.create();
  uint64_t size = 0;
  for (unsigned i = 0; i < s.ops(); ++i) {
    std::vector<AckedWrite> ws;
    for (uint64_t k = s.rng().between(1, 3); k > 0; --k) {
      auto [off, len] = s.random_write();
      ws.push_back(s.pwrite(f, off, len));
    }
    size = end_of(ws, size);
    if ((datasync ? ::fdatasync(f.fd.get()) : ::fsync(f.fd.get())) != 0) throw_errno(datasync ? "fdatasync" : "fsync");
    s.ack(f, datasync ? "fdatasync returned" : "fsync returned", ws, size);
  }
}

void pwrite_fsync(Scenario& s) { writes_then_sync(s, false); }
void pwrite_fdatasync(Scenario& s) { writes_then_sync(s, true); }

// Every write is its own promise.
void dsync_writes(Scenario& s, int open_flags, int rwf, const char* promise) {
  auto f = s.create(open_flags);
  uint64_t size = 0;
  for (unsigned i = 0; i < s.ops(); ++i) {
    auto [off, len] = s.random_write();
    AckedWrite w = s.pwrite(f, off, len, rwf);
    size = end_of({w}, size);
    s.ack(f, promise, {w}, size);
  }
}

void odsync_pwrite(Scenario& s) { dsync_writes(s, O_DSYNC, 0, "O_DSYNC pwrite returned"); }
void rwf_dsync(Scenario& s) { dsync_writes(s, 0, RWF_DSYNC, "pwritev2(RWF_DSYNC) returned"); }

// io_uring writes, `depth` at a time into distinct slots of the region. With
// `dsync_each` every completion is a promise (RWF_DSYNC or an O_DSYNC file);
// otherwise the batch is followed by fdatasync, which promises it all.
// With `nowait` the region is preallocated first, as generic/703 does: a
// NOWAIT write that has to allocate would only ever get EAGAIN.
void uring_writes(Scenario& s, unsigned depth, int open_flags, int rwf, bool nowait, bool dsync_each,
                  const char* promise) {
  auto f = s.create(open_flags);
  if (nowait) {
    if (::fallocate(f.fd.get(), 0, 0, kRegion) != 0) throw_errno("fallocate");
    if (::fsync(f.fd.get()) != 0) throw_errno("fsync");
    s.ack(f, "fsync returned after fallocate", {}, kRegion);
  }
  Ring ring(depth);
  io_uring* r = ring.get();
  const uint64_t slot = kRegion / depth;
  const unsigned batches = depth == 1 ? s.ops() : std::max(1u, s.ops() / 4);
  uint64_t size = 0;
  std::vector<AlignedBuffer> bufs;
  bufs.reserve(depth);
  for (unsigned i = 0; i < depth; ++i) bufs.emplace_back(slot);
  for (unsigned b = 0; b < batches; ++b) {
    std::vector<AckedWrite> pending(depth), done;
    auto submit = [&](unsigned i, bool with_nowait) {
      io_uring_sqe* sqe = io_uring_get_sqe(r);
      io_uring_prep_write(sqe, f.fd.get(), bufs[i].data(), static_cast<unsigned>(pending[i].len), pending[i].off);
      sqe->rw_flags = rwf | (with_nowait ? RWF_NOWAIT : 0);
      io_uring_sqe_set_data64(sqe, i);
    };
    for (unsigned i = 0; i < depth; ++i) {
      const uint64_t len = 4096 * s.rng().between(1, slot / 4096);
      pending[i] = s.stamp(f, bufs[i].data(), i * slot, len);
      submit(i, nowait);
    }
    unsigned outstanding = depth;
    if (io_uring_submit(r) < 0) throw_errno("io_uring_submit");
    while (outstanding) {
      io_uring_cqe* cqe = nullptr;
      int e = io_uring_wait_cqe(r, &cqe);
      if (e < 0) throw_errno("io_uring_wait_cqe", -e);
      const unsigned i = static_cast<unsigned>(io_uring_cqe_get_data64(cqe));
      const int res = cqe->res;
      io_uring_cqe_seen(r, cqe);
      if (res == -EAGAIN && nowait) {
        // NOWAIT said "would block": issue the same write again, blocking.
        ++s.tally().eagain_retries;
        submit(i, false);
        if (io_uring_submit(r) < 0) throw_errno("io_uring_submit");
        continue;
      }
      --outstanding;
      if (res < 0) throw_errno(fmt::format("io_uring write {} [{:#x}, +{})", f.rel, pending[i].off, pending[i].len), -res);
      AckedWrite w = pending[i];
      if (static_cast<uint64_t>(res) < w.len) ++s.tally().short_writes;
      w.len = static_cast<uint64_t>(res) / kStampSector * kStampSector;
      size = end_of({w}, size);
      if (dsync_each) s.ack(f, promise, {w}, size);
      else done.push_back(w);
    }
    if (!dsync_each) {
      if (::fdatasync(f.fd.get()) != 0) throw_errno("fdatasync");
      s.ack(f, promise, done, size);
    }
  }
}

void uring_dsync_qd1(Scenario& s) { uring_writes(s, 1, 0, RWF_DSYNC, false, true, "io_uring RWF_DSYNC write completed"); }
void uring_dsync_qd32(Scenario& s) {
  uring_writes(s, kQueueDepth, 0, RWF_DSYNC, false, true, "io_uring RWF_DSYNC write completed");
}
void uring_odsync_qd32(Scenario& s) {
  uring_writes(s, kQueueDepth, O_DSYNC, 0, false, true, "io_uring write on an O_DSYNC file completed");
}
void uring_dsync_nowait_qd32(Scenario& s) {
  uring_writes(s, kQueueDepth, 0, RWF_DSYNC, true, true, "io_uring RWF_DSYNC|RWF_NOWAIT write completed");
}
void async_fdatasync(Scenario& s) {
  uring_writes(s, kQueueDepth, 0, 0, false, false, "fdatasync returned after 32 async io_uring writes");
}

// Appends into blocks preallocated beyond EOF, each batch fsynced: i_size,
// data and the rest of the preallocation must all survive.
void prealloc_extend_fsync(Scenario& s) {
  constexpr uint64_t kPrealloc = 4 << 20;
  auto f = s.create();
  if (::fallocate(f.fd.get(), FALLOC_FL_KEEP_SIZE, 0, kPrealloc) != 0) throw_errno("fallocate KEEP_SIZE");
  if (::fsync(f.fd.get()) != 0) throw_errno("fsync");
  s.ack(f, "fsync returned after fallocate(KEEP_SIZE) beyond EOF", {}, 0, kPrealloc);
  uint64_t size = 0;
  for (unsigned i = 0; i < s.ops() && size < kPrealloc - (64 << 10) * 2; ++i) {
    std::vector<AckedWrite> ws;
    for (uint64_t k = s.rng().between(1, 2); k > 0; --k) {
      AckedWrite w = s.pwrite(f, size, 4096 * s.rng().between(1, 16));
      size += w.len;
      ws.push_back(w);
    }
    if (::fsync(f.fd.get()) != 0) throw_errno("fsync");
    s.ack(f, "fsync returned after appends into the preallocation", ws, size, kPrealloc);
  }
}

// generic/677's scenario: a file with enough extents to fill several
// metadata leaves, preallocation beyond EOF, everything committed, then one
// overwrite and the inode's first fsync, which takes the full-sync path.
// The preallocated blocks must still be there after log replay.
void prealloc_full_fsync(Scenario& s) {
  constexpr uint64_t kFill = 16 << 20, kPrealloc = 1 << 20;
  auto f = s.create(0, false);  // no fsync yet: the first one must be a full sync
  WriteRun run = s.fill(f, 0, 4096, kFill / 4096);
  if (::fallocate(f.fd.get(), FALLOC_FL_KEEP_SIZE, kFill, kPrealloc) != 0) throw_errno("fallocate KEEP_SIZE");
  if (::syncfs(f.fd.get()) != 0) throw_errno("syncfs");
  s.ack(f, "syncfs returned after 4096 direct writes and fallocate(KEEP_SIZE) beyond EOF", {}, kFill,
        kFill + kPrealloc, {run}, true);
  for (unsigned i = 0; i < s.ops(); ++i) {
    auto [off, len] = s.random_write();
    AckedWrite w = s.pwrite(f, i == 0 ? 0 : off, i == 0 ? 4096 : len);
    if (::fsync(f.fd.get()) != 0) throw_errno("fsync");
    s.ack(f, i == 0 ? "the file's first fsync returned (full sync)" : "fsync returned", {w}, kFill, kFill + kPrealloc);
  }
}

// f13e01b89daf's scenario: an acknowledged write, then a direct overwrite of
// the same range that fails with EIO (every write to the device fails for
// that moment), then fsync. The failed write must leave the acknowledged data
// in place after log replay; a fast fsync that logged the failed write's
// extent makes the range point at blocks that were never written.
void write_error_fsync(Scenario& s) {
  auto f = s.create();
  auto honest = s.create();
  uint64_t size = 0;
  for (unsigned i = 0; i < s.ops(); ++i) {
    const uint64_t off = 65536 * (i % 8), len = 65536;
    AckedWrite a = s.pwrite(f, off, len);
    size = std::max(size, off + len);
    if (::fsync(f.fd.get()) != 0) throw_errno("fsync");
    s.ack(f, "fsync returned", {a}, size);
    s.write_errors(true);
    AlignedBuffer buf(len);
    s.stamp(f, buf.data(), off, len);  // a write number of its own, never acknowledged
    const ssize_t n = ::pwrite(f.fd.get(), buf.data(), len, static_cast<off_t>(off));
    const int werr = errno;
    s.write_errors(false);
    if (n >= 0) ++s.tally().injected_not_failed;  // it never reached the device while it failed writes
    else if (werr == EIO) ++s.tally().injected_eio;
    else throw_errno("pwrite under write errors", werr);
    // Its result is not a promise either way; what matters is what the
    // filesystem logs for the range after the failure.
    (void)::fsync(f.fd.get());
    auto [off2, len2] = s.random_write();
    AckedWrite h = s.pwrite(honest, off2, len2);
    if (::fsync(honest.fd.get()) != 0) throw_errno("fsync");
    s.ack(honest, "fsync returned", {h}, off2 + len2);
  }
}

// A self-test: acknowledges a copy-on-write direct write that was never
// synced, then makes flushes happen through fsyncs of another file. A
// checker that does not call such a write lost at some crash point is broken.
void selftest_unsynced(Scenario& s) {
  auto lying = s.create();
  auto honest = s.create();
  for (unsigned i = 0; i < s.ops(); ++i) {
    auto [off, len] = s.random_write();
    AckedWrite w = s.pwrite(lying, off, len);
    s.ack(lying, "none: acknowledged without any sync (self-test)", {w}, 0);
    auto [off2, len2] = s.random_write();
    AckedWrite h = s.pwrite(honest, off2, len2);
    if (::fsync(honest.fd.get()) != 0) throw_errno("fsync");
    s.ack(honest, "fsync returned", {h}, off2 + len2);
  }
}

const std::vector<CrashWorkload> kWorkloads = {
    {"pwrite-fsync", "O_DIRECT pwrite, then fsync", "", "", 0, pwrite_fsync},
    {"pwrite-fdatasync", "O_DIRECT pwrite, then fdatasync", "", "", 0, pwrite_fdatasync},
    {"odsync-pwrite", "O_DIRECT pwrite on an O_DSYNC file", "", "", 0, odsync_pwrite},
    {"rwf-dsync", "O_DIRECT pwritev2 with RWF_DSYNC", "", "", 0, rwf_dsync},
    {"uring-dsync-qd1", "io_uring write with RWF_DSYNC, queue depth 1",
     "8184620ae212 btrfs: fix lost file sync on direct IO write with nowait and dsync iocb", "generic/703", kNeedsUring,
     uring_dsync_qd1},
    {"uring-dsync-qd32", "io_uring writes with RWF_DSYNC, queue depth 32",
     "8184620ae212 btrfs: fix lost file sync on direct IO write with nowait and dsync iocb", "generic/703", kNeedsUring,
     uring_dsync_qd32},
    {"uring-odsync-qd32", "io_uring writes on an O_DSYNC file, queue depth 32",
     "8184620ae212 btrfs: fix lost file sync on direct IO write with nowait and dsync iocb", "generic/703", kNeedsUring,
     uring_odsync_qd32},
    {"uring-dsync-nowait-qd32", "io_uring writes with RWF_DSYNC|RWF_NOWAIT, queue depth 32 (EAGAIN reissued blocking)",
     "8184620ae212 btrfs: fix lost file sync on direct IO write with nowait and dsync iocb", "generic/703", kNeedsUring,
     uring_dsync_nowait_qd32},
    {"async-fdatasync", "32 async io_uring direct writes, then fdatasync",
     "e917ff56c8e7 btrfs: determine synchronous writers from bio or writeback control", "generic/757", kNeedsUring,
     async_fdatasync},
    {"prealloc-extend-fsync", "fallocate KEEP_SIZE beyond EOF, O_DIRECT appends into it, fsync", "", "", 0,
     prealloc_extend_fsync},
    {"prealloc-full-fsync", "16 MiB of 4 KiB direct writes, fallocate KEEP_SIZE beyond EOF, sync, overwrite, first fsync",
     "d99478874355 btrfs: fix lost prealloc extents beyond eof after full fsync", "generic/677 btrfs/261", 0,
     prealloc_full_fsync},
    {"write-error-fsync", "an acknowledged write, a direct overwrite failing with EIO (dm-flakey), then fsync",
     "f13e01b89daf btrfs: ensure fast fsync waits for ordered extents after a write failure", "",
     kDatasumOnly | kNeedsFlakey, write_error_fsync},
    {"selftest-unsynced", "self-test: a direct write acknowledged without any sync must be found lost", "", "",
     kSelfTest | kDatasumOnly, selftest_unsynced},
};

}  // namespace

const std::vector<CrashWorkload>& crash_workloads() { return kWorkloads; }

const CrashWorkload* find_crash_workload(const std::string& name) {
  for (const auto& w : kWorkloads)
    if (name == w.name) return &w;
  return nullptr;
}

std::vector<const CrashWorkload*> select_crash_workloads(const std::string& list) {
  std::vector<const CrashWorkload*> out;
  std::vector<std::string> names;
  for (const auto& w : kWorkloads) names.push_back(w.name);
  for (const auto& raw : split(list, ',')) {
    const std::string n = trim(raw);
    if (n.empty()) continue;
    if (n == "all") {
      for (const auto& w : kWorkloads)
        if (!(w.caps & kSelfTest)) out.push_back(&w);
      continue;
    }
    const CrashWorkload* w = find_crash_workload(n);
    if (!w) {
      const std::string hint = did_you_mean(n, names);
      throw SetupError(fmt::format("--workload: no workload '{}'{}; 'diotorture crash --list-workloads' lists them", n,
                                   hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
    out.push_back(w);
  }
  if (out.empty()) throw SetupError("--workload is empty; give 'all' or workload names");
  return out;
}

namespace {

// The filesystem's device as dm-flakey sees it, switched between a linear
// table and one that fails every write. libdevmapper makes the /dev/mapper
// node itself: there is no udev in the guest.
class FlakeyDevice {
 public:
  FlakeyDevice(const std::string& under, uint64_t bytes) : under_(under), sectors_(bytes / 512) {
    ::setenv("DM_DISABLE_UDEV", "1", 1);
    dmsetup({"create", kName, "--table", table(false)});
  }
  ~FlakeyDevice() {
    std::string o;
    run_command({"dmsetup", "remove", kName}, &o);
  }
  std::string path() const { return std::string("/dev/mapper/") + kName; }
  void set_failing(bool fail) {
    dmsetup({"suspend", kName});
    dmsetup({"load", kName, "--table", table(fail)});
    dmsetup({"resume", kName});
  }

 private:
  static constexpr const char* kName = "dtcrash";
  std::string table(bool fail) const {
    // flakey: up 0 s, down 1 s -> always down, and down means writes fail.
    return fail ? fmt::format("0 {} flakey {} 0 0 1 1 error_writes", sectors_, under_)
                : fmt::format("0 {} linear {} 0", sectors_, under_);
  }
  void dmsetup(std::vector<std::string> args) {
    args.insert(args.begin(), "dmsetup");
    std::string o;
    if (run_command(args, &o) != 0) throw std::runtime_error(fmt::format("{}: {}", fmt::join(args, " "), trim(o)));
  }
  std::string under_;
  uint64_t sectors_;
};

}  // namespace

std::vector<WorkloadTally> record_workloads(const RecordOptions& o, std::ostream& out) {
  const std::string tracefs = ensure_tracefs();  // a fresh guest has none mounted: the path evidence needs it
  if (tracefs.empty()) out << "crash-record: no tracefs here; the path the writes took stays unproven\n";
  std::unique_ptr<FlakeyDevice> flakey;
  std::string fs_dev = o.device;
  if (o.flakey) {
    try {
      flakey = std::make_unique<FlakeyDevice>(o.device, o.fs_bytes);
      fs_dev = flakey->path();
    } catch (const std::exception& e) {
      out << "crash-record: no dm-flakey device (" << e.what() << "); write-error workloads will not run\n";
    }
  }
  std::string mkfs_out;
  if (run_command({"mkfs.btrfs", "-f", "-K", "-q", "-b", std::to_string(o.fs_bytes), fs_dev}, &mkfs_out) != 0)
    throw SetupError(fmt::format("mkfs.btrfs on {} failed: {}", fs_dev, trim(mkfs_out)));
  fs::create_directories(o.mnt);
  if (::mount(fs_dev.c_str(), o.mnt.c_str(), "btrfs", 0, nullptr) != 0) throw_errno("mount " + fs_dev);
  Fd dev = open_or_throw(o.device, O_RDONLY | O_CLOEXEC);
  uint64_t dev_bytes = 0;
  if (::ioctl(dev.get(), BLKGETSIZE64, &dev_bytes) != 0) throw_errno("BLKGETSIZE64 " + o.device);
  Acker acker(o.device, o.fs_bytes, dev_bytes - o.fs_bytes, o.serial);
  {
    Fd root = open_or_throw(o.mnt, O_RDONLY | O_DIRECTORY);
    if (::syncfs(root.get()) != 0) throw_errno("syncfs");
    Ack made;
    made.promise = "filesystem made, mounted and synced";
    acker.ack(made);
  }
  std::vector<WorkloadTally> tallies;
  uint32_t next_file_id = 1;
  uint64_t n = 0;
  for (const CrashWorkload* w : select_crash_workloads(o.workloads))
    for (const auto& kind : o.kinds) {
      WorkloadTally t;
      t.workload = w->name;
      t.kind = kind;
      if ((w->caps & kDatasumOnly) && kind != "datasum") continue;
      const uint64_t seed = o.seed * 1000003 + n++;
      if (w->caps & kNeedsUring) t.not_run = io_uring_unavailable_reason();
      if ((w->caps & kNeedsFlakey) && !flakey)
        t.not_run = "needs the filesystem on dm-flakey (dm_flakey module and dmsetup in the guest)";
      if (t.not_run.empty()) {
        try {
          Scenario s(acker, o.mnt, *w, kind, o.ops, seed, &next_file_id, &t);
          if (flakey) s.write_errors = [&](bool fail) { flakey->set_failing(fail); };
          w->run(s);
          s.finish_path();
        } catch (const std::exception& e) {
          t.error = e.what();
        }
      }
      out << fmt::format("crash-record: {} {}: {} writes, {} acks{}{}\n", w->name, kind, t.writes, t.acks,
                         t.not_run.empty() ? "" : "; not run: " + t.not_run,
                         t.error.empty() ? "" : "; ERROR: " + t.error)
          << std::flush;
      tallies.push_back(t);
    }
  if (::umount(o.mnt.c_str()) != 0) throw_errno("umount " + o.mnt.string());
  return tallies;
}

}  // namespace dt
