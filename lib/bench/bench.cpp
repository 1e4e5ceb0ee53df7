#include "lib/bench/bench.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <liburing.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <latch>
#include <stdexcept>
#include <thread>

#include "lib/btrfs/layout.hpp"
#include "lib/io/iopath.hpp"
#include "lib/io/pattern.hpp"
#include "lib/sys/interrupt.hpp"
#include "lib/sys/physmem.hpp"
#include "lib/sys/spellcheck.hpp"
#include "lib/sys/sys.hpp"

namespace dt {
namespace {

void check_transfer(const char* what, int64_t res, uint64_t want, uint64_t off) {
  if (res == static_cast<int64_t>(want)) return;
  if (res < 0) throw std::runtime_error(fmt::format("{} at {:#x} failed: {}", what, off, errno_name(static_cast<int>(-res))));
  throw std::runtime_error(fmt::format("{} at {:#x}: short transfer, {} of {} bytes", what, off, res, want));
}

// SIGINT/SIGTERM must stop a 4 GiB pass within moments, but a syscall per
// 4 KiB block would show in the numbers: look every 8 MiB.
class InterruptCheck {
 public:
  explicit InterruptCheck(uint64_t block_size) : every_(std::max<uint64_t>(1, (8ull << 20) / block_size)) {}
  void block_done() {
    if (++n_ % every_ == 0) throw_if_interrupted();
  }

 private:
  uint64_t every_, n_ = 0;
};

using Clock = std::chrono::steady_clock;

uint64_t ns_since(Clock::time_point t0, Clock::time_point t1) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
}

// The offsets and read/write choices of one pass: in order, or uniformly at
// random over the region's blocks (xorshift64*: a few instructions per I/O,
// so the generator costs nothing next to a system call).
class OffsetStream {
 public:
  OffsetStream(const PassSpec& s, uint64_t bs)
      : spec_(s), bs_(bs), blocks_(std::max<uint64_t>(1, s.region / bs)), state_(s.seed * 0x9E3779B97F4A7C15ull | 1) {}
  uint64_t count() const { return spec_.bytes / bs_; }
  // The i-th I/O: its offset, and whether it is a write.
  std::pair<uint64_t, bool> next() {
    uint64_t block = spec_.random ? draw() % blocks_ : seq_++ % blocks_;
    bool write = spec_.read_pct == 0 || (spec_.read_pct < 100 && draw() % 100 >= spec_.read_pct);
    return {spec_.base + block * bs_, write};
  }

 private:
  uint64_t draw() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1Dull;
  }
  const PassSpec& spec_;
  uint64_t bs_, blocks_, state_, seq_ = 0;
};

// An I/O buffer holding the pattern, in as few physically contiguous runs as
// a few tries get from the page allocator (see lib/sys/physmem.hpp). Pages a
// process has freed come back to it one at a time, often in descending
// order, so a buffer made after the layout pass could lie in nearly as many
// runs as pages, and then every 1 MiB bio on a loop device was split: the
// same read cell moved between 0.029 and 0.037 CPU s/GiB from one run to the
// next. Each try keeps the pages of the ones before, so it draws others; the
// buffer in the fewest runs is kept and the rest are freed.
struct IoBuffer {
  AlignedBuffer mem;
  size_t runs = 0;  // 0: the kernel hides frame numbers (not root)
};
IoBuffer io_buffer(uint64_t len, uint64_t pattern_offset) {
  // At most 16 tries and 64 MiB held at once (--block-size goes to 1 GiB).
  const uint64_t tries = std::clamp<uint64_t>((64ull << 20) / len, 1, 16);
  // 64 KiB runs on average: one segment each at the usual 64 KiB limit.
  const size_t enough = std::max<uint64_t>(1, len / (64 << 10));
  std::vector<IoBuffer> tried;
  for (uint64_t i = 0; i < tries; ++i) {
    IoBuffer b{AlignedBuffer(len)};
    fill_pattern(b.mem.data(), len, pattern_offset, 1);
    const auto frames = physical_frames(b.mem.data(), len);
    if (!frames) return b;
    b.runs = contiguous_runs(*frames);
    tried.push_back(std::move(b));
    if (tried.back().runs <= enough) break;
  }
  auto best = std::min_element(tried.begin(), tried.end(), [](const IoBuffer& a, const IoBuffer& b) { return a.runs < b.runs; });
  return std::move(*best);
}

