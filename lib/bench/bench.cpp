#include "lib/bench/bench.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <liburing.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <stdexcept>

#include "lib/harness/context.hpp"
#include "lib/io/iopath.hpp"
#include "lib/io/pattern.hpp"
#include "lib/sys/interrupt.hpp"
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

// pread/pwrite, one block at a time: fio's psync engine.
class PsyncEngine : public SequentialEngine {
 public:
  PsyncEngine(int fd, uint64_t bs) : fd_(fd), bs_(bs), buf_(bs) { fill_pattern(buf_.data(), bs, 0, 1); }
  void pass(bool write, uint64_t size) override {
    throw_if_interrupted();
    InterruptCheck check(bs_);
    for (uint64_t off = 0; off < size; off += bs_, check.block_done()) {
      ssize_t r = write ? ::pwrite(fd_, buf_.data(), bs_, static_cast<off_t>(off))
                        : ::pread(fd_, buf_.data(), bs_, static_cast<off_t>(off));
      check_transfer(write ? "pwrite" : "pread", r < 0 ? -errno : r, bs_, off);
    }
  }

 private:
  int fd_;
  uint64_t bs_;
  AlignedBuffer buf_;
};

// io_uring with `iodepth` requests kept in flight: each completion is
// replaced by the next block at once, as fio's io_uring engine does.
class UringEngine : public SequentialEngine {
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
    std::vector<iovec> iov;
    for (unsigned i = 0; i < o.iodepth; ++i) {
      bufs_.emplace_back(bs);
      fill_pattern(bufs_.back().data(), bs, i * bs, 1);
      iov.push_back({bufs_.back().data(), bs});
    }
    if (o.fixed_buffers) {
      if (int err = io_uring_register_buffers(&ring_, iov.data(), static_cast<unsigned>(iov.size())); err < 0)
        throw std::runtime_error(fmt::format("io_uring_register_buffers: {}", errno_name(-err)));
    }
    if (o.fixed_files) {
      if (int err = io_uring_register_files(&ring_, &fd_, 1); err < 0)
        throw std::runtime_error(fmt::format("io_uring_register_files: {}", errno_name(-err)));
    }
  }
  ~UringEngine() override { io_uring_queue_exit(&ring_); }

  void pass(bool write, uint64_t size) override {
    const uint64_t blocks = size / bs_;
    std::vector<unsigned> free_slots;
    for (unsigned i = 0; i < opts_.iodepth; ++i) free_slots.push_back(opts_.iodepth - 1 - i);
    std::vector<uint64_t> slot_off(opts_.iodepth);
    uint64_t next = 0, done = 0;
    throw_if_interrupted();
    InterruptCheck check(bs_);
    while (done < blocks) {
      while (!free_slots.empty() && next < blocks) {
        const unsigned slot = free_slots.back();
        free_slots.pop_back();
        io_uring_sqe* s = io_uring_get_sqe(&ring_);
        const int fd = opts_.fixed_files ? 0 : fd_;
        void* buf = bufs_[slot].data();
        const uint64_t off = next++ * bs_;
        if (opts_.fixed_buffers) {
          if (write) io_uring_prep_write_fixed(s, fd, buf, static_cast<unsigned>(bs_), off, static_cast<int>(slot));
          else io_uring_prep_read_fixed(s, fd, buf, static_cast<unsigned>(bs_), off, static_cast<int>(slot));
        } else {
          if (write) io_uring_prep_write(s, fd, buf, static_cast<unsigned>(bs_), off);
          else io_uring_prep_read(s, fd, buf, static_cast<unsigned>(bs_), off);
        }
        if (opts_.fixed_files) s->flags |= IOSQE_FIXED_FILE;
        s->user_data = slot;
        slot_off[slot] = off;
      }
      if (int rc = io_uring_submit_and_wait(&ring_, 1); rc < 0 && rc != -EINTR)
        throw std::runtime_error(fmt::format("io_uring_submit_and_wait: {}", errno_name(-rc)));
      io_uring_cqe* cqe = nullptr;
      unsigned head = 0, seen = 0;
      io_uring_for_each_cqe(&ring_, head, cqe) {
        const unsigned slot = static_cast<unsigned>(cqe->user_data);
        check_transfer(write ? "io_uring write" : "io_uring read", cqe->res, bs_, slot_off[slot]);
        free_slots.push_back(slot);
        ++seen;
        check.block_done();
      }
      io_uring_cq_advance(&ring_, seen);
      done += seen;
    }
  }

 private:
  int fd_;
  uint64_t bs_;
  EngineOptions opts_;
  io_uring ring_{};
  std::vector<AlignedBuffer> bufs_;
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
  SequentialEngine* engine;
  bool write;
  uint64_t size;
};

