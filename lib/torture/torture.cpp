#include "lib/torture/torture.hpp"

#include <fcntl.h>
#include <linux/btrfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <set>

#include "lib/btrfs/copies.hpp"
#include "lib/btrfs/fscheck.hpp"
#include "lib/btrfs/fsinfo.hpp"
#include "lib/run/kmsg.hpp"
#include "lib/run/results_dir.hpp"
#include "lib/run/watchdog.hpp"
#include "lib/io/uring.hpp"
#include "lib/sys/interrupt.hpp"
#include "lib/sys/sys.hpp"
#include "lib/torture/cost.hpp"
#include "lib/torture/engine.hpp"
#include "lib/torture/repro.hpp"
#include "lib/torture/shrink.hpp"
#include "lib/torture/states.hpp"
#include "lib/trace/coverage.hpp"

namespace dt {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Removes a run's directory, including the subvolume the engine made in it.
void remove_work(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir / "sv", ec)) {
    fs::remove_all(dir / "sv", ec);  // the contents; the subvolume root may refuse rmdir
    Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY));
    if (d && fs::exists(dir / "sv", ec)) {
      btrfs_ioctl_vol_args a{};
      std::snprintf(a.name, sizeof a.name, "sv");
      ::ioctl(d.get(), BTRFS_IOC_SNAP_DESTROY, &a);
    }
  }
  fs::remove_all(dir, ec);
}

struct EngineRun {
  ChildOutcome outcome;
  std::optional<Failure> failure;
  std::optional<Step> in_flight;  // the step started last (a hang's culprit)
  bool reported_by_engine = false;
  uint64_t ops = 0;
  double elapsed = 0;
  std::vector<std::string> notes;
  nlohmann::json timing;  // the engine's time_breakdown (null if it never ended)
};

// The engine in a child under the watchdog. on_progress sees each progress line.
EngineRun run_engine_watched(const EngineConfig& ecfg, unsigned total_s, unsigned stall_s,
                             const std::function<void(const nlohmann::json&)>& on_progress,
                             const std::function<void()>& on_tick) {
  EngineRun r;
  WatchdogOptions w;
  w.total_s = total_s;
  w.stall_s = stall_s;
  w.on_tick = on_tick;
  w.on_line = [&](const std::string& line) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const std::exception&) {
      r.notes.push_back(line);
      return;
    }
    const std::string type = j.value("type", "");
    if (type == "progress") {
      r.ops = j.value("ops", uint64_t{0});
      r.elapsed = j.value("elapsed", 0.0);
      if (on_progress) on_progress(j);
    } else if (type == "start") {
      r.in_flight = step_from_json(j["step"]);
    } else if (type == "fail") {
      if (!r.failure) r.failure = failure_from_json(j);
      r.reported_by_engine = true;
    } else if (type == "abort") {
      if (!r.failure) r.failure = Failure{0, "error", "engine", j.value("msg", ""), {}};
    } else if (type == "note") {
      r.notes.push_back(j.value("msg", ""));
    } else if (type == "timing") {
      r.timing = j.value("breakdown", nlohmann::json());
    }
  };
  r.outcome = run_watched([&](int report_fd) {
    EngineConfig c = ecfg;
    c.report_fd = report_fd;
    return run_engine(c);
  }, w);
  if (r.outcome.end == ChildOutcome::End::Hung) {
    std::string what = r.in_flight ? fmt::format("step {} ({})", r.in_flight->seq, r.in_flight->op) : "set-up";
    r.failure = Failure{r.in_flight ? r.in_flight->seq : 0, "hang", r.in_flight ? r.in_flight->op : "setup",
                        fmt::format("{}: {}", what, r.outcome.hang_reason), {}};
  } else if (r.outcome.end == ChildOutcome::End::Signaled && !r.failure) {
    r.failure = Failure{r.in_flight ? r.in_flight->seq : 0, "error", r.in_flight ? r.in_flight->op : "engine",
                        fmt::format("the engine was killed by signal {} ({})", r.outcome.signal,
                                    strsignal(r.outcome.signal)),
                        {}};
  } else if (r.outcome.exit_code != 0 && !r.failure) {
    r.failure = Failure{0, "error", "engine", fmt::format("the engine exited with status {}", r.outcome.exit_code), {}};
  }
  return r;
}