// pread/pwrite, one block at a time: fio's psync engine.
class PsyncEngine : public IoEngine {
 public:
  PsyncEngine(int fd, uint64_t bs) : fd_(fd), bs_(bs), buf_(io_buffer(bs, 0)) {}
  size_t buffer_runs() const override { return buf_.runs; }
  void pass(const PassSpec& spec) override {
    throw_if_interrupted();
    InterruptCheck check(bs_);
    OffsetStream offs(spec, bs_);
    for (uint64_t i = 0, n = offs.count(); i < n; ++i, check.block_done()) {
      const auto [off, write] = offs.next();
      const auto t0 = spec.latency ? Clock::now() : Clock::time_point{};
      ssize_t r = write ? ::pwrite(fd_, buf_.mem.data(), bs_, static_cast<off_t>(off))
                        : ::pread(fd_, buf_.mem.data(), bs_, static_cast<off_t>(off));
      if (spec.latency) spec.latency->record(ns_since(t0, Clock::now()));
      check_transfer(write ? "pwrite" : "pread", r < 0 ? -errno : r, bs_, off);
    }
  }

 private:
  int fd_;
  uint64_t bs_;
  IoBuffer buf_;
};

// io_uring with `iodepth` requests kept in flight: each completion is
// replaced by the next block at once, as fio's io_uring engine does.
class UringEngine : public IoEngine {
 public:
  UringEngine(int fd, uint64_t bs, const EngineOptions& o) : fd_(fd), bs_(bs), opts_(o) {
    // One task submits and reaps: let the kernel run completion work when we
    // wait instead of interrupting us (what fio's io_uring engine asks for
    // too). Older kernels reject the newer flags: drop them one by one.
    int rc = -EINVAL;
    for (unsigned flags : {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_COOP_TASKRUN,
                           IORING_SETUP_COOP_TASKRUN, 0u}) {
      rc = io_uring_queue_init(std::max(2u, o.iodepth), &ring_, flags);
      if (rc != -EINVAL) break;
    }
    if (rc < 0) throw std::runtime_error(fmt::format("io_uring_queue_init: {}", errno_name(-rc)));
    // Every io_uring_enter would look up the ring's own fd (fget/fput, an
    // atomic on a shared cache line); a registered ring fd skips that.
    // The registration belongs to this thread, which is the ring's only user.
    // Older kernels lack it (EINVAL): the plain fd works as before.
    (void)io_uring_register_ring_fd(&ring_);
    std::vector<iovec> iov;
    for (unsigned i = 0; i < o.iodepth; ++i) {
      bufs_.push_back(io_buffer(bs, i * bs));
      iov.push_back({bufs_.back().mem.data(), bs});
    }
    if (o.fixed_buffers) {
      if (int reg = io_uring_register_buffers(&ring_, iov.data(), static_cast<unsigned>(iov.size())); reg < 0)
        throw std::runtime_error(fmt::format("io_uring_register_buffers: {}", errno_name(-reg)));
    }
    if (o.fixed_files) {
      if (int reg = io_uring_register_files(&ring_, &fd_, 1); reg < 0)
        throw std::runtime_error(fmt::format("io_uring_register_files: {}", errno_name(-reg)));
    }
  }
  ~UringEngine() override { io_uring_queue_exit(&ring_); }
  size_t buffer_runs() const override {
    size_t worst = 0;
    for (const auto& b : bufs_) worst = std::max(worst, b.runs);
    return worst;
  }

