#include "lib/torture/engine.hpp"

#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/fs.h>
#include <liburing.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "lib/btrfs/copies.hpp"
#include "lib/btrfs/fsinfo.hpp"
#include "lib/btrfs/layout.hpp"
#include "lib/run/kmsg.hpp"
#include "lib/torture/cost.hpp"
#include "lib/torture/pending.hpp"
#include "lib/sys/owned.hpp"
#include "lib/io/pattern.hpp"
#include "lib/io/uffd.hpp"
#include "lib/io/uring.hpp"
#include "lib/sys/sys.hpp"
#include "lib/torture/events.hpp"
#include "lib/torture/model.hpp"

namespace dt {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

nlohmann::json failure_to_json(const Failure& f) {
  nlohmann::json j = {{"type", "fail"}, {"seq", f.seq}, {"kind", f.kind}, {"op", f.op}, {"msg", f.msg}};
  if (!f.check.is_null()) j["check"] = f.check;
  return j;
}
Failure failure_from_json(const nlohmann::json& j) {
  return Failure{j.value("seq", uint64_t{0}), j.value("kind", ""), j.value("op", ""), j.value("msg", ""),
                 j.contains("check") ? j["check"] : nlohmann::json()};
}

std::vector<std::string> own_kernel_lines(const std::vector<std::string>& lines,
                                          const std::vector<std::string>& devices) {
  return attribute_kernel_log(lines, tool_tasks(devices), alive_outside_our_tree).ours;
}

std::string injection_from_env() {
  const char* v = std::getenv("DIOTORTURE_TORTURE_INJECT");
  return v ? v : "";
}

namespace {

constexpr uint64_t kBlock = 4096;
// The read-back paths of verify_range.
constexpr unsigned kViaDio = 1, kViaPageCache = 2, kViaBoth = kViaDio | kViaPageCache;
constexpr size_t kRegisteredSize = (8u << 20) + 2 * kBlock;

uint64_t round_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

Cost buffer_cost(BufSource b) {
  switch (b) {
    case BufSource::Heap: return Cost::BufHeap;
    case BufSource::Anon: return Cost::BufAnon;
    case BufSource::Mmap: return Cost::BufMmap;
    case BufSource::Memfd: return Cost::BufMemfd;
    case BufSource::Huge: return Cost::BufHuge;
    case BufSource::Uffd: return Cost::BufUffd;
    case BufSource::Registered: return Cost::BufRegistered;
  }
  return Cost::Other;
}

struct TFile {
  fs::path path;
  bool nocow = false;
  bool cloned_into = false;  // st_blocks of reflinked ranges is not a simple bound
  Fd dio, buf;
  FileModel model;
};

// The memory an op reads into or writes from, and whatever keeps it alive.
struct OpBuffer {
  char* p = nullptr;
  BufSource actual = BufSource::Heap;
  std::string note;
  std::optional<AlignedBuffer> heap;
  Mapping map;
  Fd memfd;
  std::unique_ptr<UserfaultRegion> uffd;
  std::shared_ptr<std::atomic<bool>> release;  // Fault::Never: set to let the handler answer
  std::shared_ptr<std::atomic<int>> faults;
  // Fault::AfterCompletion: the request index of the op's first CQE (-1:
  // none yet), and what the handler saw before it released the held fault.
  struct Seen {
    std::mutex mu;
    std::string text = "not faulted at or after the hold page";
  };
  std::shared_ptr<std::atomic<int>> first_cqe;
  std::shared_ptr<Seen> fault_seen;
};

class Engine {
 public:
  explicit Engine(const EngineConfig& cfg) : cfg_(cfg), t0_(Clock::now()) {}
  int run();

 private:
  void setup();
  void emit(const std::string& line);  // to the parent
  void log_step(const Step& s);        // to the op log
  bool fail(uint64_t seq, const std::string& kind, const std::string& op, const std::string& msg,
            nlohmann::json check = nlohmann::json());
  void exec(Step& s);
  void exec_rw(Step& s);
  void exec_mmap(Step& s);
  void exec_meta(Step& s);
  OpBuffer make_buffer(Step& s, uint64_t total, bool write);
  // Compares got[0..len) with the model of file f at off; adopts undefined bytes.
  bool check_data(const Step& s, TFile& f, uint64_t off, uint64_t len, const char* got, const char* how,
                  const char* via);
  unsigned index_of(const TFile& f) const { return static_cast<unsigned>(&f - files_.data()); }
  // paths: which read-backs (kViaDio, kViaPageCache); SEEK_HOLE always.
  bool verify_range(const Step& s, unsigned file, uint64_t lo, uint64_t hi, unsigned paths = kViaBoth);
  // After s changed [lo, hi) of a file: i_size (and after a sync st_blocks)
  // now; the read-backs now (--checks thorough) or owed (fast).
  bool check_range(const Step& s, unsigned file, uint64_t lo, uint64_t hi);
  // The owed read-backs of [lo, hi) of a file, charged to the ops that
  // changed them; settle_all: of everything.
  bool settle(unsigned file, uint64_t lo, uint64_t hi, uint64_t seq, unsigned paths = kViaBoth);
  bool settle_all(uint64_t seq);
  // Before s runs: the owed read-backs of the ranges it reads or destroys,
  // so a difference is found before anything could read or hide it.
  bool settle_inputs(const Step& s);
  void flush_oplog();
  bool check_copies(uint64_t seq, const char* when);
  bool check_kernel_log(uint64_t seq);
  bool final_checks(uint64_t seq);
  void progress(bool force);

