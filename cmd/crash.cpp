// diotorture crash --kernel PATH [--modules DIR] [--workload LIST] [--points N] [--subsets N] [--ops N]
//                  [--seed N] [--kinds LIST] [--states-per-boot N] [--accel ...] [--results DIR]
// and the two guest halves it boots (crash-record, crash-check), which only
// `crash` starts. Thin: options checked here, the work in lib/crash.
#include <unistd.h>

#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cmd/command.hpp"
#include "lib/crash/crash.hpp"
#include "lib/crash/verify.hpp"
#include "lib/crash/workload.hpp"
#include "lib/run/results_dir.hpp"
#include "lib/sys/sys.hpp"
#include "lib/vm/initramfs.hpp"

namespace dt {
namespace {

struct CrashCli {
  GuestOptions g{.machine = CrashOptions().machine};
  std::string workloads = "all", kinds = "datasum,nodatasum", results = "results";
  unsigned points = 8, subsets = 0, ops = 12, per_boot = 8;
  uint64_t seed = 1;
  bool list = false, keep = false, no_progress = false;
};

std::vector<std::string> parse_kinds(const std::string& list) {
  std::vector<std::string> out;
  for (const auto& k : split(list, ',')) {
    const std::string t = trim(k);
    if (t != "datasum" && t != "nodatasum")
      throw SetupError(fmt::format("--kinds: '{}' is not a file kind; give datasum, nodatasum or both", t));
    out.push_back(t);
  }
  if (out.empty()) throw SetupError("--kinds is empty; give datasum, nodatasum or both");
  return out;
}

int list_workloads(std::ostream& out) {
  for (const auto& w : crash_workloads()) {
    out << fmt::format("{:<24} {}{}\n", w.name, w.description, w.caps & kSelfTest ? " [self-test, not in 'all']" : "");
    if (*w.fixed_by) out << fmt::format("{:<24}   fixed by {}\n", "", w.fixed_by);
    if (*w.fstests) out << fmt::format("{:<24}   fstests {}\n", "", w.fstests);
  }
  return 0;
}

int crash(const CrashCli& c) {
  if (c.list) return list_workloads(std::cout);
  select_crash_workloads(c.workloads);  // names checked before anything else
  if (c.g.kernel.empty())
    throw SetupError("--kernel is required: the bzImage to crash, e.g. $(tests/vm_kernel.sh | cut -d' ' -f1)");
  if (!std::filesystem::is_regular_file(c.g.kernel) || bzimage_release(c.g.kernel).empty())
    throw SetupError(fmt::format("--kernel {} is not a bzImage; give the kernel under test's vmlinuz", c.g.kernel));
  if (::geteuid() != 0) throw SetupError("diotorture crash needs root (it mounts the guest's results disk); rerun as root");
  CrashOptions o;
  o.kernel = c.g.kernel;
  o.modules = c.g.modules;
  o.workloads = c.workloads;
  o.kinds = parse_kinds(c.kinds);
  o.points = c.points;
  o.subsets = c.subsets;
  o.ops = c.ops;
  o.states_per_boot = c.per_boot;
  o.seed = c.seed;
  o.machine = c.g.machine;
  o.results_root = c.results;
  o.keep_images = c.keep;
  o.progress = !c.no_progress && ::isatty(STDOUT_FILENO);
  return run_crash(o, std::cout);
}

struct RecordCli {
  std::string results = "results", serial_name, workloads = "all", kinds = "datasum,nodatasum", serial;
  uint64_t fs_size = kCrashFsBytes, seed = 1;
  unsigned ops = 12;
  bool flakey = false;
};

int crash_record(const RecordCli& c) {
  RecordOptions o;
  o.device = device_by_serial(c.serial_name);
  if (o.device.empty()) throw SetupError(fmt::format("no disk with serial {} in this machine", c.serial_name));
  o.fs_bytes = c.fs_size;
  o.serial = c.serial;
  o.workloads = c.workloads;
  o.kinds = parse_kinds(c.kinds);
  o.ops = c.ops;
  o.seed = c.seed;
  o.flakey = c.flakey;
  const std::string id = make_run_dir(c.results);
  const auto tallies = record_workloads(o, std::cout);
  nlohmann::json j = {{"kernel", kernel_release()}, {"workloads", nlohmann::json::array()}};
  for (const auto& t : tallies) j["workloads"].push_back(t.to_json());
  write_file_atomic(std::filesystem::path(c.results) / id / "record.json", j.dump(2) + "\n");
  return 0;
}

int crash_check(const std::string& results, const std::string& manifest_path) {
  auto m = nlohmann::json::parse(read_file(manifest_path));
  std::vector<Ack> acks;
  for (const auto& a : m.at("acks")) acks.push_back(Ack::from_json(a));
  const std::string id = make_run_dir(results);
  const std::filesystem::path dir = std::filesystem::path(results) / id / "states";
  std::filesystem::create_directories(dir);
  for (const auto& s : m.at("states")) {
    CrashStateSpec st{s.at("id").get<unsigned>(), s.at("serial").get<std::string>(), s.at("acked").get<uint64_t>(),
                      s.value("what", "")};
    std::cout << fmt::format("crash-check: checking state {} ({} acks before the crash)\n", st.id, st.acked) << std::flush;
    auto r = check_crash_state(st, acks, "/mnt/crash-state", std::cout);
    write_file_atomic(dir / fmt::format("{}.json", st.id), r.dump(2) + "\n");
  }
  return 0;
}

}  // namespace

Action setup_crash(CLI::App& sub) {
  auto o = std::make_shared<CrashCli>();
  add_guest_options(sub, &o->g, "Seconds before a guest boot is killed");
  sub.add_option("--workload", o->workloads, "Durability workloads, comma separated, or 'all' (--list-workloads)")
      ->capture_default_str();
  sub.add_flag("--list-workloads", o->list, "List the workloads with their upstream fixes and fstests tests");
  sub.add_option("--kinds", o->kinds, "File kinds: datasum (checksummed COW), nodatasum (NOCOW), or both")
      ->capture_default_str();
  sub.add_option("--points", o->points, "Flush points to crash at (0 = every flush)")
      ->transform(Bounded("a number of points", 0, 100000))
      ->capture_default_str();
  sub.add_option("--subsets", o->subsets,
                 "Per point, states that keep a random subset of the writes issued after it (a volatile disk cache)")
      ->transform(Bounded("a number of subsets", 0, 64))
      ->capture_default_str();
  sub.add_option("--ops", o->ops, "Operations per workload and file kind")
      ->transform(Bounded("a number of operations", 1, 10000))
      ->capture_default_str();
  sub.add_option("--seed", o->seed, "Seed of the workloads' offsets and sizes and of the subsets")
      ->transform(Bounded("a seed", 0, UINT64_MAX))
      ->capture_default_str();
  sub.add_option("--states-per-boot", o->per_boot, "Crash states checked per guest boot (one disk each)")
      ->transform(Bounded("a number of states", 1, 20))
      ->capture_default_str();
  sub.add_option("--results", o->results, "Results root")->check(WritablePath(true))->capture_default_str();
  sub.add_flag("--keep-images", o->keep, "Keep the work directory (write log, crash-state images) under TMPDIR");
  sub.add_flag("--no-progress", o->no_progress, "No progress line on a terminal");
  return [o] { return crash(*o); };
}

Action setup_crash_record(CLI::App& sub) {
  auto o = std::make_shared<RecordCli>();
  sub.add_option("--results", o->results);
  sub.add_option("--device-serial", o->serial_name)->required();
  sub.add_option("--fs-size", o->fs_size)->transform(Bounded("a size", 128ull << 20, 1ull << 40, true));
  sub.add_option("--workload", o->workloads);
  sub.add_option("--kinds", o->kinds);
  sub.add_option("--ops", o->ops)->transform(Bounded("a number of operations", 1, 10000));
  sub.add_option("--seed", o->seed)->transform(Bounded("a seed", 0, UINT64_MAX));
  sub.add_option("--serial", o->serial);
  sub.add_flag("--flakey", o->flakey);
  return [o] { return crash_record(*o); };
}

Action setup_crash_check(CLI::App& sub) {
  auto results = std::make_shared<std::string>("results");
  auto manifest = std::make_shared<std::string>();
  sub.add_option("--results", *results);
  sub.add_option("--manifest", *manifest)->required();
  return [results, manifest] { return crash_check(*results, *manifest); };
}

}  // namespace dt