  void pass(const PassSpec& spec) override {
    OffsetStream offs(spec, bs_);
    const uint64_t blocks = offs.count();
    std::vector<unsigned> free_slots;
    for (unsigned i = 0; i < opts_.iodepth; ++i) free_slots.push_back(opts_.iodepth - 1 - i);
    struct Slot {
      uint64_t off;
      bool write;
      Clock::time_point issued;
    };
    std::vector<Slot> slots(opts_.iodepth);
    uint64_t next = 0, done = 0;
    throw_if_interrupted();
    InterruptCheck check(bs_);
    while (done < blocks) {
      const auto now = spec.latency ? Clock::now() : Clock::time_point{};
      unsigned batched = 0;  // prepared in this refill since the last submission
      while (!free_slots.empty() && next < blocks) {
        const unsigned slot = free_slots.back();
        free_slots.pop_back();
        io_uring_sqe* s = io_uring_get_sqe(&ring_);
        if (!s) throw std::runtime_error("io_uring: no free submission entry");
        const int fd = opts_.fixed_files ? 0 : fd_;
        void* buf = bufs_[slot].mem.data();
        const auto [off, write] = offs.next();
        ++next;
        if (opts_.fixed_buffers) {
          if (write) io_uring_prep_write_fixed(s, fd, buf, static_cast<unsigned>(bs_), off, static_cast<int>(slot));
          else io_uring_prep_read_fixed(s, fd, buf, static_cast<unsigned>(bs_), off, static_cast<int>(slot));
        } else {
          if (write) io_uring_prep_write(s, fd, buf, static_cast<unsigned>(bs_), off);
          else io_uring_prep_read(s, fd, buf, static_cast<unsigned>(bs_), off);
        }
        if (opts_.fixed_files) s->flags |= IOSQE_FIXED_FILE;
        s->user_data = slot;
        slots[slot] = {off, write, now};
        // The last request of a refill goes with the wait below: one
        // system call instead of two at queue depth 1.
        const bool more = !free_slots.empty() && next < blocks;
        if (opts_.submit_batch && ++batched >= opts_.submit_batch && more) {
          submit_and_get_events();
          batched = 0;
        }
      }
      // Completions already posted by a submission need no waiting (and no
      // system call): with DEFER_TASKRUN that is how most are found.
      if (io_uring_cq_ready(&ring_) == 0) {
        if (int rc = io_uring_submit_and_wait(&ring_, 1); rc < 0 && rc != -EINTR)
          throw std::runtime_error(fmt::format("io_uring_submit_and_wait: {}", errno_name(-rc)));
      } else if (io_uring_sq_ready(&ring_) > 0) {
        submit_and_get_events();
      }
      // One clock read per batch of completions: they were reaped together.
      const auto reaped = spec.latency ? Clock::now() : Clock::time_point{};
      io_uring_cqe* cqe = nullptr;
      unsigned head = 0, seen = 0;
      io_uring_for_each_cqe(&ring_, head, cqe) {
        const unsigned slot = static_cast<unsigned>(cqe->user_data);
        check_transfer(slots[slot].write ? "io_uring write" : "io_uring read", cqe->res, bs_, slots[slot].off);
        if (spec.latency) spec.latency->record(ns_since(slots[slot].issued, reaped));
        free_slots.push_back(slot);
        ++seen;
        check.block_done();
      }
      io_uring_cq_advance(&ring_, seen);
      done += seen;
    }
  }

 private:
  // Submits what is prepared and, as fio's io_uring engine does, asks the
  // kernel to post what has completed meanwhile without waiting for more
  // (GETEVENTS with no minimum: a DEFER_TASKRUN ring posts completions only
  // then). Interrupted, the requests stay in the submission ring for the
  // next call.
  void submit_and_get_events() {
    if (int rc = io_uring_submit_and_get_events(&ring_); rc < 0 && rc != -EINTR)
      throw std::runtime_error(fmt::format("io_uring_submit_and_get_events: {}", errno_name(-rc)));
  }

  int fd_;
  uint64_t bs_;
  EngineOptions opts_;
  io_uring ring_{};
  std::vector<IoBuffer> bufs_;
};

double cpu_seconds(int who = RUSAGE_SELF) {
  rusage ru{};
  ::getrusage(who, &ru);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

// Drops the target's cached pages (what fio's invalidate does), not the whole
// system's: evicting btrfs metadata too would add tree reads to every timed
// pass that a real workload with a warm filesystem does not pay.
void drop_caches(int fd) {
  if (int rc = ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED); rc != 0)
    throw std::runtime_error(fmt::format("posix_fadvise(DONTNEED): {}", errno_name(rc)));
}

