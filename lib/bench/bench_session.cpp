#include "lib/bench/bench_session.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <memory>

#include "lib/btrfs/copies.hpp"
#include "lib/btrfs/fsinfo.hpp"
#include "lib/btrfs/scratch.hpp"
#include "lib/run/results_dir.hpp"
#include "lib/io/iopath.hpp"
#include "lib/io/uring.hpp"
#include "lib/sys/interrupt.hpp"
#include "lib/sys/sys.hpp"
#include "lib/sys/version.hpp"

namespace dt {
namespace fs = std::filesystem;

namespace {

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

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// Combinations of options that each look fine alone.
void check_options(const BenchSessionConfig& cfg) {
  const BenchOptions& o = cfg.opts;
  if (o.block_size % 4096)
    throw SetupError(fmt::format("--block-size {} is not a multiple of 4K, which direct I/O needs",
                                 format_size(o.block_size)));
  if (o.file_size % o.block_size)
    throw SetupError(fmt::format("--file-size {} is not a multiple of --block-size {}", format_size(o.file_size),
                                 format_size(o.block_size)));
  if (contains(o.engines, "io_uring")) {
    if (std::string why = io_uring_unavailable_reason(); !why.empty())
      throw SetupError(why + "; enable it (sysctl kernel.io_uring_disabled=0) or give --engines psync");
  } else if (o.engine.fixed_buffers || o.engine.fixed_files || o.engine.iodepth > 1 || o.engine.submit_batch != 1) {
    throw SetupError(
        "--iodepth, --submit-batch, --fixed-buffers and --fixed-files are io_uring options; add io_uring to --engines");
  }
  if (!cfg.device.empty() && !cfg.targets.empty() && !contains(cfg.targets, "device"))
    throw SetupError("--device is only used by the device target; add it to --targets");
  if (cfg.force_device && cfg.device.empty())
    throw SetupError("--force-device overwrites the device named with --device; give --device DEV too");
  if (::geteuid() != 0)
    throw SetupError("diotorture bench needs root (it mounts filesystems, drops caches and traces I/O); rerun it as root");
}

}  // namespace

const std::vector<std::string>& bench_target_names() {
  static const std::vector<std::string> names = {"nodatasum", "checksummed", "device"};
  return names;
}

int run_bench_session(const BenchSessionConfig& cfg, std::ostream& out) {
  check_options(cfg);
  BenchOptions opts = cfg.opts;
  std::vector<std::string> targets = cfg.targets.empty() ? bench_target_names() : cfg.targets;

  FilesystemChoice choice = choose_filesystem(cfg.fs);
  const bool self_provisioned = !choice.test_dir && choice.scratch.pool.empty();
  unsigned file_targets = 0;
  for (const auto& t : targets) file_targets += t != "device";
  // Room for the files, with slack for metadata and COW (and, on loop
  // images, for the blank device image of our own in the same TMPDIR).
  choice.space_needed = file_targets * opts.file_size * 5 / 4 + (256ull << 20);
  if (self_provisioned) {
    choice.scratch.image_size = std::max<uint64_t>(choice.scratch.image_size, choice.space_needed + (1ull << 30));
    if (contains(targets, "device") && cfg.device.empty()) choice.space_needed += opts.file_size;
  }

  // The raw device: one the user named explicitly, or a blank loop device of
  // our own. Never the filesystem's own devices.
  std::unique_ptr<ScratchBlockDevice> own_device;
  std::string device_path;
  const bool want_device = contains(targets, "device");
  if (want_device && !cfg.device.empty()) {
    check_scratch_device(cfg.device, cfg.force_device, "--device", "--force-device");
    device_path = cfg.device;
  } else if (want_device && !self_provisioned) {
    if (!cfg.targets.empty())
      throw SetupError("the device target overwrites a raw block device: name one with --device DEV (it is "
                       "overwritten), or leave it out of --targets");
    std::erase(targets, std::string("device"));
    out << "note: no device column: name a block device to overwrite with --device DEV\n";
  }

  Workspace ws(choice);
  out << ws.reclaimed();
  ensure_tracefs();
  throw_if_interrupted();
  if (want_device && device_path.empty() && self_provisioned) {
    own_device = std::make_unique<ScratchBlockDevice>(choice.scratch.base_dir, opts.file_size);
    device_path = own_device->path();
  }
  const fs::path root = ws.dir() / "diotorture-bench";
  // Never leave gigabytes in a user's TEST_DIR, also when interrupted.
  struct RemoveOnExit {
    fs::path p;
    ~RemoveOnExit() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } remove_files{root};
  std::vector<BenchTarget> bench_targets;
  for (const auto& t : targets)
    bench_targets.push_back(t == "device" ? BenchTarget{t, device_path, true} : file_target(root, t));

  const std::string run_id = make_run_dir(cfg.results_root);
  const fs::path dir = cfg.results_root / run_id;
  const MountInfo mi = mount_info_for(ws.dir());
  const std::vector<std::string> devices = describe_btrfs_devices(ws.dir());
  out << fmt::format("KERNEL    -- {}\nFS        -- {} ({})\nTARGETS   -- {}{}\nRESULTS   -- {}\n\n", kernel_release(),
                     ws.provisioning(), btrfs_profile(ws.dir()), fmt::join(targets, ", "),
                     device_path.empty() ? "" : " (device " + device_path + ")", dir.string());
  opts.gbench_json = dir / "gbench.json";
  const std::string started = utc_timestamp();
  BenchRun run = run_benchmarks(opts, bench_targets, out);
  run.label = cfg.label;
  run.run_id = run_id;
  run.started = started;
  run.kernel = kernel_release();
  run.tool_version = tool_version();
  run.hostname = host_name();
  run.config["quick"] = cfg.quick;
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
  out << render_run(run);
  out << fmt::format("\nResults in {} (bench.json; gbench.json is Google Benchmark's own)\n", dir.string());
  return 0;
}

}  // namespace dt