// A short traced pass: what path the kernel takes for this target and op.
void probe_path(BenchCell* cell, int fd, SequentialEngine& engine, bool write, uint64_t probe_size, bool device) {
  if (device) {
    cell->path = "block device";
    cell->path_detail = "O_DIRECT on the raw block device (no filesystem in the path)";
    return;
  }
  PathTracer tracer;
  PathReport r{.op = cell->engine + " " + cell->op, .write = write};
  tracer.start({fd});
  engine.pass(write, probe_size);
  tracer.stop(&r, fd, 0, probe_size);
  if (write) ::fdatasync(fd);
  judge_path(&r);
  cell->path = r.verdict;
  cell->path_detail = r.explained();
}
}  // namespace

const std::vector<EngineInfo>& bench_engines() {
  static const std::vector<EngineInfo> engines = {
      {"psync", "pread/pwrite, one block at a time",
       [](int fd, uint64_t bs, const EngineOptions&) -> std::unique_ptr<SequentialEngine> {
         return std::make_unique<PsyncEngine>(fd, bs);
       }},
      {"io_uring", "io_uring read/write, --iodepth in flight (registered buffers/files on request)",
       [](int fd, uint64_t bs, const EngineOptions& o) -> std::unique_ptr<SequentialEngine> {
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

BenchRun run_benchmarks(const BenchOptions& opts, const std::vector<BenchTarget>& targets, std::ostream& out) {
  BenchRun run;
  run.config = {{"block_size", opts.block_size},         {"file_size", opts.file_size},
                {"repetitions", opts.repetitions},       {"engines", opts.engines},
                {"iodepth", opts.engine.iodepth},        {"fixed_buffers", opts.engine.fixed_buffers},
                {"fixed_files", opts.engine.fixed_files}};
  // Open every target, lay out its file once, and set up every engine.
  std::vector<Fd> fds;
  std::vector<std::unique_ptr<SequentialEngine>> engines;
  run.cells.reserve(targets.size() * opts.engines.size() * 2);
  std::vector<CellState> states;
  const uint64_t probe = std::min<uint64_t>(opts.file_size, 16 * opts.block_size);
  for (const auto& t : targets) {
    int flags = O_RDWR | O_DIRECT | O_CLOEXEC | (t.block_device ? 0 : O_CREAT);
    fds.emplace_back(::open(t.path.c_str(), flags, 0644));
    if (!fds.back()) throw SetupError(fmt::format("cannot open {} target {} ({})", t.name, t.path.string(),
                                                  std::strerror(errno)));
    const int fd = fds.back().get();
    if (opts.progress) out << fmt::format("laying out {} ({})...\n", t.name, format_size(opts.file_size)) << std::flush;
    {
      PsyncEngine layout(fd, opts.block_size);
      layout.pass(true, opts.file_size);
      if (::fdatasync(fd) != 0) throw_errno("fdatasync " + t.path.string());
    }
    for (const auto& ename : opts.engines) {
      const EngineInfo* ei = find_engine(ename);
      engines.push_back(ei->make(fd, opts.block_size, opts.engine));
      for (bool write : {true, false}) {
        run.cells.push_back(BenchCell{t.name, ename, write ? "write" : "read", opts.file_size});
        BenchCell* cell = &run.cells.back();
        probe_path(cell, fd, *engines.back(), write, probe, t.block_device);
        states.push_back({cell, fd, engines.back().get(), write, opts.file_size});
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
      for (auto _ : state) {
        try {
          drop_caches(s->fd);  // outside the measured time: the time is manual
          const auto ts = std::chrono::steady_clock::now();
          if (pass_tracer) pass_tracer->start({s->fd});
          const double c0 = cpu_seconds(), tc0 = cpu_seconds(RUSAGE_THREAD);
          const auto t0 = std::chrono::steady_clock::now();
          s->engine->pass(s->write, s->size);
          if (s->write && ::fdatasync(s->fd) != 0) throw std::runtime_error("fdatasync failed");
          const auto t1 = std::chrono::steady_clock::now();
          const double secs = std::chrono::duration<double>(t1 - t0).count();
          const double cpu = cpu_seconds() - c0, thread_cpu = cpu_seconds(RUSAGE_THREAD) - tc0;
          if (pass_tracer) {
            PathReport traced;
            pass_tracer->stop(&traced, s->fd, 0, 0);
            tracer_overhead_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t1 + (t0 - ts)).count();
          }
          state.SetIterationTime(secs);
          s->cell->seconds.push_back(secs);
          s->cell->cpu_seconds.push_back(cpu);
          s->cell->thread_cpu_seconds.push_back(thread_cpu);
          state.counters["cpu_s_per_GiB"] = cpu / (static_cast<double>(s->size) / (1 << 30));
          ++finished;
          if (opts.progress)
            out << fmt::format("\r\033[K[{}/{}] {} repetition {}: {:.1f} MiB/s", finished, total, name,
                               s->cell->seconds.size(), static_cast<double>(s->size) / (1 << 20) / secs)
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
      state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s->size));
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