// Google Benchmark prints nothing itself: the progress line and the tables
// are ours; its JSON file reporter still works through --benchmark_out.
class SilentReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

// One cell's moving parts, alive for the whole benchmark run.
struct CellState {
  BenchCell* cell;
  int fd;
  std::unique_ptr<IoEngine> engine;  // this thread's: the single job's, and the path probe's
  PassSpec spec;                     // of the whole cell; split among the jobs
  bool writes;
  unsigned jobs = 1;
  // What a job thread needs to open the target and make an engine of its own.
  const EngineInfo* engine_info = nullptr;
  EngineOptions engine_opts;
  const BenchTarget* target = nullptr;
};

int open_target(const BenchTarget& t) {
  return ::open(t.path.c_str(), O_RDWR | O_DIRECT | O_CLOEXEC | (t.block_device ? 0 : O_CREAT), 0644);
}

// The spec of job `job` of `jobs` in repetition `rep`: its share of the bytes,
// its own slice of the file when sequential, its own random stream.
PassSpec job_spec(const PassSpec& whole, unsigned job, unsigned jobs, unsigned rep, uint64_t bs,
                  LatencyHistogram* latency) {
  PassSpec s = whole;
  s.bytes = whole.bytes / jobs / bs * bs;
  if (!whole.random) {
    s.region = whole.region / jobs / bs * bs;
    s.base = whole.base + job * s.region;
  }
  s.seed = 1 + rep * 1000003ull + job;
  s.latency = latency;
  return s;
}

struct TimedPass {
  double seconds = 0, cpu = 0, thread_cpu = 0;
  LatencyHistogram latency;
};

// One timed repetition: every job released at once, the clock stopped when
// the last one is done (and, for writes, the data is on the device).
//
// Several jobs work as fio's --numjobs do: each thread opens the target
// itself (threads sharing one open file would bounce its reference count
// between CPUs on every I/O) and makes its own engine, so its ring is its
// own (SINGLE_ISSUER, DEFER_TASKRUN) as a single job's is. That set-up, and
// the teardown, stay outside the timed region: the clock starts when every
// job is ready and stops when every job has finished its I/O.
TimedPass timed_pass(CellState& st, unsigned rep) {
  TimedPass r;
  const unsigned jobs = st.jobs;
  const uint64_t bs = st.cell->block_size;
  drop_caches(st.fd);  // outside the measured time: the time is manual
  const double c0 = cpu_seconds();
  if (jobs == 1) {
    const double tc0 = cpu_seconds(RUSAGE_THREAD);
    const PassSpec spec = job_spec(st.spec, 0, 1, rep, bs, &r.latency);
    const auto t0 = Clock::now();
    st.engine->pass(spec);
    if (st.writes && ::fdatasync(st.fd) != 0) throw std::runtime_error("fdatasync failed");
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    r.thread_cpu = cpu_seconds(RUSAGE_THREAD) - tc0;
  } else {
    std::vector<LatencyHistogram> lat(jobs);
    std::vector<double> tcpu(jobs, 0);
    std::vector<size_t> runs(jobs, 0);
    std::vector<std::string> errors(jobs);
    std::latch ready(jobs), go(1), finished(jobs), teardown(1);
    std::vector<std::thread> threads;
    for (unsigned j = 0; j < jobs; ++j)
      threads.emplace_back([&, j] {
        std::unique_ptr<IoEngine> engine;
        Fd fd;
        try {
          fd = Fd(open_target(*st.target));
          if (!fd) throw_errno("open " + st.target->path.string());
          engine = st.engine_info->make(fd.get(), bs, st.engine_opts);
          runs[j] = engine->buffer_runs();
        } catch (const std::exception& e) {
          errors[j] = e.what();
        }
        const PassSpec spec = job_spec(st.spec, j, jobs, rep, bs, &lat[j]);
        ready.count_down();
        go.wait();
        const double tc0 = cpu_seconds(RUSAGE_THREAD);
        try {
          if (engine) engine->pass(spec);
        } catch (const std::exception& e) {
          errors[j] = e.what();
        }
        tcpu[j] = cpu_seconds(RUSAGE_THREAD) - tc0;
        finished.count_down();
        teardown.wait();  // the ring and the fd go after the clock has stopped
      });
    ready.wait();
    const auto t0 = Clock::now();
    go.count_down();
    finished.wait();
    const bool failed = std::any_of(errors.begin(), errors.end(), [](const std::string& e) { return !e.empty(); });
    const bool synced = failed || !st.writes || ::fdatasync(st.fd) == 0;
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    teardown.count_down();
    for (auto& t : threads) t.join();
    for (const auto& e : errors)
      if (!e.empty()) throw std::runtime_error(e);
    if (!synced) throw std::runtime_error("fdatasync failed");
    for (unsigned j = 0; j < jobs; ++j) {
      r.latency.merge(lat[j]);
      r.thread_cpu += tcpu[j];
      st.cell->buffer_runs = std::max(st.cell->buffer_runs, runs[j]);
    }
  }
  r.cpu = cpu_seconds() - c0;
  return r;
}