  const EngineConfig& cfg_;
  Clock::time_point t0_, last_progress_{};
  std::vector<TFile> files_;
  fs::path subvol_;
  std::unique_ptr<Ring> ring_;
  std::optional<AlignedBuffer> registered_;
  std::unique_ptr<CopyReader> copies_;
  bool have_copies_ = false;
  std::unique_ptr<KmsgWatch> kmsg_;
  std::unique_ptr<EventRunner> events_;
  std::mutex out_mu_;
  std::atomic<uint64_t> current_seq_{0};
  std::atomic<bool> failed_{false};
  uint64_t ops_done_ = 0;
  std::vector<bool> touched_;  // files written since the last copy comparison
  std::vector<PendingRanges> pending_;  // --checks fast: read-backs owed, per file
  // The owed pieces the running read op checks through its own path: a
  // difference there is the owed op's (see settle_inputs).
  std::vector<std::pair<unsigned, PendingPiece>> read_owed_;
  // The op log goes through a buffer (one write a flush, not one a step):
  // flushed when large, every 100 ms by its own thread (so a hung op loses
  // none of the steps before it), at a failure and at the end.
  std::string oplog_buf_;
  std::thread oplog_flusher_;
  std::atomic<bool> stop_flusher_{false};
  uint64_t inject_after_ = 0;
  uint64_t comparisons_ = 0, compared_blocks_ = 0;
  uint64_t readback_bytes_ = 0;  // asked of the O_DIRECT and page-cache read-backs
  bool injected_ = false;
  bool hold_forever_ = false;
  CostClock cost_;  // the engine thread's time, by kind of work
};

void Engine::emit(const std::string& line) {
  if (cfg_.report_fd < 0) return;
  std::lock_guard<std::mutex> l(out_mu_);
  write_all(cfg_.report_fd, line + "\n");
}

void Engine::log_step(const Step& s) {
  if (cfg_.oplog_fd < 0) return;
  std::lock_guard<std::mutex> l(out_mu_);
  oplog_buf_ += step_to_line(s);
  oplog_buf_ += '\n';
  if (oplog_buf_.size() >= (64u << 10)) {
    write_all(cfg_.oplog_fd, oplog_buf_);
    oplog_buf_.clear();
  }
}

void Engine::flush_oplog() {
  if (cfg_.oplog_fd < 0) return;
  std::lock_guard<std::mutex> l(out_mu_);
  if (oplog_buf_.empty()) return;
  write_all(cfg_.oplog_fd, oplog_buf_);
  oplog_buf_.clear();
}

bool Engine::fail(uint64_t seq, const std::string& kind, const std::string& op, const std::string& msg,
                  nlohmann::json check) {
  if (failed_.exchange(true)) return false;
  const std::string line = failure_to_json(Failure{seq, kind, op, msg, std::move(check)}).dump();
  emit(line);
  if (cfg_.oplog_fd >= 0) {
    std::lock_guard<std::mutex> l(out_mu_);
    write_all(cfg_.oplog_fd, oplog_buf_ + line + "\n");  // the steps before it first
    oplog_buf_.clear();
  }
  return false;
}

void Engine::setup() {
  // A subvolume of its own: snapshots have a source, and every run (and
  // every shrink candidate) starts from nothing. A plain directory where
  // the filesystem has no subvolumes (an --allow-fs control).
  subvol_ = cfg_.work_dir / "sv";
  {
    Fd dir = open_or_throw(cfg_.work_dir, O_RDONLY | O_DIRECTORY);
    btrfs_ioctl_vol_args a{};
    std::snprintf(a.name, sizeof a.name, "sv");
    if (::ioctl(dir.get(), BTRFS_IOC_SUBVOL_CREATE, &a) != 0) fs::create_directories(subvol_);
  }
  fs::create_directories(subvol_ / "datasum");
  fs::create_directories(subvol_ / "nocow");
  try {
    set_nocow(subvol_ / "nocow");
  } catch (const std::exception& e) {
    emit(nlohmann::json{{"type", "note"}, {"msg", std::string("NOCOW directory: ") + e.what()}}.dump());
  }
  Fd spacer = open_or_throw(subvol_ / "spacer", O_RDWR | O_CREAT | O_TRUNC);
  for (const FileSetup& fsu : cfg_.header.files) {
    TFile f;
    f.path = subvol_ / fsu.name;
    f.nocow = fsu.nocow;
    if (fsu.layout.empty()) {
      open_or_throw(f.path, O_RDWR | O_CREAT | O_TRUNC);
    } else {
      LayoutSpec spec;
      if (!LayoutSpec::parse(fsu.layout, fsu.piece_size, &spec))
        throw std::runtime_error("bad layout letters " + fsu.layout);
      Fd built = build_layout(f.path, spec, fsu.layout_seed, spacer.get());
      LayoutCheck chk = check_layout(spec, fiemap(built.get()));
      if (!chk.ok)
        emit(nlohmann::json{{"type", "note"}, {"msg", fmt::format("{}: layout {} not realised: {}", fsu.name,
                                                                  fsu.layout, chk.summary)}}.dump());
      for (size_t i = 0; i < spec.pieces.size(); ++i) {
        if (spec.pieces[i] == Piece::Data)
          f.model.write_pattern(i * fsu.piece_size, fsu.piece_size, fsu.layout_seed);
        else
          f.model.extend_to((i + 1) * fsu.piece_size);
      }
    }
    f.dio = open_or_throw(f.path, O_RDWR | O_DIRECT);
    f.buf = open_or_throw(f.path, O_RDWR);
    files_.push_back(std::move(f));
  }
  spacer.reset();
  fs::remove(subvol_ / "spacer");
  touched_.assign(files_.size(), true);
  pending_.assign(files_.size(), PendingRanges());
  if (io_uring_unavailable_reason().empty()) {
    ring_ = std::make_unique<Ring>(64);
    registered_.emplace(kRegisteredSize);
    iovec iov{registered_->data(), registered_->size()};
    if (io_uring_register_buffers(ring_->get(), &iov, 1) != 0) registered_.reset();
  }
  try {
    copies_ = std::make_unique<CopyReader>(subvol_);
    have_copies_ = copies_->min_data_copies() > 1 || copies_->data_has_parity();
  } catch (const std::exception& e) {
    emit(nlohmann::json{{"type", "note"}, {"msg", std::string("no copy comparison: ") + e.what()}}.dump());
  }
  kmsg_ = std::make_unique<KmsgWatch>(fmt::format("diotorture torture seed {}", cfg_.header.seed));
  EventTargets targets{subvol_, subvol_, cfg_.work_dir, {}, cfg_.spares};
  for (const auto& f : files_) targets.files.push_back(f.path);
  events_ = std::make_unique<EventRunner>(
      targets,
      [this](const Step& s, const std::string& failure) {
        log_step(s);
        if (!failure.empty()) fail(s.seq, "scrub", s.event, failure);
      },
      [this] { return current_seq_.load(); });
}

OpBuffer Engine::make_buffer(Step& s, uint64_t total, bool write) {
  OpBuffer b;
  b.actual = s.buf;
  auto timed = cost_.in(buffer_cost(s.buf));
  const size_t ps = page_size();
  const uint64_t span = round_up(total + s.buf_misalign, ps);
  auto fill = [&](char* p) {
    if (write)
      fill_pattern(p, total, s.off, s.data_seed);
    else
      std::memset(p, 0xee, total);
  };
  if (b.actual == BufSource::Mmap) {
    TFile& src = files_.at(s.src_file);
    if (s.src_off + s.buf_misalign + total > src.model.size()) {
      b.actual = BufSource::Heap;
      b.note = fmt::format("mmap source beyond EOF of {}: heap buffer", src.path.filename().string());
    } else {
      b.map = Mapping::file(src.buf.get(), span, static_cast<off_t>(s.src_off), PROT_READ | PROT_WRITE, MAP_SHARED);
      b.p = b.map.data() + s.buf_misalign;
      return b;
    }
  }
  if (b.actual == BufSource::Registered) {
    if (!registered_ || total + s.buf_misalign > kRegisteredSize) throw std::runtime_error("no registered buffer");
    b.p = registered_->data() + s.buf_misalign;
    fill(b.p);
    return b;
  }
  if (b.actual == BufSource::Huge) {
    const uint64_t huge = round_up(total + s.buf_misalign, 2u << 20);
    void* p = ::mmap(nullptr, huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    if (p == MAP_FAILED) {
      b.actual = BufSource::Anon;
      b.note = "no huge pages available: anonymous memory";
    } else {
      b.map = Mapping(p, huge);
      b.p = b.map.data() + s.buf_misalign;
      fill(b.p);
      return b;
    }
  }
  if (b.actual == BufSource::Anon) {
    b.map = Mapping::anonymous(span);
    b.p = b.map.data() + s.buf_misalign;
    if (write) {
      fill(b.p);
    } else {
      // Only the chosen pages are populated; the kernel faults in the rest
      // during the read (the seed 000 window).
      for (size_t pg = 0; pg * ps < span; ++pg)
        if (s.touch_mask & (1ull << (pg % 64))) b.map.data()[pg * ps] = 0;
    }
    return b;
  }
  if (b.actual == BufSource::Memfd) {
    b.memfd.reset(::memfd_create("diotorture-torture", MFD_CLOEXEC));
    if (!b.memfd) throw_errno("memfd_create");
    if (::ftruncate(b.memfd.get(), static_cast<off_t>(span)) != 0) throw_errno("ftruncate memfd");
    b.map = Mapping::file(b.memfd.get(), span, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
    b.p = b.map.data() + s.buf_misalign;
    fill(b.p);
    return b;
  }
  if (b.actual == BufSource::Uffd) {
    b.uffd = std::make_unique<UserfaultRegion>(span);
    b.p = b.uffd->data() + s.buf_misalign;
    b.release = std::make_shared<std::atomic<bool>>(s.fault != Fault::Never);
    b.faults = std::make_shared<std::atomic<int>>(0);
    const uint64_t base_pos = s.off - s.buf_misalign;  // file position of buffer byte 0 (mod 2^64)
    const uint64_t seed = s.data_seed;
    const Fault fault = s.fault;
    const unsigned delay = s.fault_ms;
    const int inject = s.inject_page;
    const unsigned hold_page = s.hold_page;
    auto release = b.release;
    auto faults = b.faults;
    b.first_cqe = std::make_shared<std::atomic<int>>(-1);
    b.fault_seen = std::make_shared<OpBuffer::Seen>();
    auto first_cqe = b.first_cqe;
    auto seen = b.fault_seen;
    auto held = std::make_shared<bool>(false);  // only the handler thread touches it
    char* const base = b.uffd->data();
    b.uffd->serve([=](size_t page, char* out) {
      // The first fault of the op is held (the window the schedule opens);
      // the rest are answered at once, so a large buffer costs one delay.
      if (faults->fetch_add(1) == 0 && fault == Fault::Delay)
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
      if (holds_fault(fault, page, hold_page, *held)) {
        // Held until a partial completion of this op is seen (see Fault).
        // The handler thread holds it, so faults behind it wait too: only
        // requests wholly in the populated pages can complete meanwhile.
        *held = true;
        const auto h0 = Clock::now();
        const auto since = [&] {
          return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - h0).count();
        };
        std::lock_guard<std::mutex> l(seen->mu);
        for (;;) {
          if (const int r = first_cqe->load(); r >= 0) {
            seen->text = fmt::format("page {} held until the CQE of request {} ({} ms)", page, r, since());
            break;
          }
          if (!write && read_landed(reinterpret_cast<const unsigned char*>(base), hold_page * ps, 0xee)) {
            seen->text = fmt::format("page {} held until read data landed in pages before it ({} ms)", page, since());
            break;
          }
          if (since() >= kAfterCompletionBoundMs) {
            seen->text = fmt::format("page {} held {} ms: no completion observable, released", page,
                                kAfterCompletionBoundMs);
            break;
          }
          std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
      }
      while (!release->load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      if (!write) {
        std::memset(out, 0xee, ps);
        return;
      }
      // Test-only injection: one page served with the wrong bytes.
      const uint64_t s2 = static_cast<int>(page) == inject ? seed ^ 0xbadbadbadULL : seed;
      fill_pattern(out, ps, base_pos + page * ps, s2);
    });
    // AfterCompletion: the pages before the hold page are there when the op
    // starts (served at once as these reads fault them in).
    if (s.fault == Fault::AfterCompletion)
      for (size_t pg = 0; pg < s.hold_page && pg * ps < span; ++pg)
        (void)*reinterpret_cast<volatile char*>(base + pg * ps);
    return b;
  }
  // Heap.
  b.actual = BufSource::Heap;
  b.heap.emplace(span);
  b.p = b.heap->data() + s.buf_misalign;
  fill(b.p);
  return b;
}

// The model's segments of [off, off+len), for a repro to check against.
nlohmann::json expected_segments(const FileModel& m, uint64_t off, uint64_t len) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [start, seg] : m.segments()) {
    const uint64_t a = std::max(start, off), b = std::min(seg.end, off + len);
    if (a >= b) continue;
    const char* kind = seg.fill == Fill::Zero ? "zero" : seg.fill == Fill::Pattern ? "pattern" : "any";
    out.push_back({a, b, kind, seg.seed, seg.shift});
  }
  if (off + len > m.size()) out.push_back({std::max(off, m.size()), off + len, "zero", 0, 0});
  return out;
}

bool Engine::check_data(const Step& s, TFile& f, uint64_t off, uint64_t len, const char* got, const char* how,
                        const char* via) {
  if (len == 0) return true;
  std::vector<uint8_t> want(len), undef(len);
  {
    auto modelling = cost_.in(Cost::Model);
    f.model.expect(off, len, want.data(), undef.data());
  }
  // Undefined bytes may be anything: compare them against themselves.
  std::vector<char> w(reinterpret_cast<const char*>(want.data()), reinterpret_cast<const char*>(want.data()) + len);
  for (size_t i = 0; i < len; ++i)
    if (undef[i]) w[i] = got[i];
  if (std::memcmp(w.data(), got, len) != 0) {
    uint64_t bad = 0;
    auto ranges = diff_ranges(got, w.data(), len, off, 64, &bad);
    std::string who = s.is_event() ? s.event : s.op;
    for (const auto& [file, p] : read_owed_)
      if (file == index_of(f) && p.lo < off + len && off < p.hi) who = p.op;
    return fail(s.seq, "data", who,
                fmt::format("{} {} [{:#x},+{}): {}", f.path.filename().string(), how, off, len,
                            describe_bad_ranges(ranges, bad)),
                {{"what", "data"}, {"file", index_of(f)}, {"off", off}, {"len", len}, {"via", via},
                 {"expect", expected_segments(f.model, off, len)}});
  }
  auto modelling = cost_.in(Cost::Model);
  f.model.adopt(off, len, reinterpret_cast<const uint8_t*>(got));
  return true;
}

bool Engine::verify_range(const Step& s, unsigned file, uint64_t lo, uint64_t hi, unsigned paths) {
  TFile& f = files_.at(file);
  const std::string op = s.is_event() ? s.event : s.op;
  const std::string name = f.path.filename().string();
  std::optional<CostClock::Scope> timed(cost_.in(Cost::CheckSize));
  struct stat st{};
  if (::fstat(f.dio.get(), &st) != 0) throw_errno("fstat");
  const uint64_t size = f.model.size();
  if (static_cast<uint64_t>(st.st_size) != size)
    return fail(s.seq, "isize", op, fmt::format("{}: i_size {:#x}, the model says {:#x}", name, st.st_size, size),
                {{"what", "isize"}, {"file", file}, {"want", size}});
  // Direct writes add their bytes when the ordered extent finishes, after
  // the write returned: st_blocks is only a bound once the file is synced.
  const bool synced = s.op == "fsync" || s.op == "fdatasync" || s.event == "final";
  uint64_t full_blocks = 0;
  if (synced && !f.cloned_into) {
    auto modelling = cost_.in(Cost::Model);
    for (auto [a, b] : f.model.data_ranges()) {
      const uint64_t fa = round_up(a, kBlock), fb = b / kBlock * kBlock;
      if (fb > fa) full_blocks += (fb - fa) / kBlock;
    }
  }
  if (synced && !f.cloned_into && static_cast<uint64_t>(st.st_blocks) * 512 < full_blocks * kBlock)
    return fail(s.seq, "blocks", op,
                fmt::format("{}: st_blocks {} ({} bytes) is less than the {} bytes of data the model has", name,
                            st.st_blocks, st.st_blocks * 512, full_blocks * kBlock));
  lo = lo / kBlock * kBlock;
  hi = std::min(round_up(hi, kBlock), round_up(size, kBlock));
  if (hi <= lo) return true;
  const uint64_t len = hi - lo, want = std::min(len, size - lo);
  // The same range through O_DIRECT, then through the page cache: both must
  // match the model (the first read adopts undefined bytes, the second must
  // agree with it).
  AlignedBuffer got(len);
  auto read_back = [&](int fd, const char* how, const char* via) {
    readback_bytes_ += len;
    ssize_t n = ::pread(fd, got.data(), len, static_cast<off_t>(lo));
    if (n < 0)
      return fail(s.seq, errno == EIO ? "eio" : "error", op,
                  fmt::format("{}: {} of [{:#x},+{}) failed: {}", name, how, lo, len, errno_name(errno)),
                  {{"what", "read-error"}, {"file", file}, {"off", lo}, {"len", len}, {"via", via}});
    if (static_cast<uint64_t>(n) != want)
      return fail(s.seq, "short-read", op,
                  fmt::format("{}: {} of [{:#x},+{}) returned {} of {} bytes (i_size {:#x})", name, how, lo, len, n,
                              want, size));
    return check_data(s, f, lo, want, got.data(), how, via);
  };
  timed.reset();
  timed.emplace(cost_.in(Cost::CheckDio));
  if ((paths & kViaDio) && !read_back(f.dio.get(), "O_DIRECT read-back", "dio")) return false;
  timed.reset();
  timed.emplace(cost_.in(Cost::CheckPageCache));
  if ((paths & kViaPageCache) && !read_back(f.buf.get(), "page-cache read-back", "page-cache")) return false;
  timed.reset();
  timed.emplace(cost_.in(Cost::CheckHoles));
  const auto data = f.model.data_ranges();  // the reads may have settled undefined bytes
  for (const Range& h : holes_in(f.dio.get(), lo, want)) {
    for (auto [a, e] : data) {
      if (a < h.end && h.start < e)
        return fail(s.seq, "hole", op,
                    fmt::format("{}: SEEK_HOLE reports a hole at [{:#x},{:#x}) where the model has data [{:#x},{:#x})",
                                name, h.start, h.end, std::max(a, h.start), std::min(e, h.end)),
                    {{"what", "hole"}, {"file", file}, {"off", std::max(a, h.start)},
                     {"len", std::min(e, h.end) - std::max(a, h.start)}});
    }
  }
  return true;
}

// Reads and writes through the O_DIRECT descriptor (sync calls and io_uring)
// and the buffered one.
void Engine::exec_rw(Step& s) {
  const OpInfo& info = s.info();
  const bool write = info.caps & kCapWrite;
  const bool direct = info.caps & kCapDirect;
  TFile& f = files_.at(s.file);
  const int fd = direct ? f.dio.get() : f.buf.get();
  const uint64_t total = s.len * s.qd;
  OpBuffer b = make_buffer(s, total, write);
  // Tearing the buffer down (munmap, the userfaultfd handler's exit) is
  // charged to its source too.
  struct Teardown {
    CostClock& c;
    OpBuffer& b;
    ~Teardown() {
      auto timed = c.in(buffer_cost(b.actual));
      OpBuffer gone = std::move(b);
    }
  } teardown{cost_, b};
  if (!b.note.empty()) s.note = b.note;
  // Requests: qd consecutive ranges of len bytes, each split into iovs pieces.
  std::vector<std::vector<iovec>> iovs(s.qd);
  bool misaligned = s.off % kBlock || s.len % kBlock || reinterpret_cast<uintptr_t>(b.p) % kBlock;
  for (unsigned r = 0; r < s.qd; ++r) {
    const uint64_t piece = s.len / s.iovs;
    uint64_t done = 0;
    for (unsigned i = 0; i < s.iovs; ++i) {
      const uint64_t l = i + 1 == s.iovs ? s.len - done : piece;
      iovs[r].push_back({b.p + r * s.len + done, l});
      misaligned |= l % kBlock != 0;
      done += l;
    }
  }
  int rwf = 0;
  if (s.flags & kFlagNowait) rwf |= RWF_NOWAIT;
  if (s.flags & kFlagDsync) rwf |= RWF_DSYNC;
  if (s.flags & kFlagAppend) rwf |= RWF_APPEND;
  const uint64_t size_before = f.model.size();
  // A mutator keeps changing the buffer while the write runs (seed 002).
  std::atomic<bool> stop_mutating{false};
  std::thread mutator;
  std::optional<CostClock::Scope> threads(cost_.in(Cost::Mutator));
  if (write && (s.flags & kFlagMutate)) {
    mutator = std::thread([&] {
      for (uint64_t round = 1; !stop_mutating.load(); ++round) fill_pattern(b.p, total, s.off, s.data_seed + round);
    });
  }
  std::thread releaser;
  if (b.release && !b.release->load() && !std::exchange(hold_forever_, false)) {
    // Fault::Never: the op is expected to block in the fault. It is held
    // there for a while, checked to be blocked, then let go, so a run with
    // such faults stays bounded (and the watchdog backs this up).
    releaser = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      s.note = b.faults->load() ? "held in the userfaultfd fault for 300 ms as scheduled, then released"
                                : "the op did not fault on its buffer within 300 ms";
      b.release->store(true);
    });
  }
  threads.reset();
  s.res.clear();
  if (info.caps & kCapUring) {
    io_uring* ring = ring_->get();
    for (unsigned r = 0; r < s.qd; ++r) {
      io_uring_sqe* sqe = io_uring_get_sqe(ring);
      const uint64_t off = s.off + r * s.len;
      if (info.caps & kCapFixed) {
        if (write)
          io_uring_prep_write_fixed(sqe, fd, iovs[r][0].iov_base, static_cast<unsigned>(s.len), off, 0);
        else
          io_uring_prep_read_fixed(sqe, fd, iovs[r][0].iov_base, static_cast<unsigned>(s.len), off, 0);
      } else if (info.caps & kCapVectored) {
        if (write)
          io_uring_prep_writev(sqe, fd, iovs[r].data(), static_cast<unsigned>(iovs[r].size()), off);
        else
          io_uring_prep_readv(sqe, fd, iovs[r].data(), static_cast<unsigned>(iovs[r].size()), off);
      } else {
        if (write)
          io_uring_prep_write(sqe, fd, iovs[r][0].iov_base, static_cast<unsigned>(s.len), off);
        else
          io_uring_prep_read(sqe, fd, iovs[r][0].iov_base, static_cast<unsigned>(s.len), off);
      }
      sqe->rw_flags = rwf;
      if (s.flags & kFlagAsync) sqe->flags |= IOSQE_ASYNC;
      sqe->user_data = r;
    }
    s.res.assign(s.qd, 0);
    ring_->submit_and_reap(s.qd, [&](uint64_t ud, int res) {
      s.res.at(ud) = res;
      if (b.first_cqe) {
        int none = -1;
        b.first_cqe->compare_exchange_strong(none, static_cast<int>(ud));
      }
    });
  } else {
    ssize_t n;
    if (rwf == 0 && s.iovs == 1)
      n = write ? ::pwrite(fd, b.p, s.len, static_cast<off_t>(s.off)) : ::pread(fd, b.p, s.len, static_cast<off_t>(s.off));
    else
      n = write ? ::pwritev2(fd, iovs[0].data(), static_cast<int>(s.iovs), static_cast<off_t>(s.off), rwf)
                : ::preadv2(fd, iovs[0].data(), static_cast<int>(s.iovs), static_cast<off_t>(s.off), rwf);
    s.res.push_back(n < 0 ? -errno : n);
  }
  threads.emplace(cost_.in(Cost::Mutator));
  if (mutator.joinable()) {
    stop_mutating = true;
    mutator.join();
  }
  if (releaser.joinable()) releaser.join();
  threads.reset();
  if (s.fault == Fault::AfterCompletion && b.fault_seen) {
    std::lock_guard<std::mutex> l(b.fault_seen->mu);  // a held fault was let go before the op could end
    s.fault_seen = b.fault_seen->text;
  }