// Test-only (DIOTORTURE_TORTURE_INJECT=corrupt-copy): flips bytes of one
// copy of one data block of a checksummed file on its device, after the run
// and before the filesystem check, which must then find it. Only ever on
// the tool's own loop devices.
void corrupt_one_block(const fs::path& subvol, const LogHeader& h) {
  for (const auto& f : h.files) {
    if (f.nocow) continue;
    Fd fd = open_or_throw(subvol / f.name, O_RDONLY);
    const off_t data = ::lseek(fd.get(), 0, SEEK_DATA);
    if (data < 0) continue;
    ::syncfs(fd.get());
    CopyReader reader(subvol);
    const auto locs = reader.locate(fd.get(), static_cast<uint64_t>(data) / 4096 * 4096);
    if (locs.empty()) continue;
    corrupt_copy(reader.device_path(locs.back().devid), locs.back().physical, 512);
    return;
  }
  throw std::runtime_error("corrupt-copy: no checksummed file has data to corrupt");
}

// Same kind, and for a failure of one op the same op. Copies, scrub and the
// kernel log are checked in bursts and at the end: a shorter candidate finds
// the same damage at the end instead.
bool same_way(const Failure& a, const Failure& b) {
  if (a.kind != b.kind) return false;
  return a.kind == "copies" || a.kind == "scrub" || a.kind == "kernel-log" || a.op == b.op;
}

}  // namespace