// A short traced pass: what path the kernel takes for this target and workload.
void probe_path(BenchCell* cell, int fd, IoEngine& engine, const PassSpec& whole, bool device) {
  if (device) {
    cell->path = "block device";
    cell->path_detail = "O_DIRECT on the raw block device (no filesystem in the path)";
    return;
  }
  const bool write = whole.read_pct < 100;
  PassSpec probe = whole;
  probe.bytes = std::min<uint64_t>(whole.bytes, 16 * cell->block_size);
  PathTracer tracer;
  PathReport r{.op = cell->engine + " " + cell->op, .write = write};
  tracer.start({fd});
  engine.pass(probe);
  tracer.stop(&r, fd, 0, whole.region);
  if (write) ::fdatasync(fd);
  judge_path(&r);
  cell->path = r.verdict;
  cell->path_detail = r.explained();
}
}  // namespace

const std::vector<EngineInfo>& bench_engines() {
  static const std::vector<EngineInfo> engines = {
      {"psync", "pread/pwrite, one block at a time", 1,
       [](int fd, uint64_t bs, const EngineOptions&) -> std::unique_ptr<IoEngine> {
         return std::make_unique<PsyncEngine>(fd, bs);
       }},
      {"io_uring", "io_uring read/write, --iodepth in flight (registered buffers/files on request)", 65536,
       [](int fd, uint64_t bs, const EngineOptions& o) -> std::unique_ptr<IoEngine> {
         return std::make_unique<UringEngine>(fd, bs, o);
       }},
  };
  return engines;
}

const EngineInfo* find_engine(const std::string& name) {
  for (const auto& e : bench_engines())
    if (name == e.name) return &e;
  return nullptr;
}

const std::vector<Workload>& bench_workloads() {
  // name, description, random, read %, block size, queue depth, jobs, IOPS
  static const std::vector<Workload> w = {
      {"read", "sequential reads of --block-size (seed 002)", false, 100, 0, 0, 1, false},
      {"write", "sequential overwrites of --block-size (seed 002)", false, 0, 0, 0, 1, false},
      {"randread-4k-qd1", "random 4 KiB reads, one at a time", true, 100, 4096, 1, 1, true},
      {"randwrite-4k-qd1", "random 4 KiB overwrites, one at a time", true, 0, 4096, 1, 1, true},
      {"randread-4k-qd32", "random 4 KiB reads, 32 in flight (io_uring)", true, 100, 4096, 32, 1, true},
      {"randwrite-4k-qd32", "random 4 KiB overwrites, 32 in flight (io_uring)", true, 0, 4096, 32, 1, true},
      {"randrw70-4k-qd32", "random 4 KiB, 70 % reads / 30 % writes, 32 in flight (io_uring)", true, 70, 4096, 32, 1,
       true},
      {"randread-4k-4jobs", "random 4 KiB reads from 4 threads at once, 8 in flight each (io_uring; psync: 1)", true,
       100, 4096, 8, 4, true},
  };
  return w;
}

const Workload* find_workload(const std::string& name) {
  for (const auto& w : bench_workloads())
    if (name == w.name) return &w;
  return nullptr;
}