  // The answer must be exactly one the model allows.
  std::optional<CostClock::Scope> judging(cost_.in(Cost::CheckResult));
  const std::string name = f.path.filename().string();
  for (unsigned r = 0; r < s.qd && !failed_; ++r) {
    const int64_t res = s.res[r];
    const uint64_t off = s.off + r * s.len;
    const uint64_t landing = (s.flags & kFlagAppend) ? f.model.size() : off;
    const char* where = write ? "write" : "read";
    const bool into_other_mapping =
        !write && b.actual == BufSource::Mmap && !(s.src_file == s.file && s.src_off + s.buf_misalign == s.off);
    if (into_other_mapping) {
      // A read may write its buffer past the count it returns (iomap zeroes
      // the part beyond EOF, then trims the count): that part of the mapped
      // file is undefined, whatever the answer.
      files_[s.src_file].model.undefine(s.src_off + s.buf_misalign + r * s.len, s.len);
      touched_[s.src_file] = true;
    }
    if (res == -EINVAL && direct && misaligned) continue;     // O_DIRECT may refuse misaligned I/O
    if (res == -EAGAIN && (s.flags & kFlagNowait)) continue;  // NOWAIT may refuse to block
    if (res < 0) {
      fail(s.seq, res == -EIO ? "eio" : "error", s.op,
           fmt::format("{} {} of {} bytes at {:#x} failed: {}", name, where, s.len, off, errno_name(static_cast<int>(-res))),
           {{"what", "error"}, {"request", r}});
      break;
    }
    if (!write) {
      const uint64_t want = off >= f.model.size() ? 0 : std::min(s.len, f.model.size() - off);
      if (static_cast<uint64_t>(res) < want && (s.flags & kFlagNowait)) {
        // Asked for with RWF_NOWAIT, a partial read is the documented answer
        // (preadv2(2): "if some data was successfully read, it will return the
        // number of bytes read"); the bytes it did return are checked. A
        // short read nobody asked to be NOWAIT (seed 000) is a failure.
        s.note += fmt::format("{}short RWF_NOWAIT read (legal): {} of {}", s.note.empty() ? "" : "; ", res, want);
      } else if (static_cast<uint64_t>(res) < want) {
        fail(s.seq, "short-read", s.op,
             fmt::format("short read: {} of {} bytes at {:#x} of {}, inside i_size {:#x}", res, s.len, off, name,
                         f.model.size()),
             {{"what", "short-read"}, {"request", r}, {"want", want}});
        break;
      }
      if (static_cast<uint64_t>(res) > want) {
        fail(s.seq, "isize", s.op,
             fmt::format("read of {} bytes at {:#x} of {} returned {}: past the model's i_size {:#x}", s.len, off, name,
                         res, f.model.size()));
        break;
      }
      if (!check_data(s, f, off, static_cast<uint64_t>(res), b.p + r * s.len, "read", "buffer")) break;
      if (into_other_mapping)  // what it returned landed in the page cache of the mapped file
        files_[s.src_file].model.copy_from(f.model, off, s.src_off + s.buf_misalign + r * s.len, static_cast<uint64_t>(res));
      continue;
    }
    // A write: the model takes exactly what was written.
    const uint64_t n = static_cast<uint64_t>(res);
    if (n > s.len) {
      fail(s.seq, "error", s.op, fmt::format("{} write returned {} for {} bytes", name, n, s.len));
      break;
    }
    if (n < s.len) s.note += fmt::format("{}short write: {} of {}", s.note.empty() ? "" : "; ", n, s.len);
    auto modelling = cost_.in(Cost::Model);
    if (s.flags & kFlagMutate) {
      f.model.write_undefined(landing, n);
    } else if (b.actual == BufSource::Mmap) {
      f.model.copy_from(files_[s.src_file].model, s.src_off + s.buf_misalign + r * s.len, landing, n);
    } else {
      f.model.write_pattern(landing, n, s.data_seed, static_cast<int64_t>(landing) - static_cast<int64_t>(off));
    }
    touched_[s.file] = true;
  }
  judging.reset();
  if (failed_) return;
  if (write) {
    const uint64_t lo = (s.flags & kFlagAppend) ? size_before : s.off;
    check_range(s, s.file, lo, std::max(lo + total, s.off + total));
  } else if (b.actual == BufSource::Mmap && s.src_file != s.file) {
    check_range(s, s.src_file, s.src_off, s.src_off + s.buf_misalign + total);
  } else {
    verify_range(s, s.file, 0, 0);  // i_size and st_blocks
  }
}

void Engine::exec_mmap(Step& s) {
  TFile& f = files_.at(s.file);
  const bool write = s.info().kind == OpKind::MmapWrite;
  const uint64_t size = f.model.size();
  if (s.off >= size) {
    s.res = {0};
    s.note = "beyond EOF: nothing mapped";
    verify_range(s, s.file, 0, 0);
    return;
  }
  const uint64_t len = std::min(s.len, size - s.off);
  const uint64_t ps = page_size(), start = s.off / ps * ps;
  Mapping m = Mapping::file(f.buf.get(), round_up(s.off + len, ps) - start, static_cast<off_t>(start),
                            PROT_READ | PROT_WRITE, MAP_SHARED);
  char* p = m.data() + (s.off - start);
  if (write) {
    fill_pattern(p, len, s.off, s.data_seed);
    {
      auto timed = cost_.in(Cost::Model);
      f.model.write_pattern(s.off, len, s.data_seed);
    }
    touched_[s.file] = true;
    s.res = {static_cast<int64_t>(len)};
    check_range(s, s.file, s.off, s.off + len);
  } else {
    std::vector<char> copy(p, p + len);
    s.res = {static_cast<int64_t>(len)};
    auto judging = cost_.in(Cost::CheckResult);
    check_data(s, f, s.off, len, copy.data(), "mmap read", "mmap");
  }
}

void Engine::exec_meta(Step& s) {
  TFile& f = files_.at(s.file);
  int rc = 0;
  uint64_t lo = s.off, hi = s.off + s.len;
  const uint64_t old_size = f.model.size();
  auto errno_rc = [](int r) { return r == 0 ? 0 : -errno; };
  switch (s.info().kind) {
    case OpKind::Read:
    case OpKind::Write:
    case OpKind::MmapRead:
    case OpKind::MmapWrite:
      throw std::logic_error(s.op + " is not a meta op");
    case OpKind::Fsync:
    case OpKind::Fdatasync:
      rc = errno_rc(s.info().kind == OpKind::Fsync ? ::fsync(f.dio.get()) : ::fdatasync(f.dio.get()));
      lo = hi = 0;
      break;
    case OpKind::Fallocate:
      rc = errno_rc(::fallocate(f.dio.get(), (s.flags & kFlagKeepSize) ? FALLOC_FL_KEEP_SIZE : 0,
                                static_cast<off_t>(s.off), static_cast<off_t>(s.len)));
      if (rc == 0 && !(s.flags & kFlagKeepSize)) f.model.extend_to(s.off + s.len);
      break;
    case OpKind::Punch:
      rc = errno_rc(::fallocate(f.dio.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(s.off),
                                static_cast<off_t>(s.len)));
      if (rc == 0) f.model.zero(s.off, s.len);
      break;
    case OpKind::ZeroRange:
      rc = errno_rc(::fallocate(f.dio.get(), FALLOC_FL_ZERO_RANGE | ((s.flags & kFlagKeepSize) ? FALLOC_FL_KEEP_SIZE : 0),
                                static_cast<off_t>(s.off), static_cast<off_t>(s.len)));
      if (rc == 0) {
        f.model.zero(s.off, s.len);
        if (!(s.flags & kFlagKeepSize)) f.model.extend_to(s.off + s.len);
      }
      break;
    case OpKind::Truncate:
      rc = errno_rc(::ftruncate(f.dio.get(), static_cast<off_t>(s.off)));
      if (rc == 0) f.model.truncate(s.off);
      lo = std::min(old_size, s.off) / kBlock * kBlock;
      hi = std::max(old_size, s.off);
      break;
    case OpKind::Reflink: {
      TFile& src = files_.at(s.src_file);
      file_clone_range a{};
      a.src_fd = src.dio.get();
      a.src_offset = s.src_off;
      a.src_length = s.len;
      a.dest_offset = s.off;
      rc = errno_rc(::ioctl(f.dio.get(), FICLONERANGE, &a));
      if (rc == 0) {
        f.model.copy_from(src.model, s.src_off, s.off, s.len);
        f.cloned_into = true;
      }
      break;
    }
  }
  s.res = {rc};
  if (rc != 0) {
    // Refusals the interfaces document for these arguments: EINVAL (range
    // beyond EOF, unaligned clone, NOCOW and checksummed files mixed, the
    // same file overlapping), EOPNOTSUPP (a mode the filesystem lacks).
    if (rc == -EINVAL || rc == -EOPNOTSUPP || rc == -EXDEV) {
      s.note = "refused: " + errno_name(-rc);
    } else {
      fail(s.seq, rc == -EIO ? "eio" : "error", s.op,
           fmt::format("{} on {} [{:#x},+{}) failed: {}", s.op, f.path.filename().string(), s.off, s.len,
                       errno_name(-rc)));
      return;
    }
  }
  touched_[s.file] = true;
  check_range(s, s.file, lo, hi);
}

void Engine::exec(Step& s) {
  const uint32_t caps = s.info().caps;
  if ((caps & kCapUring) && !ring_) {
    s.note = "io_uring unavailable: skipped";
    return;
  }
  if ((caps & kCapFixed) && !registered_) {
    s.note = "no registered buffer: skipped";
    return;
  }
  read_owed_.clear();
  if (!settle_inputs(s)) return;
  switch (s.info().kind) {
    case OpKind::Read:
    case OpKind::Write:
      exec_rw(s);
      break;
    case OpKind::MmapRead:
    case OpKind::MmapWrite:
      exec_mmap(s);
      break;
    case OpKind::Fsync:
    case OpKind::Fdatasync:
    case OpKind::Fallocate:
    case OpKind::Punch:
    case OpKind::ZeroRange:
    case OpKind::Truncate:
    case OpKind::Reflink:
      exec_meta(s);
      break;
  }
  read_owed_.clear();
}

bool Engine::check_range(const Step& s, unsigned file, uint64_t lo, uint64_t hi) {
  if (cfg_.thorough_checks) return verify_range(s, file, lo, hi);
  if (!verify_range(s, file, 0, 0)) return false;
  pending_.at(file).add(lo, hi, s.is_event() ? s.event : s.op);
  return true;
}

bool Engine::settle(unsigned file, uint64_t lo, uint64_t hi, uint64_t seq, unsigned paths) {
  for (const PendingPiece& p : pending_.at(file).take(lo, hi)) {
    // Charged to the op that changed the range: the op a thorough run
    // would have found the difference after (the shrinker's "same way").
    Step owed;
    owed.seq = seq;
    owed.op = p.op;
    if (paths != kViaBoth) read_owed_.push_back({file, p});
    if (!verify_range(owed, file, p.lo, p.hi, paths)) return false;
  }
  return !failed_;
}

bool Engine::settle_all(uint64_t seq) {
  for (unsigned i = 0; i < files_.size(); ++i)
    if (!settle(i, 0, UINT64_MAX, seq)) return false;
  return !failed_;
}

bool Engine::settle_inputs(const Step& s) {
  if (cfg_.thorough_checks) return true;
  const uint32_t caps = s.info().caps;
  const uint64_t total = s.len * s.qd;
  // What the op reads: its range (a buffered write reads the partial pages
  // it fills; a mapping faults its pages in), an mmap buffer's source range,
  // a clone's source. What it destroys: a punched or zeroed range, the tail
  // a truncate cuts. A direct write's own range is not read: what it
  // overwrites stays owed only where it does not.
  bool ok = true;
  // A read that must return every byte it asks for (aligned, not NOWAIT:
  // no EINVAL, EAGAIN or partial answer allowed) checks its own path's
  // read-back itself: only the other path is read back first, and a
  // difference its own check finds there is charged to the owed op.
  const bool direct = caps & kCapDirect;
  const bool full_read = (caps & kCapRead) && !(caps & kCapMmap) && !(s.flags & kFlagNowait) &&
                         s.off % kBlock == 0 && s.len % kBlock == 0 && s.buf_misalign % kBlock == 0 &&
                         (s.len / s.iovs) % kBlock == 0 && s.buf != BufSource::Mmap;
  if (full_read)
    ok = settle(s.file, s.off, s.off + total, s.seq, direct ? kViaPageCache : kViaDio);
  else if ((caps & kCapRead) || (caps & kCapMmap) || ((caps & kCapWrite) && !direct))
    ok = settle(s.file, s.off, s.off + total, s.seq);
  if (ok && (caps & kCapBuffer) && s.buf == BufSource::Mmap)
    ok = settle(s.src_file, s.src_off, s.src_off + s.buf_misalign + total, s.seq);
  const OpKind kind = s.info().kind;
  if (ok && (kind == OpKind::Punch || kind == OpKind::ZeroRange)) ok = settle(s.file, s.off, s.off + s.len, s.seq);
  if (ok && kind == OpKind::Truncate) ok = settle(s.file, s.off, UINT64_MAX, s.seq);
  if (ok && kind == OpKind::Reflink) ok = settle(s.src_file, s.src_off, s.src_off + s.len, s.seq);
  return ok;
}

bool Engine::check_copies(uint64_t seq, const char* when) {
  if (!copies_ || !have_copies_) return true;
  // Relocation moves extents under a comparison: wait for events to end.
  {
    auto timed = cost_.in(Cost::Events);
    events_->drain();
  }
  auto timed = cost_.in(Cost::Copies);
  copies_->refresh();
  for (size_t i = 0; i < files_.size() && !failed_; ++i) {
    if (!touched_[i]) continue;
    TFile& f = files_[i];
    CopyComparison c = copies_->compare(f.dio.get(), 0, f.model.size());
    touched_[i] = false;
    ++comparisons_;
    compared_blocks_ += c.blocks;
    if (!c.mismatches.empty())
      return fail(seq, "copies", when,
                  fmt::format("{}: {} of {} blocks differ between copies ({}); first: {}", f.path.filename().string(),
                              c.mismatches.size(), c.blocks, c.profile, describe_mismatch(c.mismatches.front())),
                  {{"what", "copies"}, {"file", i}, {"off", c.mismatches.front().file_offset},
                   {"len", copies_->devices().sectorsize}});
  }
  return !failed_;
}

bool Engine::check_kernel_log(uint64_t seq) {
  if (!kmsg_) return true;
  auto timed = cost_.in(Cost::KernelLog);
  std::vector<std::string> devs = cfg_.spares;  // a spare is the filesystem's while added
  if (copies_)
    for (const auto& d : copies_->devices().devices) devs.push_back(d.path);
  auto lines = own_kernel_lines(kmsg_->collect(), devs);
  auto findings = scan_kernel_log(lines);
  if (findings.empty()) return true;
  return fail(seq, "kernel-log", "kernel", findings.front().line);
}

bool Engine::final_checks(uint64_t seq) {
  {
    auto timed = cost_.in(Cost::Events);
    events_->drain();
  }
  if (failed_) return false;
  std::string restored;
  if (!events_->restore_devices(&restored)) return fail(seq, "error", "final", restored);
  if (!restored.empty()) emit(nlohmann::json{{"type", "note"}, {"msg", restored}}.dump());
  Step end;
  end.seq = seq;
  end.event = "final";
  for (unsigned i = 0; i < files_.size(); ++i)
    if (!verify_range(end, i, 0, files_[i].model.size())) return false;
  std::fill(touched_.begin(), touched_.end(), true);
  if (!check_copies(seq, "final")) return false;
  if (have_copies_)
    emit(nlohmann::json{{"type", "note"},
                        {"msg", fmt::format("copies compared {} times ({} file blocks, {}): none differ", comparisons_,
                                            compared_blocks_, copies_->data_profile())}}
             .dump());
  else
    emit(nlohmann::json{{"type", "note"}, {"msg", "no copies to compare on this profile"}}.dump());
  // After the copies agree, the scrub checks checksums and metadata.
  if (copies_ && cfg_.final_scrub) {
    auto timed = cost_.in(Cost::Scrub);
    Fd root = open_or_throw(subvol_, O_RDONLY | O_DIRECTORY);
    ScrubTotals t = scrub_readonly(root.get(), copies_->devices());
    emit(nlohmann::json{{"type", "note"}, {"msg", "final read-only scrub: " + t.summary()}}.dump());
    if (t.errors()) return fail(seq, "scrub", "final", "final read-only scrub: " + t.summary());
  }
  return check_kernel_log(seq);
}

void Engine::progress(bool force) {
  const auto now = Clock::now();
  if (!force && now - last_progress_ < std::chrono::milliseconds(500)) return;
  last_progress_ = now;
  emit(nlohmann::json{{"type", "progress"},
                      {"ops", ops_done_},
                      {"seq", current_seq_.load()},
                      {"elapsed", std::chrono::duration<double>(now - t0_).count()},
                      {"events", events_ ? events_->running() : ""}}
           .dump());
}

int Engine::run() {
  {
    auto timed = cost_.in(Cost::Setup);
    setup();
  }
  oplog_flusher_ = std::thread([this] {
    while (!stop_flusher_.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      flush_oplog();
    }
  });
  struct StopFlusher {
    Engine& e;
    ~StopFlusher() {
      e.stop_flusher_ = true;
      e.oplog_flusher_.join();
      e.flush_oplog();
    }
  } stop_flusher{*this};
  std::optional<StepGenerator> gen;
  if (!cfg_.replaying) gen.emplace(cfg_.header.seed, cfg_.mix, cfg_.header);
  if (!cfg_.inject.empty()) inject_after_ = 1 + cfg_.header.seed % 40;
  size_t replay_index = 0;
  uint64_t last_seq = 0;
  for (;;) {
    if (failed_) break;
    Step s;
    if (cfg_.replaying) {
      if (replay_index == cfg_.replay.size()) break;
      s = cfg_.replay[replay_index++];
      s.res.clear();
      s.note.clear();
      s.fault_seen.clear();
      s.t_us = s.dur_us = s.end_seq = 0;
    } else {
      if (cfg_.max_ops && ops_done_ >= cfg_.max_ops) break;
      if (!cfg_.max_ops && std::chrono::duration<double>(Clock::now() - t0_).count() >= cfg_.duration_s) break;
      s = gen->next();
      if (!injected_ && inject_after_ && s.seq >= inject_after_ && !s.is_event() && s.buf == BufSource::Uffd &&
          (s.info().caps & kCapWrite)) {
        s.flags &= ~(kFlagNowait | kFlagMutate);
        injected_ = true;
        if (cfg_.inject == "uffd-hang") {
          // Test-only: a fault never answered, to prove the watchdog's HANG.
          s.fault = Fault::Never;
          hold_forever_ = true;
        } else {
          s.inject_page = 0;
        }
      }
    }
    last_seq = s.seq;
    current_seq_ = s.seq;
    s.t_us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0_).count());
    if (s.is_event()) {
      // An event may hide a difference (drop-caches, relocation): every
      // owed read-back first.
      if (!settle_all(s.seq)) break;
      auto timed = cost_.in(Cost::Events);
      events_->submit(s);  // logged by the event thread when it ends
      continue;
    }
    {
      auto timed = cost_.in(Cost::Report);
      emit(nlohmann::json{{"type", "start"}, {"step", step_to_json(s)}}.dump());
    }
    const auto t = Clock::now();
    const std::vector<std::string> held_at_start = events_->confirm_held();  // states.hpp
    try {
      auto timed = cost_.in(Cost::Op);
      exec(s);
    } catch (const std::exception& e) {
      fail(s.seq, "error", s.op, fmt::format("{} could not be run: {}", s.op, e.what()));
    }
    s.states = held_through(held_at_start, events_->confirm_held());
    s.dur_us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count());
    {
      auto timed = cost_.in(Cost::Oplog);
      log_step(s);
    }
    ++ops_done_;
    if (!failed_ && !cfg_.thorough_checks && read_back_due(cfg_.header.seed, s.seq)) settle_all(s.seq);
    {
      auto timed = cost_.in(Cost::Report);
      progress(false);
    }
    if (!failed_ && ops_done_ % cfg_.copies_every == 0) {
      check_copies(s.seq, "burst");
      if (!failed_) check_kernel_log(s.seq);
    }
  }
  if (!failed_) settle_all(last_seq);  // nothing owed is left unchecked, final checks or not
  if (!failed_ && cfg_.final_checks) final_checks(last_seq);
  {
    auto timed = cost_.in(Cost::Events);
    events_->drain();
    events_.reset();
  }
  flush_oplog();
  progress(true);
  nlohmann::json breakdown = cost_to_json(cost_.seconds(), cost_.wall());
  breakdown["readback_bytes"] = readback_bytes_;
  emit(nlohmann::json{{"type", "timing"}, {"breakdown", breakdown}}.dump());
  return failed_ ? 1 : 0;
}

}  // namespace

int run_engine(const EngineConfig& cfg) {
  Engine e(cfg);
  return e.run();
}

}  // namespace dt
