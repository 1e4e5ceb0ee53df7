// diotorture bench [--quick] [--block-size SIZE] [--file-size SIZE] [--repetitions N]
//                  [--targets LIST] [--engines LIST] [--iodepth N] [--fixed-buffers] [--fixed-files]
//                  [--device DEV [--force-device]] [--label NAME] [--results DIR] + filesystem options
// Checks the options, prepares the targets, hands them to lib/bench, saves
// and prints the results.
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <iostream>
#include <memory>

#include "cmd/command.hpp"
#include "lib/bench/bench.hpp"
#include "lib/btrfs/copies.hpp"
#include "lib/btrfs/fsinfo.hpp"
#include "lib/harness/registry.hpp"
#include "lib/harness/results_dir.hpp"
#include "lib/harness/runner.hpp"
#include "lib/harness/session.hpp"
#include "lib/io/iopath.hpp"
#include "lib/io/uring.hpp"
#include "lib/sys/spellcheck.hpp"
#include "lib/sys/sys.hpp"

namespace dt {
namespace {
namespace fs = std::filesystem;

const std::vector<std::string> kTargets = {"nodatasum", "checksummed", "device"};

struct BenchCli {
  std::string block_size, file_size, repetitions, targets, engines = "psync,io_uring", iodepth = "1", label,
                                                            device, results = "results";
  bool quick = false, fixed_buffers = false, fixed_files = false, force_device = false, no_progress = false;
  std::string workloads = "read,write", random_bytes;
  bool progress_lines = false;
  FilesystemRequest fs;
};

uint64_t size_option(const std::string& flag, const std::string& v, uint64_t dflt) {
  if (v.empty()) return dflt;
  uint64_t x = 0;
  if (!parse_size(v, &x) || x == 0) throw SetupError(fmt::format("{} '{}' is not a size; give for example 1M", flag, v));
  return x;
}

std::vector<std::string> list_option(const std::string& flag, const std::string& v,
                                     const std::vector<std::string>& known) {
  std::vector<std::string> out;
  for (const auto& x : split(v, ',')) {
    if (x.empty()) continue;
    if (std::find(known.begin(), known.end(), x) == known.end()) {
      std::string hint = did_you_mean(x, known);
      throw SetupError(fmt::format("{} '{}' is not one of {}{}", flag, x, fmt::join(known, ", "),
                                   hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
    out.push_back(x);
  }
  if (out.empty()) throw SetupError(fmt::format("{} is empty; give one of {}", flag, fmt::join(known, ", ")));
  return out;
}

// Creates the file of a filesystem target and proves it is what it is named.
BenchTarget file_target(const fs::path& root, const std::string& name) {
  const fs::path dir = root / name;
  fs::create_directories(dir);
  if (name == "nodatasum") set_nocow(dir);
  const fs::path file = dir / "data";
  Fd fd = open_or_throw(file, O_RDWR | O_CREAT | O_TRUNC);
  const bool nocow = has_nocow(fd.get());
  const MountInfo mi = mount_info_for(dir);
  const bool checksummed = !nocow && !mi.has_option("nodatasum") && !mi.has_option("nodatacow");
  if (name == "nodatasum" && checksummed) throw SetupError("chattr +C did not take on " + dir.string());
  if (name == "checksummed" && !checksummed)
    throw SetupError(fmt::format("files on {} get no data checksums (mount options {}); leave out the checksummed "
                                 "target (--targets nodatasum,device) or remount",
                                 dir.string(), mi.super_options));
  return {name, file, false};
}

int bench(const BenchCli& o) {
  BenchOptions opts;
  opts.block_size = size_option("--block-size", o.block_size, 1 << 20);
  opts.file_size = size_option("--file-size", o.file_size, o.quick ? 64ull << 20 : 4ull << 30);
  if (opts.block_size % 4096)
    throw SetupError(fmt::format("--block-size {} is not a multiple of 4K, which direct I/O needs", o.block_size));
  if (opts.file_size % opts.block_size)
    throw SetupError(fmt::format("--file-size {} is not a multiple of --block-size {}", format_size(opts.file_size),
                                 format_size(opts.block_size)));
  const uint64_t reps = o.repetitions.empty() ? 5 : bounded_number("--repetitions", o.repetitions, "a count", 1, 1000);
  const uint64_t depth = bounded_number("--iodepth", o.iodepth, "a queue depth", 1, 1024);
  opts.repetitions = static_cast<unsigned>(reps);
  opts.engine = {static_cast<unsigned>(depth), o.fixed_buffers, o.fixed_files};
  std::vector<std::string> engine_names;
  for (const auto& e : bench_engines()) engine_names.push_back(e.name);
  opts.engines = list_option("--engines", o.engines, engine_names);
  opts.workloads = expand_workloads(split(o.workloads, ','));
  opts.random_bytes = size_option("--random-bytes", o.random_bytes, o.quick ? 16ull << 20 : 256ull << 20);
  opts.progress_lines = o.progress_lines;
  std::vector<std::string> targets = list_option("--targets", o.targets.empty() ? "nodatasum,checksummed,device" : o.targets, kTargets);
  if (std::find(opts.engines.begin(), opts.engines.end(), "io_uring") != opts.engines.end()) {
    if (std::string why = io_uring_unavailable_reason(); !why.empty())
      throw SetupError(why + "; enable it (sysctl kernel.io_uring_disabled=0) or give --engines psync");
  } else if (o.fixed_buffers || o.fixed_files || depth > 1) {
    throw SetupError("--iodepth, --fixed-buffers and --fixed-files are io_uring options; add io_uring to --engines");
  }
  if (::geteuid() != 0)
    throw SetupError("diotorture bench needs root (it mounts filesystems, drops caches and traces I/O); rerun it as root");

  FilesystemChoice choice = choose_filesystem(o.fs);
  const bool self_provisioned = !choice.test_dir && choice.scratch.pool.empty();
  unsigned file_targets = 0;
  for (const auto& t : targets) file_targets += t != "device";
  if (self_provisioned)  // room for the files, with slack for metadata and COW
    choice.scratch.image_size = std::max<uint64_t>(choice.scratch.image_size, file_targets * opts.file_size * 5 / 4 + (uint64_t{1} << 30));

  // The raw device: one the user named explicitly, or a blank loop device of
  // our own. Never the filesystem's own devices.
  std::unique_ptr<ScratchBlockDevice> own_device;
  std::string device_path;
  const bool want_device = std::find(targets.begin(), targets.end(), "device") != targets.end();
  if (want_device && !o.device.empty()) {
    check_scratch_device(o.device, o.force_device, "--device");
    device_path = o.device;
  } else if (!o.device.empty()) {
    throw SetupError("--device is only used by the device target; add it to --targets");
  } else if (want_device && !self_provisioned) {
    if (!o.targets.empty())
      throw SetupError("the device target overwrites a raw block device: name one with --device DEV (it is "
                       "overwritten), or leave it out of --targets");
    std::erase(targets, std::string("device"));
    std::cout << "note: no device column: name a block device to overwrite with --device DEV\n";
  }

  Workspace ws(choice);
  ensure_tracefs();
  if (want_device && device_path.empty() && self_provisioned) {
    own_device = std::make_unique<ScratchBlockDevice>(choice.scratch.base_dir, opts.file_size);
    device_path = own_device->path();
  }
  const fs::path root = ws.dir() / "diotorture-bench";
  std::vector<BenchTarget> bench_targets;
  for (const auto& t : targets)
    bench_targets.push_back(t == "device" ? BenchTarget{t, device_path, true} : file_target(root, t));

  fs::create_directories(o.results);
  const std::string run_id = make_run_id(o.results);
  const fs::path dir = fs::path(o.results) / run_id;
  fs::create_directories(dir);
  point_latest(o.results, run_id);
  const MountInfo mi = mount_info_for(ws.dir());
  const std::vector<std::string> devices = describe_btrfs_devices(ws.dir());
  std::cout << fmt::format("KERNEL    -- {}\nFS        -- {} ({})\nTARGETS   -- {}{}\nRESULTS   -- {}\n\n",
                           kernel_release(), ws.provisioning(), btrfs_profile(ws.dir()), fmt::join(targets, ", "),
                           device_path.empty() ? "" : " (device " + device_path + ")", dir.string());
  opts.progress = !o.no_progress && ::isatty(STDOUT_FILENO);
  opts.gbench_json = dir / "gbench.json";
  const std::string started = utc_timestamp();
  BenchRun run = run_benchmarks(opts, bench_targets, std::cout);
  run.label = o.label;
  run.run_id = run_id;
  run.started = started;
  run.kernel = kernel_release();
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  run.hostname = host;
  run.config["quick"] = o.quick;
  // Under `diotorture vm` the kernel command line says how the guest runs,
  // so compare can warn that TCG numbers are not the host's.
  std::string machine = "host";
  for (const auto& w : split(trim(read_file_or_empty("/proc/cmdline")), ' '))
    if (w.rfind("dt.accel=", 0) == 0) machine = "qemu " + w.substr(9);
  run.config["machine"] = machine;
  run.filesystem = {{"provisioning", ws.provisioning()},
                    {"profile", btrfs_profile(ws.dir())},
                    {"devices", devices},
                    {"mount_options", mi.options + "," + mi.super_options},
                    {"device", device_path}};
  write_file_atomic(dir / "bench.json", bench_to_json(run).dump(2) + "\n");
  std::error_code ec;
  fs::remove_all(root, ec);  // never leave gigabytes in a user's TEST_DIR
  std::cout << render_run(run);
  std::cout << fmt::format("\nResults in {} (bench.json; gbench.json is Google Benchmark's own)\n", dir.string());
  return 0;
}

}  // namespace

Action setup_bench(CLI::App& sub) {
  auto o = std::make_shared<BenchCli>();
  sub.add_flag("--quick", o->quick, "Small preset for CI: a 64M file (block size and repetitions unchanged)");
  sub.add_option("--block-size", o->block_size, "Size of each read and write (default 1M)");
  sub.add_option("--file-size", o->file_size, "Bytes per repetition (default 4G; --quick 64M)");
  sub.add_option("--repetitions", o->repetitions, "Timed repetitions per cell (default 5)");
  sub.add_option("--targets", o->targets, "Columns: nodatasum, checksummed, device (default all three)");
  sub.add_option("--engines", o->engines, "psync, io_uring (comma list)")->capture_default_str();
  sub.add_option("--iodepth", o->iodepth, "io_uring requests in flight")->capture_default_str();
  sub.add_flag("--fixed-buffers", o->fixed_buffers, "io_uring: registered buffers (READ_FIXED/WRITE_FIXED)");
  sub.add_flag("--fixed-files", o->fixed_files, "io_uring: registered file (IOSQE_FIXED_FILE)");
  sub.add_option("--device", o->device,
                 "Block device for the device column; it is OVERWRITTEN (default: a loop device of our own)");
  sub.add_flag("--force-device", o->force_device, "Overwrite --device even if it holds a filesystem");
  sub.add_option("--label", o->label, "Name of this run in compare tables, e.g. vanilla or patched");
  sub.add_option("--results", o->results, "Results root; each run writes a new directory")->capture_default_str();
  sub.add_flag("--no-progress", o->no_progress, "No progress line, even on a terminal");
  sub.add_option("--workloads", o->workloads,
                 "Comma list of presets: read, write (sequential, seed 002), randread-4k-qd1, randwrite-4k-qd1, "
                 "randread-4k-qd32, randwrite-4k-qd32, randrw70-4k-qd32, randread-4k-4jobs; or seq, random, all")
      ->capture_default_str();
  sub.add_option("--random-bytes", o->random_bytes, "Bytes per repetition of a random workload (default 256M; --quick 16M)");
  sub.add_flag("--progress-lines", o->progress_lines, "A plain line as each cell starts (what ab follows)");
  add_filesystem_options(sub, &o->fs);
  return [o] { return bench(*o); };
}

}  // namespace dt