std::vector<std::string> expand_workloads(const std::vector<std::string>& names) {
  std::vector<std::string> out, known = {"seq", "random", "all"};
  for (const auto& w : bench_workloads()) known.push_back(w.name);
  auto add = [&](const std::string& n) {
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  };
  for (const auto& n : names) {
    if (n == "seq" || n == "random" || n == "all") {
      for (const auto& w : bench_workloads())
        if (n == "all" || w.random == (n == "random")) add(w.name);
    } else if (find_workload(n)) {
      add(n);
    } else {
      const std::string hint = did_you_mean(n, known);
      throw SetupError(fmt::format("--workloads '{}' is not one of {}{}", n, fmt::join(known, ", "),
                                   hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
  }
  if (out.empty()) throw SetupError(fmt::format("--workloads is empty; give some of {}", fmt::join(known, ", ")));
  return out;
}

BenchRun run_benchmarks(const BenchOptions& opts, const std::vector<BenchTarget>& targets, std::ostream& out) {
  BenchRun run;
  run.config = {{"block_size", opts.block_size},         {"file_size", opts.file_size},
                {"repetitions", opts.repetitions},       {"engines", opts.engines},
                {"iodepth", opts.engine.iodepth},        {"fixed_buffers", opts.engine.fixed_buffers},
                {"fixed_files", opts.engine.fixed_files}, {"submit_batch", opts.engine.submit_batch},
                {"workloads", opts.workloads},
                {"random_bytes", opts.random_bytes}};
  // Open every target, lay out its file once, and set up every engine.
  std::vector<Fd> fds;
  size_t ncells = 0;
  for (const auto& w : opts.workloads) ncells += find_workload(w) ? opts.engines.size() : 0;
  run.cells.reserve(targets.size() * ncells);
  std::vector<CellState> states;
  states.reserve(targets.size() * ncells);
  for (const auto& t : targets) {
    fds.emplace_back(open_target(t));
    if (!fds.back()) throw SetupError(fmt::format("cannot open {} target {} ({})", t.name, t.path.string(),
                                                  std::strerror(errno)));
    const int fd = fds.back().get();
    if (opts.progress) out << fmt::format("laying out {} ({})...\n", t.name, format_size(opts.file_size)) << std::flush;
    {
      PsyncEngine layout(fd, opts.block_size);
      layout.pass({.random = false, .read_pct = 0, .region = opts.file_size, .bytes = opts.file_size});
      if (::fdatasync(fd) != 0) throw_errno("fdatasync " + t.path.string());
    }
    if (auto items = file_extent_items(fd)) {
      run.layouts[t.name] = {{"extent_items", *items}};
      if (opts.progress)
        out << fmt::format("{}: {} in {} file extent items\n", t.name, format_size(opts.file_size), *items) << std::flush;
    }
    for (const auto& ename : opts.engines) {
      const EngineInfo* ei = find_engine(ename);
      for (const auto& wname : opts.workloads) {
        const Workload* w = find_workload(wname);
        if (!w) throw SetupError(fmt::format("unknown workload '{}'", wname));
        const unsigned depth = std::min(w->iodepth ? w->iodepth : opts.engine.iodepth, ei->max_iodepth);
        // A queue-depth workload means nothing on an engine that cannot queue.
        if (w->iodepth > 1 && ei->max_iodepth == 1 && w->jobs == 1) continue;
        const uint64_t bs = w->block_size ? w->block_size : opts.block_size;
        PassSpec spec{.random = w->random,
                      .read_pct = w->read_pct,
                      .region = opts.file_size / bs * bs,
                      .bytes = w->random ? std::min(opts.random_bytes, opts.file_size) / bs * bs : opts.file_size};
        run.cells.push_back(BenchCell{t.name, ename, w->name, spec.bytes});
        BenchCell* cell = &run.cells.back();
        cell->block_size = bs;
        cell->iops = w->iops;
        cell->iodepth = depth;
        cell->jobs = w->jobs;
        EngineOptions eo = opts.engine;
        eo.iodepth = depth;
        CellState st{cell, fd, ei->make(fd, bs, eo), spec, w->read_pct < 100, w->jobs, ei, eo, &t};
        cell->buffer_runs = st.engine->buffer_runs();  // a cell with jobs adds its jobs' (timed_pass)
        probe_path(cell, fd, *st.engine, spec, t.block_device);
        states.push_back(std::move(st));
      }
    }
  }

  std::vector<std::string> args = {"diotorture-bench"};
  if (!opts.gbench_json.empty()) {
    args.push_back("--benchmark_out=" + opts.gbench_json.string());
    args.push_back("--benchmark_out_format=json");
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  int argc = static_cast<int>(argv.size());
  benchmark::Initialize(&argc, argv.data());

  // Hidden: DIOTORTURE_BENCH_TRACE=1 records path evidence during every timed
  // pass, to measure what the tracer costs an I/O (start and stop stay outside
  // the timed region; their own cost is printed).
  std::optional<PathTracer> pass_tracer;
  if (const char* t = std::getenv("DIOTORTURE_BENCH_TRACE"); t && *t == '1') pass_tracer.emplace();
  double tracer_overhead_s = 0;
  std::string error;
  const size_t total = states.size() * opts.repetitions;
  size_t finished = 0;
  for (CellState& st : states) {
    const std::string name = fmt::format("{}/{}/{}", st.cell->op, st.cell->target, st.cell->engine);
    benchmark::RegisterBenchmark(name.c_str(), [&, s = &st, name](benchmark::State& state) {
      if (opts.progress_lines) out << fmt::format("diotorture-bench: cell {} of {}: {}\n", finished / opts.repetitions + 1,
                                                  states.size(), name) << std::flush;
      for (auto _ : state) {
        try {
          const auto a0 = std::chrono::steady_clock::now();
          if (pass_tracer) pass_tracer->start({s->fd});
          const auto a1 = std::chrono::steady_clock::now();
          TimedPass p = timed_pass(*s, static_cast<unsigned>(s->cell->seconds.size()));
          if (pass_tracer) {
            const auto b0 = std::chrono::steady_clock::now();
            PathReport traced;
            pass_tracer->stop(&traced, s->fd, 0, 0);
            tracer_overhead_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - b0 + (a1 - a0)).count();
          }
          state.SetIterationTime(p.seconds);
          s->cell->seconds.push_back(p.seconds);
          s->cell->cpu_seconds.push_back(p.cpu);
          s->cell->thread_cpu_seconds.push_back(p.thread_cpu);
          s->cell->clat_us.push_back({p.latency.percentile(0.5) / 1e3, p.latency.percentile(0.99) / 1e3,
                                      p.latency.percentile(0.999) / 1e3, p.latency.percentile(1.0) / 1e3});
          state.counters["cpu_s_per_GiB"] = p.cpu / (static_cast<double>(s->cell->bytes) / (1 << 30));
          ++finished;
          if (opts.progress)
            out << fmt::format("\r\033[K[{}/{}] {} repetition {}: {:.1f} MiB/s", finished, total, name,
                               s->cell->seconds.size(), static_cast<double>(s->cell->bytes) / (1 << 20) / p.seconds)
                << std::flush;
        } catch (const Interrupted&) {
          // Google Benchmark would go on to the next cell: each of them now
          // stops at once, and the caller unwinds after it returns.
          state.SkipWithError("interrupted");
          break;
        } catch (const std::exception& e) {
          error = name + ": " + e.what();
          state.SkipWithError(error.c_str());
          break;
        }
      }
      state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s->cell->bytes));
      state.SetLabel(s->cell->path);
    })
        ->UseManualTime()
        ->Iterations(1)
        ->Repetitions(static_cast<int>(opts.repetitions))
        ->Unit(benchmark::kMillisecond);
  }
  SilentReporter quiet;
  benchmark::RunSpecifiedBenchmarks(&quiet);
  benchmark::ClearRegisteredBenchmarks();
  benchmark::Shutdown();
  if (opts.progress) out << "\r\033[K" << std::flush;
  throw_if_interrupted();
  if (pass_tracer)
    out << fmt::format("DIOTORTURE_BENCH_TRACE: every timed pass traced ({}); tracer start+stop {:.3f} ms per pass, "
                       "outside the timed region\n",
                       pass_tracer->description(), 1e3 * tracer_overhead_s / std::max<size_t>(finished, 1));
  if (!error.empty()) throw std::runtime_error(error);
  return run;
}

}  // namespace dt