int run_torture(const TortureConfig& cfg, std::ostream& out) {
  OpLog replay;
  if (!cfg.replay.empty()) {
    std::string text;
    try {
      text = read_file(cfg.replay);
    } catch (const std::exception&) {
      throw SetupError(fmt::format("--replay {}: cannot read it; give the oplog.jsonl of a torture run",
                                   cfg.replay.string()));
    }
    try {
      replay = parse_oplog(text);
    } catch (const std::exception& e) {
      throw SetupError(fmt::format("--replay {}: {}; give the oplog.jsonl or minimal.jsonl of a torture run",
                                   cfg.replay.string(), e.what()));
    }
  }
  Mix mix = parse_mix(cfg.ops_mix, cfg.events);
  const std::string uring_why = io_uring_unavailable_reason();
  mix.uring = uring_why.empty();

  Workspace ws(cfg.fs);
  const fs::path test_dir = ws.dir();
  // A campaign names its sub-runs inside the run directory it made itself;
  // mkdir, not create_directories, so even there nothing existing is reused.
  std::string run_id = cfg.run_name;
  if (run_id.empty()) {
    run_id = make_run_dir(cfg.results_root);  // exclusive, says what to do when it cannot
  } else if (::mkdir((cfg.results_root / run_id).c_str(), 0755) != 0) {
    throw SetupError(fmt::format("{}: cannot create the sub-run directory ({}); give a writable --results",
                                 (cfg.results_root / run_id).string(), std::strerror(errno)));
  }
  const fs::path dir = cfg.results_root / run_id / "torture";
  fs::create_directory(dir);

  // Device events need a blank device to add: beside a filesystem the tool
  // made on loop images, a loop device on an image of its own; on a scratch
  // pool only a device the user handed over with --spare-dev (every pool
  // device is in the filesystem); never anything on a --test-dir.
  std::vector<std::unique_ptr<ScratchBlockDevice>> spare_devs;
  std::vector<std::string> spares;
  std::string no_device_events;
  uint64_t spare_size = 0;  // as large as the largest device, so it can replace any
  const bool device_events =
      std::any_of(mix.events.begin(), mix.events.end(),
                  [](const EventInfo* e) { return e->needs_spare || std::string(e->name) == "state"; }) ||
      std::any_of(replay.steps.begin(), replay.steps.end(),
                  [](const Step& s) { return s.event == "device" || s.event == "state"; });  // state: replace/remove-running
  if (device_events) {
    if (!ws.scratch())
      no_device_events = "a --test-dir's devices are not the tool's to add, remove or replace";
    else if (!ws.scratch()->can_reprovision() && cfg.spare_devs.empty())
      no_device_events = "every device of the scratch pool is in the filesystem; hand one over with --spare-dev";
    if (no_device_events.empty()) {
      Fd root = open_or_throw(test_dir, O_RDONLY | O_DIRECTORY);
      for (const auto& d : btrfs_devices(root.get()).devices) spare_size = std::max(spare_size, d.total_bytes);
      if (!cfg.spare_devs.empty()) {
        spares = cfg.spare_devs;  // checked by the command before anything was formatted
      } else {
        spare_devs.push_back(std::make_unique<ScratchBlockDevice>(cfg.fs.scratch.base_dir, spare_size));
        spares.push_back(spare_devs.back()->path());
      }
    } else {
      std::erase_if(mix.events, [](const EventInfo* e) { return e->needs_spare; });
    }
  }
  LogHeader header = cfg.replay.empty() ? make_header(cfg.seed, cfg.files, cfg.file_kinds) : replay.header;
  header.kernel = kernel_release();
  const std::string profile = btrfs_profile(test_dir);
  std::vector<std::string> devices;
  try {
    devices = describe_btrfs_devices(test_dir);
  } catch (const std::exception&) {
  }
  out << fmt::format("KERNEL    -- {}\nTEST_DIR  -- {} ({})\nPROFILE   -- {}\nDEVICES   -- {}\nRESULTS   -- {}\n",
                     header.kernel, test_dir.string(), ws.provisioning(), profile.empty() ? "?" : profile,
                     devices.empty() ? "?" : fmt::format("{}", fmt::join(devices, "; ")), dir.string());
  if (!spare_devs.empty())
    out << fmt::format("SPARE     -- {} (a {} sparse image of its own, for device events)\n", fmt::join(spares, " "),
                       format_size(spare_size));
  else if (!spares.empty())
    out << fmt::format("SPARE     -- {} (--spare-dev, for device events)\n", fmt::join(spares, " "));
  if (!no_device_events.empty()) out << "SPARE     -- none: device events not run: " << no_device_events << "\n";
  // Kernel coverage of the main run (lib/trace/coverage.hpp), per run.
  KernelCoverage coverage;
  out << "COVERAGE  -- " << coverage.description() << "\n";
  if (cfg.replay.empty())
    out << fmt::format("TORTURE   -- seed {}, {}, {} files, ops {}, events {}{}\n\n", header.seed,
                       cfg.ops ? fmt::format("{} ops", cfg.ops) : fmt::format("{:.0f}s", cfg.duration_s),
                       header.files.size(), cfg.ops_mix.empty() ? "all" : cfg.ops_mix,
                       cfg.events.empty() ? "none" : cfg.events, uring_why.empty() ? "" : " (no io_uring: " + uring_why + ")");
  else
    out << fmt::format("REPLAY    -- {} ({} steps, seed {})\n\n", cfg.replay.string(), replay.steps.size(), header.seed);
  out.flush();

  // The op log: the header now, each step as it finishes (the engine appends).
  const fs::path oplog_path = dir / "oplog.jsonl";
  Fd oplog = open_or_throw(oplog_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  write_all(oplog.get(), header_to_json(header).dump() + "\n");

  const fs::path work_root = test_dir / fmt::format("diotorture-torture-{}", ::getpid());
  EngineConfig ecfg;
  ecfg.header = header;
  ecfg.mix = mix;
  ecfg.replaying = !cfg.replay.empty();
  ecfg.replay = replay.steps;
  ecfg.max_ops = cfg.ops;
  ecfg.duration_s = cfg.duration_s;
  if (cfg.inject.rfind("uffd-", 0) == 0) ecfg.inject = cfg.inject;
  ecfg.oplog_fd = oplog.get();
  ecfg.thorough_checks = cfg.checks == "thorough";
  ecfg.final_scrub = false;  // check_filesystem below scrubs
  ecfg.spares = spares;
  ecfg.work_dir = work_root / "run";
  remove_work(ecfg.work_dir);
  fs::create_directories(ecfg.work_dir);

  // Progress: a live line on a terminal, one line a minute otherwise.
  const bool tty = cfg.progress && ::isatty(1);
  const auto t0 = Clock::now();
  auto last_line = t0;
  nlohmann::json last_progress = nlohmann::json::object();  // before the first progress line too
  const double planned = cfg.ops ? 0 : cfg.duration_s;
  auto show = [&](bool final_line) {
    const double el = std::chrono::duration<double>(Clock::now() - t0).count();
    const uint64_t ops = last_progress.value("ops", uint64_t{0});
    const double eng = last_progress.value("elapsed", 0.0);
    std::string line = fmt::format("[{:>5.0f}s{}] {} ops (step {}), {:.0f} ops/s, events running: {}", el,
                                   planned ? fmt::format(" of {:.0f}s", planned) : "", ops,
                                   last_progress.value("seq", uint64_t{0}), eng > 0 ? ops / eng : 0.0,
                                   last_progress.value("events", std::string()).empty() ? "none" : last_progress.value("events", std::string()));
    if (tty)
      out << "\r" << line << "   " << (final_line ? "\n" : "") << std::flush;
    else if (final_line || Clock::now() - last_line >= std::chrono::seconds(60)) {
      out << line << "\n" << std::flush;
      last_line = Clock::now();
    }
  };
  const unsigned total_s = static_cast<unsigned>((cfg.ops ? 3600 : cfg.duration_s) + 900);
  KmsgWatch kmsg(fmt::format("begin torture {}", run_id));
  EngineRun main;
  try {
    main = run_engine_watched(ecfg, total_s, cfg.stall_s, [&](const nlohmann::json& j) { last_progress = j; },
                              [&] { show(false); });
  } catch (const Interrupted&) {
    // An interrupted run still leaves an honest record: the op log so far
    // and a summary that says it was interrupted (not a pass, not a fail).
    oplog.reset();
    const uint64_t ops_done = last_progress.value("ops", uint64_t{0});
    nlohmann::json s = {{"status", "interrupted"}, {"interrupted", "during the run"}, {"exit_code", 128 + (interrupt_signal() ? interrupt_signal() : 2)},
                        {"seed", header.seed},     {"kernel", header.kernel},         {"ops", ops_done},
                        {"replay", cfg.replay.string()}};
    try {
      write_file_atomic(dir / "summary.json", s.dump(2) + "\n");
    } catch (const std::exception&) {
    }
    out << fmt::format("\ninterrupted after {} ops: the op log so far and summary.json (status interrupted) are in {}\n",
                       ops_done, dir.string())
        << std::flush;
    throw;
  }
  coverage.stop();
  show(true);
  for (const auto& n : main.notes) out << "note: " << n << "\n";
  std::optional<Failure> failure = main.failure;
  if (main.outcome.end == ChildOutcome::End::Hung) {
    write_file_atomic(dir / "stacks.txt", fmt::format("torture hung: {}\n{}", failure->msg, main.outcome.stacks));
    if (main.in_flight) {
      Step s = *main.in_flight;
      s.note = "hang: " + main.outcome.hang_reason;
      write_all(oplog.get(), step_to_line(s) + "\n");
    }
  }
  // The filesystem check `run` does after each case, with the torture files
  // still there: a read-only scrub while mounted, then `btrfs check
  // --readonly` unmounted (scrub only on a --test-dir; no btrfs check where
  // there are no btrfs-progs). Before the kernel log is read, so what the
  // mount says again is scanned too. Not while a task is stuck on the fs.
  nlohmann::json fs_check;
  if (main.outcome.stuck_in_d_state) {
    fs_check = {{"ok", nullptr}, {"summary", "not run: a task is stuck in D state on the filesystem"}};
  } else {
    if (cfg.inject == "corrupt-copy") {
      if (!ws.scratch() || !ws.scratch()->can_reprovision())
        throw SetupError("DIOTORTURE_TORTURE_INJECT=corrupt-copy writes to a device: only on self-provisioned loop devices");
      corrupt_one_block(ecfg.work_dir / "sv", header);
    }
    const auto c0 = Clock::now();
    FsCheck chk = check_filesystem(test_dir, ws.scratch());
    const double check_s = std::chrono::duration<double>(Clock::now() - c0).count();
    fs_check = {{"ok", chk.ok}, {"summary", chk.summary}, {"seconds", check_s}};
    out << fmt::format("fs check: {} ({:.1f}s)\n", chk.summary, check_s);
    if (!chk.ok) {
      write_file_atomic(dir / "fsck.txt", chk.output);
      if (!failure) {
        // A scrub finding can be shrunk (candidates scrub at their end); what
        // btrfs check finds is about the whole filesystem, which every
        // candidate would share: that one is not shrunk.
        const bool scrub = chk.summary.rfind("scrub found errors", 0) == 0;
        failure = Failure{0, scrub ? "scrub" : "fsck", "final",
                          fmt::format("filesystem check at the end: {} (see fsck.txt)", chk.summary), {}};
      }
    }
  }
  // The kernel log of the whole run, whatever the engine saw. After a task
  // got stuck in D state nothing on the filesystem is touched again (not even
  // an ioctl that may wait on it): our own devices are what we made.
  const bool stuck = main.outcome.stuck_in_d_state;
  std::vector<std::string> own_devices;
  if (stuck) {
    if (ws.scratch()) own_devices = ws.scratch()->devices();
  } else {
    try {
      Fd root = open_or_throw(test_dir, O_RDONLY | O_DIRECTORY);
      for (const auto& d : btrfs_devices(root.get()).devices) own_devices.push_back(d.path);
    } catch (const std::exception&) {
    }
  }
  own_devices.insert(own_devices.end(), spares.begin(), spares.end());
  auto attributed = attribute_kernel_log(kmsg.collect(), tool_tasks(own_devices), alive_outside_our_tree);
  std::vector<std::string> klog = std::move(attributed.ours);
  for (const auto& n : attributed.notes) {
    out << "note: " << n << "\n";
    main.notes.push_back(n);
  }
  auto findings = scan_kernel_log(klog);
  if (!findings.empty()) {
    std::string text;
    for (const auto& l : klog) text += l + "\n";
    write_file_atomic(dir / "dmesg.txt", text);
    if (!failure) failure = Failure{0, "kernel-log", "kernel", findings.front().line + " (see dmesg.txt)", {}};
  }
  // The engine writes its own failures into the op log; the parent's (a
  // hang, a crash, the kernel log, the filesystem check) are added here.
  if (failure && !main.reported_by_engine) write_all(oplog.get(), failure_to_json(*failure).dump() + "\n");
  oplog.reset();
  if (!main.outcome.stuck_in_d_state) remove_work(ecfg.work_dir);

  nlohmann::json summary = {{"seed", header.seed},         {"kernel", header.kernel},
                            {"profile", profile},          {"devices", devices},
                            {"test_dir", test_dir.string()}, {"provisioning", ws.provisioning()},
                            {"ops", main.ops},             {"seconds", main.elapsed},
                            {"ops_per_s", main.elapsed > 0 ? main.ops / main.elapsed : 0.0},
                            {"ops_mix", cfg.ops_mix.empty() ? "all" : cfg.ops_mix},
                            {"events", cfg.events},        {"files", header.files.size()},
                            {"notes", main.notes},         {"replay", cfg.replay.string()},
                            {"fs_check", fs_check},        {"spares", spares},
                            {"checks", cfg.checks}};
  if (!no_device_events.empty()) summary["device_events"] = "not run: " + no_device_events;
  if (!main.timing.is_null()) {
    summary["time_breakdown"] = main.timing;
    out << format_time_breakdown(main.timing);
  }
  report_states(oplog_path, failure ? failure->seq : 0, mix, !spares.empty(), &summary, out);
  {
    std::set<std::string> baseline;
    if (!cfg.coverage_baseline.empty()) baseline = parse_coverage_list(read_file(cfg.coverage_baseline));
    const std::set<std::string>* base = cfg.coverage_baseline.empty() ? nullptr : &baseline;
    summary["coverage"] = coverage.to_json(base);
    if (summary["coverage"].value("available", false)) write_file_atomic(dir / "coverage.txt", coverage.listing());
    out << coverage.summary_line(base);
  }
  auto write_summary = [&](const std::string& status) {
    summary["status"] = status;
    write_file_atomic(dir / "summary.json", summary.dump(2) + "\n");
  };
  if (!failure) {
    write_summary("pass");
    out << fmt::format("PASS: {} ops in {:.1f}s ({:.0f} ops/s), every check passed\nResults in {}\n", main.ops,
                       main.elapsed, main.elapsed > 0 ? main.ops / main.elapsed : 0.0, dir.string());
    remove_work(work_root);
    return 0;
  }
  const bool hang = failure->kind == "hang";
  summary["failure"] = failure_to_json(*failure);
  write_summary(hang ? "hang" : "fail");
  out << fmt::format("{}: step {} ({}): {}: {}\n", hang ? "HANG" : "FAIL", failure->seq, failure->op, failure->kind,
                     failure->msg);
  const std::string known = cfg.known && !hang ? cfg.known(failure->kind, failure->op, failure->msg) : "";
  if (!known.empty()) {
    summary["known"] = known;
    write_summary("fail");
    out << "known failure, not shrunk: " << known << "\n";
  }

  if (cfg.shrink && failure->kind == "fsck") {
    summary["shrink"] = {{"not_run", "btrfs check judges the whole filesystem, which every candidate would share; "
                                     "replay oplog.jsonl on a fresh filesystem instead"}};
    out << "not shrunk: btrfs check judges the whole filesystem, which every shrink candidate would share; "
           "--replay the op log on a fresh filesystem instead\n";
    write_summary("fail");
  } else if (cfg.shrink && known.empty() && !main.outcome.stuck_in_d_state) {
    // Shrink: every candidate replayed on a fresh subvolume in a child under
    // the watchdog (a fresh mkfs per candidate would cost more than the run).
    OpLog full = parse_oplog(read_file(oplog_path));
    std::erase_if(full.steps, [&](const Step& s) { return failure->seq && s.seq > failure->seq; });
    const bool needs_final = failure->op == "final" || failure->op == "burst" || failure->kind == "kernel-log";
    Failure last_failure = *failure;
    std::optional<OpLog> smallest;  // the smallest candidate that failed the same way so far
    unsigned n = 0;
    const auto shrink_t0 = Clock::now();
    // Candidates check after every op (--checks thorough), so each fails at
    // the op that did the damage, not where a fast run's owed read-back
    // caught up with it. A fast run's failure is first confirmed that way
    // on the whole prefix; if thorough checking changes the outcome (its
    // read-backs fill the page cache, say), the candidates check as the run did.
    bool thorough_candidates = true;
    auto fails = [&](const OpLog& cand, uint64_t* fail_seq) {
      EngineConfig c = ecfg;
      c.thorough_checks = thorough_candidates;
      c.replaying = true;
      c.replay = cand.steps;
      c.oplog_fd = -1;
      c.final_checks = needs_final;
      c.final_scrub = true;  // no parent check per candidate
      c.inject.clear();
      c.work_dir = work_root / fmt::format("cand-{}", ++n);
      remove_work(c.work_dir);
      fs::create_directories(c.work_dir);
      KmsgWatch ck(fmt::format("torture shrink candidate {}", n));
      EngineRun r = run_engine_watched(c, 600, hang ? 30 : cfg.stall_s, nullptr, nullptr);
      if (!r.failure && failure->kind == "kernel-log") {
        auto f = scan_kernel_log(own_kernel_lines(ck.collect(), own_devices));
        if (!f.empty()) r.failure = Failure{0, "kernel-log", "kernel", f.front().line, {}};
      }
      if (!r.outcome.stuck_in_d_state) remove_work(c.work_dir);
      const bool same = r.failure && same_way(*r.failure, *failure);
      if (tty)
        out << fmt::format("\rshrinking: candidate {} ({} steps): {}   ", n, cand.steps.size(),
                           same ? "fails the same way" : "passes or fails otherwise")
            << std::flush;
      if (same) {
        last_failure = *r.failure;
        *fail_seq = r.failure->seq;
        if (!smallest || cand.steps.size() < smallest->steps.size()) smallest = cand;
      }
      return same;
    };
    ShrinkStats st;
    OpLog minimal;
    try {
      if (!ecfg.thorough_checks) {
        uint64_t confirm_seq = 0;
        thorough_candidates = fails(full, &confirm_seq);
        ++st.candidates;
        st.failing += thorough_candidates;
        if (thorough_candidates && confirm_seq) std::erase_if(full.steps, [&](const Step& s) { return s.seq > confirm_seq; });
      }
      minimal = shrink_oplog(full, fails, Clock::now() + std::chrono::seconds(cfg.shrink_budget_s), &st);
    } catch (const Interrupted&) {
      // Interrupted while shrinking: the failure stands, and the smallest
      // failing candidate found so far (if smaller) is kept as minimal.jsonl.
      if (smallest && smallest->steps.size() >= full.steps.size()) smallest.reset();
      summary["interrupted"] = "during shrinking";
      summary["exit_code"] = 128 + (interrupt_signal() ? interrupt_signal() : 2);
      summary["shrink"] = {{"interrupted", true}, {"candidates", n}, {"steps_before", full.steps.size()}};
      if (smallest) {
        write_file_atomic(dir / "minimal.jsonl", format_oplog(*smallest) + failure_to_json(last_failure).dump() + "\n");
        summary["shrink"]["steps_after"] = smallest->steps.size();
      }
      write_summary(hang ? "hang" : "fail");
      out << fmt::format("\ninterrupted while shrinking after {} candidates{}\n", n,
                         smallest ? fmt::format("; the smallest failing one so far ({} steps): {}", smallest->steps.size(),
                                                (dir / "minimal.jsonl").string())
                                  : std::string("; none smaller failed yet"))
          << std::flush;
      throw;
    }
    if (tty) out << "\n";
    const double shrink_s = std::chrono::duration<double>(Clock::now() - shrink_t0).count();
    size_t ops_left = 0;
    for (const auto& s : minimal.steps) ops_left += !s.is_event();
    // What the steps asked, not what an earlier, longer run answered.
    for (Step& s : minimal.steps) {
      s.res.clear();
      s.note.clear();
      s.fault_seen.clear();
      s.t_us = s.dur_us = s.end_seq = 0;
    }
    write_file_atomic(dir / "minimal.jsonl", format_oplog(minimal) + failure_to_json(last_failure).dump() + "\n");
    summary["shrink"] = {{"candidates", st.candidates}, {"failing", st.failing}, {"seconds", shrink_s},
                         {"steps_before", full.steps.size()}, {"steps_after", minimal.steps.size()},
                         {"ops_after", ops_left}, {"out_of_time", st.out_of_time},
                         {"checks", thorough_candidates ? "thorough" : "fast"},
                         {"budget_s", cfg.shrink_budget_s}};
    out << fmt::format("shrunk {} steps to {} ({} ops) in {:.1f}s, {} candidates{}: {}\n", full.steps.size(),
                       minimal.steps.size(), ops_left, shrink_s, st.candidates,
                       st.out_of_time ? " (time budget reached)" : "", (dir / "minimal.jsonl").string());
    try {
      write_file_atomic(dir / "repro.c", make_repro(minimal, last_failure));
      summary["repro"] = (dir / "repro.c").string();
      out << fmt::format("reproducer: {} (cc repro.c -luring -lpthread)\n", (dir / "repro.c").string());
    } catch (const std::exception& e) {
      summary["repro"] = std::string("not written: ") + e.what();
      out << "no reproducer: " << e.what() << "\n";
    }
    write_summary(hang ? "hang" : "fail");
  }
  if (stuck) {
    // Removing the work files would block in the kernel for good (the run
    // would never return): leave them, detach our mount lazily so the kernel
    // frees it and the loop devices when the stuck task goes.
    out << fmt::format("a task is stuck in D state on {}: nothing on it was touched after the hang{}; reboot "
                       "before testing this filesystem again\n",
                       test_dir.string(), ws.scratch() ? " and its mount was detached lazily" : "");
    if (ws.scratch()) ws.scratch()->abandon();
  } else {
    remove_work(work_root);
  }
  out << "Results in " << dir.string() << "\n";
  return hang ? 3 : 1;
}

}  // namespace dt
