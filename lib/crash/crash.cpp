#include "lib/crash/crash.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <sstream>

#include "lib/crash/ack.hpp"
#include "lib/crash/points.hpp"
#include "lib/crash/workload.hpp"
#include "lib/crash/write_log.hpp"
#include "lib/harness/results.hpp"
#include "lib/run/results_dir.hpp"
#include "lib/sys/sys.hpp"
#include "lib/sys/version.hpp"
#include "lib/vm/initramfs.hpp"
#include "lib/vm/vm.hpp"

namespace dt {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr char kManifest[] = "/etc/diotorture/crash-manifest.json";

std::string upper(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The acks the guest left in the log, in seq order, with the log index of
// each one's marker.
struct Recorded {
  std::vector<Ack> acks;
  std::vector<uint64_t> marker_index;
};

Recorded find_acks(const fs::path& log, const WriteLog& wl) {
  Recorded r;
  const uint64_t first_marker_sector = kCrashFsBytes / wl.sector_size;
  for (const auto& e : wl.entries) {
    if (!e.write() || e.sector < first_marker_sector) continue;
    const std::string data = entry_data(log, wl, e);
    for (size_t at = 0; at + 4096 <= data.size(); at += 4096) {
      auto a = decode_marker(data.substr(at, 4096));
      if (!a) continue;
      if (a->seq != r.acks.size())
        throw std::runtime_error(fmt::format("ack {} found in the write log where ack {} was expected: the log is out "
                                             "of order or incomplete",
                                             a->seq, r.acks.size()));
      r.acks.push_back(*a);
      r.marker_index.push_back(e.index);
    }
  }
  return r;
}

size_t count_lines(const std::string& s, const std::string& prefix) {
  size_t n = 0;
  for (const auto& l : split(s, '\n'))
    if (l.rfind(prefix, 0) == 0) ++n;
  return n;
}

struct Boot {
  int rc = 3;
  fs::path guest_run;  // the guest's run directory, copied back
  std::string console, output;
  double seconds = 0;
};

// `machine` learns the accelerator from the first boot (settle_accel).
Boot boot(const CrashOptions& o, GuestMachine* machine, const fs::path& work, const std::string& name, VmOptions vo,
          const std::function<void(const std::string&)>& on_console) {
  vo.kernel = o.kernel;
  vo.modules = o.modules;
  vo.machine = *machine;
  vo.disks = 0;
  vo.results_root = work / ("guest-" + name);
  vo.on_console = on_console;
  // A second attempt would find the first one's writes on the record log
  // and the state images: crash's boots are not repeatable as they stand.
  vo.emulator_retries = 0;
  std::ostringstream text;
  VmOutcome outcome;
  Boot b;
  b.rc = run_vm(vo, text, &outcome);
  b.output = text.str();
  b.seconds = outcome.seconds;
  machine->settle_accel(outcome.accel);
  if (!outcome.run_dirs.empty()) b.guest_run = vo.results_root / outcome.run_dirs.back();
  b.console = read_file_or_empty(b.guest_run / "console.log");
  return b;
}

}  // namespace

int run_crash(const CrashOptions& o, std::ostream& out) {
  const auto t_start = Clock::now();
  const auto workloads = select_crash_workloads(o.workloads);  // bad names fail before anything boots
  const std::string release = bzimage_release(o.kernel);
  const std::string run_id = make_run_dir(o.results_root);
  const fs::path run_dir = o.results_root / run_id;
  TempDir work_dir("diotorture-crash");
  const fs::path& work = work_dir.path();
  if (o.keep_images) work_dir.keep();
  const std::string btrfs_bin = program_path("btrfs");
  GuestMachine machine = o.machine;

  RunInfo info;
  info.run_id = run_id;
  info.started = utc_timestamp();
  info.hostname = host_name();
  info.kernel = release;
  info.provisioning = "qemu guest, one logged virtio disk (blklogwrites)";
  info.fstype = "btrfs";
  info.profile = "single data, dup metadata (mkfs.btrfs defaults)";
  info.seed = o.seed;
  info.tool_version = tool_version();

  out << fmt::format("CRASH     -- kernel {} under qemu; workloads {}; file kinds {}; seed {}\n", release,
                     fmt::join([&] {
                       std::vector<std::string> n;
                       for (auto* w : workloads) n.push_back(w->name);
                       return n;
                     }(),
                               ","),
                     fmt::join(o.kinds, ","), o.seed);
  out << fmt::format("RESULTS   -- {}\n", run_dir.string()) << std::flush;

  auto status = [&](const std::string& line) {
    if (o.progress) out << "\r\033[K" << line << std::flush;
  };

  // 1. Record.
  const fs::path disk = work / "record.img", log = work / "writes.log", acks_serial = work / "acks.jsonl";
  make_sparse_file(disk, kCrashDiskBytes);
  make_sparse_file(log, 0);
  VmOptions rec;
  rec.extra_qemu_args = {
      "-blockdev", fmt::format("driver=file,filename={},node-name=rec-data", disk.string()),
      "-blockdev", fmt::format("driver=file,filename={},node-name=rec-log", log.string()),
      "-blockdev", "driver=blklogwrites,node-name=rec,file=rec-data,log=rec-log,log-sector-size=512,log-append=off",
      // No write-zeroes and no discard: every change to the disk is a plain
      // logged write, so the log replays the disk exactly.
      "-device", "virtio-blk-pci,drive=rec,serial=dtrecord,write-zeroes=off,discard=off",
      "-serial", "file:" + acks_serial.string()};
  rec.extra_kernel_args = "bdev_allow_write_mounted=1";
  bool flakey = false;
  for (auto* w : workloads) flakey |= (w->caps & kNeedsFlakey) != 0;
  if (flakey) {
    // Write errors come from dm-flakey inside the guest; its table is switched with dmsetup.
    if (std::string dmsetup = program_path("dmsetup"); !dmsetup.empty()) rec.extra_binaries = {dmsetup};
    rec.extra_modules = {"dm_flakey"};
  }
  rec.args = {"crash-record",  "--device-serial", "dtrecord", "--fs-size", std::to_string(kCrashFsBytes),
              "--workload",    o.workloads,       "--ops",    std::to_string(o.ops), "--seed", std::to_string(o.seed),
              "--kinds",       fmt::format("{}", fmt::join(o.kinds, ",")), "--serial", "/dev/ttyS1"};
  if (flakey) rec.args.push_back("--flakey");
  status("crash: recording the workloads (boot 1)");
  Boot r = boot(o, &machine, work, "record", rec, [&](const std::string&) {
    status(fmt::format("crash: recording, {} acks so far (boot 1)", count_lines(read_file_or_empty(acks_serial), "{")));
  });
  status("");
  write_file_atomic(run_dir / "record-console.log", r.console);
  write_file_atomic(run_dir / "record-output.txt", r.output);
  const std::string serial_acks = read_file_or_empty(acks_serial);
  write_file_atomic(run_dir / "acks.jsonl", serial_acks);
  nlohmann::json record = nlohmann::json::parse(read_file_or_empty(r.guest_run / "record.json"), nullptr, false);
  if (record.is_discarded()) record = nlohmann::json::object();
  for (const auto& t : record.value("workloads", nlohmann::json::array()))
    out << fmt::format("record    -- {} {}: {} writes, {} acks{}{}{}\n", t.value("workload", ""), t.value("kind", ""),
                       t.value("writes", 0), t.value("acks", 0),
                       (t.value("eagain_retries", 0) ? fmt::format(", {} NOWAIT EAGAIN reissued", t.value("eagain_retries", 0)) : std::string()) +
                           (t.contains("injected_eio") ? fmt::format(", {} writes failed by injected errors, {} not",
                                                                    t.value("injected_eio", 0), t.value("injected_not_failed", 0))
                                                       : std::string()),
                       t.contains("not_run") ? "; not run: " + t.value("not_run", "")
                       : t.contains("path")  ? "; path: " + t.value("path", "")
                                             : "",
                       t.contains("error") ? "; ERROR: " + t.value("error", "") : "");
  std::vector<CaseResult> results;
  auto finish = [&](int forced_rc, const std::string& reason) {
    info.selected.clear();
    for (const auto& c : results) info.selected.push_back(c.id);
    info.outcome = forced_rc ? "aborted" : "complete";
    info.outcome_reason = reason;
    int rc = forced_rc ? forced_rc : exit_code(results);
    info.outcome_exit_code = rc;
    auto summary = nlohmann::json::parse(summary_json(info, results));
    summary["crash"] = record;
    summary["crash"]["seconds"] = since(t_start);
    write_file_atomic(run_dir / "summary.json", summary.dump(2) + "\n");
    write_file_atomic(run_dir / "junit.xml", junit_xml(info, results));
    return rc;
  };
  if (r.rc != 0) {
    // The guest could not finish the workloads: a panic or hang under the
    // workload is a finding on its own; an error in the workload too.
    CaseResult c;
    c.id = "crash-record";
    c.status = r.rc == 3 ? Status::Hang : Status::Fail;
    c.reason = r.rc == 3 ? "the guest died or hung while running the workloads (console in record-console.log)"
                         : fmt::format("the workloads stopped with exit status {} (see record-output.txt)", r.rc);
    c.failures = {c.reason};
    results.push_back(c);
    out << fmt::format("{} crash-record: {}\n", upper(status_name(c.status)), c.reason);
    return finish(0, "");
  }
  for (const auto& t : record.value("workloads", nlohmann::json::array()))
    if (t.contains("error")) {
      CaseResult c;
      c.id = fmt::format("record-{}-{}", t.value("workload", ""), t.value("kind", ""));
      c.status = Status::Fail;
      c.reason = "the workload failed: " + t.value("error", "");
      c.failures = {c.reason};
      results.push_back(c);
      out << fmt::format("FAIL {}: {}\n", c.id, c.reason);
    }

  // 2. The log, the acks in it, the crash states.
  const auto t_replay = Clock::now();
  const WriteLog wl = read_write_log(log, kCrashDiskBytes);
  const Recorded rd = find_acks(log, wl);
  const size_t serial_count = count_lines(serial_acks, "{");
  out << fmt::format("log       -- {} entries, {} flushes, {} written; {} acks in the log, {} on the serial port\n",
                     wl.entries.size(), wl.flushes(), format_size(wl.bytes_written()), rd.acks.size(), serial_count);
  if (rd.acks.size() != serial_count || rd.acks.empty()) {
    // The recorder lost something the guest reported: nothing it says can be trusted.
    out << "crash: the write log and the serial port disagree about the acks; the recorder is not trustworthy here\n";
    return finish(3, "write log and serial acks disagree");
  }
  PointChoice pc{o.points, o.subsets, o.seed};
  std::vector<CrashPoint> points = choose_crash_points(wl, rd.marker_index, pc);
  std::vector<fs::path> images;
  for (const auto& p : points) {
    const fs::path img = work / fmt::format("state-{:03}.img", p.id);
    make_sparse_file(img, kCrashDiskBytes);
    replay_write_log(log, wl, p.applied_upto, p.extra, img);
    images.push_back(img);
  }
  const double replay_s = since(t_replay);
  out << fmt::format("states    -- {} crash states ({} flush points, {} subsets each, the end of the log) replayed in {:.1f} s\n",
                     points.size(), o.points, o.subsets, replay_s)
      << std::flush;

  // 3. Check, several states per boot.
  nlohmann::json acks_json = nlohmann::json::array();
  for (const auto& a : rd.acks) acks_json.push_back(a.to_json());
  write_file_atomic(run_dir / "acks-from-log.jsonl", [&] {
    std::string s;
    for (const auto& a : acks_json) s += a.dump() + "\n";
    return s;
  }());
  fs::create_directories(run_dir / "states");
  unsigned boots = 1, checked = 0, failed = 0;
  const unsigned batches = static_cast<unsigned>((points.size() + o.states_per_boot - 1) / o.states_per_boot);
  double check_s = 0;
  for (unsigned b = 0; b < batches; ++b) {
    const size_t lo = b * o.states_per_boot, hi = std::min(points.size(), lo + o.states_per_boot);
    nlohmann::json manifest = {{"acks", acks_json}, {"states", nlohmann::json::array()}};
    VmOptions chk;
    for (size_t i = lo; i < hi; ++i) {
      const auto& p = points[i];
      manifest["states"].push_back(
          {{"id", p.id}, {"serial", fmt::format("dtstate{}", p.id)}, {"acked", p.acked}, {"what", p.what}});
      chk.extra_qemu_args.insert(chk.extra_qemu_args.end(),
                                 {"-drive",
                                  fmt::format("file={},format=raw,if=none,id=st{},cache=unsafe", images[i].string(), p.id),
                                  "-device", fmt::format("virtio-blk-pci,drive=st{},serial=dtstate{}", p.id, p.id)});
    }
    chk.extra_files = {{kManifest, manifest.dump()}};
    if (!btrfs_bin.empty()) chk.extra_binaries = {btrfs_bin};
    chk.args = {"crash-check", "--manifest", kManifest};
    ++boots;
    Boot cb = boot(o, &machine, work, fmt::format("check{}", b), chk, [&](const std::string& con) {
      status(fmt::format("crash: {}/{} states checked, boot {} of {}, {} failed", checked + count_lines(con, "crash-check: state"),
                         points.size(), boots, batches + 1, failed));
    });
    status("");
    check_s += cb.seconds;
    write_file_atomic(run_dir / fmt::format("check{}-console.log", b), cb.console);
    for (size_t i = lo; i < hi; ++i) {
      const auto& p = points[i];
      CaseResult c;
      c.id = fmt::format("crash-{:03}", p.id);
      nlohmann::json st = nlohmann::json::parse(
          read_file_or_empty(cb.guest_run / "states" / fmt::format("{}.json", p.id)), nullptr, false);
      nlohmann::json rec_state = {{"id", p.id},           {"what", p.what},         {"cut", p.cut},
                                  {"applied_upto", p.applied_upto}, {"extra_writes", p.extra}, {"acked", p.acked}};
      if (st.is_discarded()) {
        c.status = cb.rc == 3 ? Status::Hang : Status::NotRun;
        c.reason = cb.rc == 3 ? "the guest died or hung before this state was reported (console: " +
                                    fmt::format("check{}-console.log)", b)
                              : "the guest did not report this state";
        if (c.status == Status::Hang) c.failures = {c.reason};
      } else {
        rec_state["check"] = st;
        for (const auto& v : st.value("violations", nlohmann::json::array())) c.failures.push_back(v.get<std::string>());
        c.status = c.failures.empty() ? Status::Pass : Status::Fail;
        if (!c.failures.empty()) c.reason = c.failures.front();
        c.duration_s = st.value("seconds", 0.0);
        c.notes.push_back(fmt::format("{}; {} acks before the crash; mount {}; {} files, {} sectors checked; scrub: {}; "
                                      "btrfs check: {}",
                                      p.what, p.acked, st.value("mount", "?"), st.value("files_checked", 0),
                                      st.value("sectors_checked", 0), st.value("scrub", "?"),
                                      st.value("btrfs_check", "?")));
        ++checked;
      }
      if (c.status == Status::Fail || c.status == Status::Hang) ++failed;
      write_file_atomic(run_dir / "states" / fmt::format("{:03}.json", p.id), rec_state.dump(2) + "\n");
      out << fmt::format("{:<5} {} {}\n", upper(status_name(c.status)), c.id, c.notes.empty() ? c.reason : c.notes.front());
      for (size_t k = 0; k < c.failures.size() && k < 8; ++k) out << "        " << c.failures[k] << "\n";
      out << std::flush;
      results.push_back(c);
    }
  }
  const double total = since(t_start);
  record["states"] = points.size();
  record["boots"] = boots;
  record["log_entries"] = wl.entries.size();
  record["log_flushes"] = wl.flushes();
  record["acks"] = rd.acks.size();
  record["replay_seconds"] = replay_s;
  record["check_seconds"] = check_s;
  record["record_seconds"] = r.seconds;
  const double per_minute = check_s > 0 ? checked * 60.0 / check_s : 0.0;
  record["states_per_minute"] = per_minute;
  out << fmt::format("\n{}\ncrash: {} states checked in {} boots; record {:.0f} s, replay {:.1f} s, check {:.0f} s "
                     "({:.1f} states/min); total {:.0f} s\n",
                     run_summary(results, "crash states"), checked, boots, r.seconds, replay_s, check_s, per_minute, total);
  return finish(0, "");
}

}  // namespace dt
