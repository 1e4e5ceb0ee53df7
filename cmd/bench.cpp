// diotorture bench [--quick] [--block-size SIZE] [--file-size SIZE] [--repetitions N]
//                  [--targets LIST] [--engines LIST] [--iodepth N] [--submit-batch N] [--fixed-buffers]
//                  [--fixed-files]
//                  [--device DEV [--force-device]] [--label NAME] [--results DIR] + filesystem options
// Declares the options (typed and range-checked here) and hands them to
// lib/bench/bench_session.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "cmd/command.hpp"
#include "lib/bench/bench_session.hpp"

namespace dt {
namespace {

struct BenchCli {
  BenchSessionConfig cfg;
  uint64_t file_size = 0;  // 0: 4G, or 64M with --quick
  std::string results = "results";
  bool no_progress = false;
  std::string workloads = "read,write";
  uint64_t random_bytes = 0;  // 0: 256M, or 16M with --quick
};

}  // namespace

Action setup_bench(CLI::App& sub) {
  auto o = std::make_shared<BenchCli>();
  BenchSessionConfig& c = o->cfg;
  std::vector<std::string> engine_names;
  for (const auto& e : bench_engines()) engine_names.push_back(e.name);
  sub.add_flag("--quick", c.quick, "Small preset for CI: a 64M file (block size and repetitions unchanged)");
  sub.add_option("--block-size", c.opts.block_size, "Size of each read and write (default 1M)")
      ->transform(Bounded("a block size", 512, 1ull << 30, true));
  sub.add_option("--file-size", o->file_size, "Bytes per repetition (default 4G; --quick 64M)")
      ->transform(Bounded("a file size", 4096, 4ull << 40, true));
  sub.add_option("--repetitions", c.opts.repetitions, "Timed repetitions per cell")
      ->transform(Bounded("a count", 1, 1000))
      ->capture_default_str();
  sub.add_option("--targets", c.targets, "Columns: nodatasum, checksummed, device (default all three)")
      ->delimiter(',')
      ->check(OneOf(bench_target_names()));
  sub.add_option("--engines", c.opts.engines, "psync, io_uring (comma list)")
      ->delimiter(',')
      ->check(OneOf(engine_names))
      ->capture_default_str();
  sub.add_option("--iodepth", c.opts.engine.iodepth, "io_uring requests in flight")
      ->transform(Bounded("a queue depth", 1, 1024))
      ->capture_default_str();
  sub.add_option("--submit-batch", c.opts.engine.submit_batch,
                 "io_uring: enter the kernel after every N prepared requests (fio's iodepth_batch_submit); "
                 "0 = once per refill of the queue")
      ->transform(Bounded("a batch size", 0, 1024))
      ->capture_default_str();
  sub.add_flag("--fixed-buffers", c.opts.engine.fixed_buffers, "io_uring: registered buffers (READ_FIXED/WRITE_FIXED)");
  sub.add_flag("--fixed-files", c.opts.engine.fixed_files, "io_uring: registered file (IOSQE_FIXED_FILE)");
  sub.add_option("--device", c.device,
                 "Block device for the device column; it is OVERWRITTEN (default: a loop device of our own)");
  sub.add_flag("--force-device", c.force_device, "Overwrite --device even if it holds a filesystem");
  sub.add_option("--label", c.label, "Name of this run in compare tables, e.g. vanilla or patched");
  add_results_option(sub, &o->results);
  add_progress_option(sub, &o->no_progress);
  sub.add_option("--workloads", o->workloads,
                 "Comma list of presets: read, write (sequential, seed 002), randread-4k-qd1, randwrite-4k-qd1, "
                 "randread-4k-qd32, randwrite-4k-qd32, randrw70-4k-qd32, randread-4k-4jobs; or seq, random, all")
      ->capture_default_str();
  sub.add_option("--random-bytes", o->random_bytes, "Bytes per repetition of a random workload (default 256M; --quick 16M)")
      ->transform(Bounded("a size", 4096, 4ull << 40, true));
  sub.add_flag("--progress-lines", c.opts.progress_lines, "A plain line as each cell starts (what ab follows)");
  add_filesystem_options(sub, &c.fs);
  return [o] {
    BenchSessionConfig cfg = o->cfg;
    cfg.opts.file_size = o->file_size ? o->file_size : cfg.quick ? 64ull << 20 : 4ull << 30;
    cfg.opts.workloads = expand_workloads(split(o->workloads, ','));
    cfg.opts.random_bytes = o->random_bytes ? o->random_bytes : cfg.quick ? 16ull << 20 : 256ull << 20;
    cfg.opts.progress = live_progress(o->no_progress);
    cfg.results_root = o->results;
    return run_bench_session(cfg, std::cout);
  };
}

}  // namespace dt
