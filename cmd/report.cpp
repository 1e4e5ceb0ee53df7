// diotorture report RESULTS_DIR [--case ID | --torture] [--passed-in DIR]...
// Gathers a failure's facts from a results directory (a run's, a campaign's
// or one torture run's) and prints the markdown of lib/nightly/report.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <iostream>
#include <memory>

#include "cmd/command.hpp"
#include "lib/harness/registry.hpp"
#include "lib/nightly/merge.hpp"
#include "lib/nightly/report.hpp"
#include "lib/harness/results_doc.hpp"
#include "lib/nightly/signature.hpp"

namespace dt {
namespace fs = std::filesystem;
using nlohmann::json;
namespace {

struct ReportOptions {
  std::string dir, case_id, output;
  bool torture = false;
  std::vector<std::string> passed_in;
};

std::string first_lines(const std::string& text, size_t n) {
  std::string out;
  size_t count = 0;
  for (const auto& l : split(text, '\n')) {
    if (count++ == n) {
      out += "[...]\n";
      break;
    }
    out += l + "\n";
  }
  return out;
}

// The config of the kernel that ran, when this machine has it.
std::string config_of(const std::string& kernel) {
  if (kernel != kernel_release()) return "(config: the report is made on another kernel; attach the config)";
  const std::string text = read_file_or_empty("/boot/config-" + kernel);
  if (text.empty()) return "(config: /boot/config-" + kernel + " not found; attach the config)";
  return config_hints(text);
}

std::string filesystem_of(const json& s) {
  std::string devices;
  for (const auto& d : member(s, "devices")) devices += (devices.empty() ? "" : "; ") + d.get<std::string>();
  return fmt::format("btrfs, data profile {}, {}\n\n    devices: {}\n    mount options: {}\n    btrfs-progs: {}",
                     s.value("profile", "?"), s.value("provisioning", "?"), devices.empty() ? "?" : devices,
                     s.value("mount_options", "?"), s.value("btrfs_progs", "?"));
}

// Where to run it again: the profile, or the user's --test-dir.
std::string where_args(const json& s) {
  const std::string prov = s.value("provisioning", "");
  if (prov.find("--test-dir") != std::string::npos) return " --test-dir " + s.value("test_dir", "DIR");
  const std::string p = s.value("profile", "");
  return p.empty() || p == "single" ? "" : " --profile " + p;
}

// The kernels in other results where the same case (or torture seed) passed.
std::vector<std::string> passed_elsewhere(const std::vector<std::string>& dirs, const std::string& case_id,
                                          uint64_t torture_seed, bool torture) {
  std::vector<std::string> out;
  for (const auto& d : dirs) {
    MergeInput in = load_merge_input(d);
    const std::string kernel = in.doc.value("kernel", "?");
    if (!torture) {
      for (const auto& c : member(in.doc, "cases"))
        if (c.value("id", "") == case_id && c.value("status", "") == "pass")
          out.push_back(fmt::format("{}: {} passed ({})", kernel, case_id, d));
    } else if (in.doc.contains("torture")) {
      for (const auto& s : member(in.doc["torture"], "subruns"))
        if (s.value("torture_seed", uint64_t{0}) == torture_seed && !s.contains("failure"))
          out.push_back(fmt::format("{}: torture seed {} passed ({} ops; {})", kernel, torture_seed,
                                    s.value("ops", 0ull), d));
    }
  }
  return out;
}

std::string expectation(const std::string& kind) {
  static const std::map<std::string, std::string> k = {
      {"data", "Every read returns the bytes the earlier ops wrote (the model's data)."},
      {"eio", "Reading back what was written succeeds; nothing on the device is damaged."},
      {"short-read", "A read within i_size returns its full length."},
      {"hole", "The range the model holds as a hole reads back as zeroes."},
      {"isize", "i_size is what the writes and truncates made it."},
      {"blocks", "st_blocks covers the data the file holds."},
      {"error", "The op succeeds (or fails only as its interface documents)."},
      {"copies", "Every copy of each block (RAID1/DUP/RAID10) holds the same data."},
      {"scrub", "scrub finds no errors."},
      {"fsck", "btrfs check finds nothing wrong."},
      {"kernel-log", "The kernel logs no warning, error or splat."},
      {"hang", "Every op completes."}};
  auto it = k.find(kind);
  return it == k.end() ? "The check '" + kind + "' holds." : it->second;
}

BugReport case_report(const fs::path& dir, const json& s, const std::string& want) {
  const json* pick = nullptr;
  for (const auto& c : member(s, "cases")) {
    const std::string st = c.value("status", "");
    if (want.empty() ? (st == "fail" || st == "hang" || st == "known") && !pick : c.value("id", "") == want) pick = &c;
  }
  if (!pick)
    throw SetupError(want.empty() ? fmt::format("{}: no case failed; give --case ID to report one", dir.string())
                                  : fmt::format("{}: no case {} in summary.json; give an id of that run", dir.string(), want));
  const CaseResult r = case_from_json(*pick);
  BugReport b;
  b.what = r.id;
  b.kernel = s.value("kernel", "?");
  b.tool_version = s.value("tool_version", "?");
  b.filesystem = filesystem_of(s);
  const CaseInfo* info = nullptr;
  for (const auto& c : all_cases())
    if (c.id == r.id) info = &c;
  b.description = info ? info->description : "";
  b.expected = info ? info->description : "The case passes.";
  // The failing check's own line, as the case wrote it.
  const std::string full = read_file_or_empty(dir / (r.id + ".full"));
  for (const auto& l : split(full, '\n'))
    if (l.rfind("FAIL: ", 0) == 0) {
      b.happened = l.substr(6);
      break;
    }
  if (b.happened.empty()) b.happened = r.reason.empty() ? status_name(r.status) : r.reason;
  std::string params;
  for (const auto& [name, ok] : r.combinations)
    if (!ok && params.empty()) params = combination_params(name);
  b.reproduce.push_back(fmt::format("diotorture run {} --seed {}{}{}", r.id, s.value("seed", 1ull), where_args(s),
                                    params.empty() ? "" : " " + params));
  if (info && !info->params.empty()) {
    for (const auto& p : info->params) b.parameters += fmt::format("- {} (default {}): {}\n", p.name, p.default_value, p.help);
    if (!params.empty()) b.parameters += "\nThe failing combination: " + params + "\n";
  }
  b.kernel_log = first_lines(read_file_or_empty(dir / (r.id + ".dmesg")), 60);
  if (b.kernel_log.empty())
    for (const auto& k : r.kernel_log_findings) b.kernel_log += k + "\n";
  b.suspected_fix = r.hint.empty() && info ? fix_hint(*info) : r.hint;
  if (info && !info->fstests.empty())
    b.notes.push_back(fmt::format("fstests of the same bug: {}", fmt::join(info->fstests, ", ")));
  for (const auto& n : r.notes) b.notes.push_back(n);
  if (r.status == Status::Known) b.notes.push_back("listed as a known failure for this kernel");
  return b;
}

BugReport torture_report(const fs::path& dir, const json& run_doc, uint64_t* torture_seed) {
  // A campaign: its first failure that is not known (else the first known);
  // one torture run: its own summary.
  fs::path sub;
  json t;
  if (run_doc.contains("torture") && run_doc["torture"].contains("subruns")) {
    const json* pick = nullptr;
    for (const auto& s : run_doc["torture"]["subruns"])
      if (s.contains("failure") && (!pick || (pick->value("status", "") == "known" && s.value("status", "") != "known")))
        pick = &s;
    if (!pick) throw SetupError(fmt::format("{}: no torture sub-run failed; nothing to report", dir.string()));
    sub = pick->value("dir", "");
  } else {
    sub = fs::exists(dir / "torture" / "summary.json") ? dir / "torture" : dir;
  }
  t = read_json_file(sub / "summary.json", "a torture results directory");
  if (!t.contains("failure")) throw SetupError(fmt::format("{}: that torture run passed; nothing to report", sub.string()));
  const json& f = t["failure"];
  *torture_seed = t.value("seed", uint64_t{0});
  BugReport b;
  b.what = signature_title(f.value("kind", ""), f.value("op", ""), f.value("msg", ""));
  b.kernel = t.value("kernel", "?");
  b.tool_version = run_doc.value("tool_version", "?");
  b.filesystem = filesystem_of(t);
  b.description = fmt::format("Random direct I/O (ops {}, events {}, {} files) checked against a model of the files; "
                              "the failure was found at step {} ({}).",
                              t.value("ops_mix", "all"), t.value("events", "all"), t.value("files", 0),
                              f.value("seq", 0), f.value("op", ""));
  b.expected = expectation(f.value("kind", ""));
  b.happened = f.value("kind", "") + ": " + f.value("msg", "");
  const std::string where = where_args(t);
  if (fs::exists(sub / "repro.c")) {
    b.repro_c = read_file(sub / "repro.c");
    b.reproduce.push_back("cc -static -o repro repro.c -luring -lpthread   # repro.c below");
    b.reproduce.push_back(fmt::format("diotorture exec{} -- ./repro", where));
  }
  if (fs::exists(sub / "minimal.jsonl"))
    b.reproduce.push_back(fmt::format("diotorture torture --replay {}{}", (sub / "minimal.jsonl").string(), where));
  b.reproduce.push_back(fmt::format("diotorture torture --seed {} --ops {} --files {}{}{}{}", t.value("seed", 0ull),
                                    std::max<uint64_t>(t.value("ops", 0ull), 1), t.value("files", 4), where,
                                    t.value("ops_mix", "all") == "all" ? "" : " --ops-mix " + t.value("ops_mix", ""),
                                    t.value("events", "all") == "all" ? "" : " --events " + t.value("events", "")));
  b.kernel_log = first_lines(read_file_or_empty(sub / "dmesg.txt"), 60);
  if (t.contains("known")) {
    b.suspected_fix = "Listed in known-failures.txt for this kernel: " + t.value("known", "");
    b.notes.push_back("a known failure on this kernel");
  }
  if (t.contains("shrink") && t["shrink"].contains("steps_after"))
    b.notes.push_back(fmt::format("shrunk from {} to {} steps", t["shrink"].value("steps_before", 0),
                                  t["shrink"].value("steps_after", 0)));
  b.notes.push_back("results: " + sub.string());
  return b;
}

int report(const ReportOptions& o) {
  if (o.torture && !o.case_id.empty()) throw SetupError("--case and --torture each pick the failure; give one");
  const fs::path dir = o.dir;
  json doc;
  bool torture = o.torture;
  if (fs::exists(dir / "summary.json")) {
    doc = read_json_file(dir / "summary.json", "a results directory");
    if (!doc.contains("cases") && doc.contains("failure")) torture = true;  // the torture/ directory itself
  } else if (fs::exists(dir / "campaign.json")) {
    doc = read_json_file(dir / "campaign.json", "a results directory");
    torture = true;
  } else if (fs::exists(dir / "torture" / "summary.json")) {
    torture = true;
  } else {
    throw SetupError(fmt::format("{}: no summary.json or campaign.json; give a results directory of run or torture",
                                 dir.string()));
  }
  if (torture && !o.case_id.empty()) throw SetupError(fmt::format("{} holds torture results; drop --case", dir.string()));
  uint64_t seed = 0;
  BugReport b = torture ? torture_report(dir, doc, &seed) : case_report(dir, doc, o.case_id);
  b.config_hints = config_of(b.kernel);
  b.passed_on = passed_elsewhere(o.passed_in, b.what, seed, torture);
  const std::string md = render_report(b);
  if (!o.output.empty()) write_file_atomic(o.output, md);
  std::cout << md;
  return 0;
}

}  // namespace

Action setup_report(CLI::App& sub) {
  auto o = std::make_shared<ReportOptions>();
  sub.add_option("results", o->dir, "A results directory: results/<run> of run, torture or torture --seeds")
      ->required()
      ->check(CLI::ExistingDirectory);
  sub.add_option("--case", o->case_id, "Report this case (default: the first that failed)");
  sub.add_flag("--torture", o->torture, "Report the torture failure (a campaign's first unknown one)");
  repeatable(sub.add_option("--passed-in", o->passed_in,
                            "Another results directory (another kernel): say where the same check passed (repeatable)")
                 ->check(CLI::ExistingDirectory));
  sub.add_option("-o,--output", o->output, "Also write the report to this file")->check(WritablePath(false));
  return [o] { return report(*o); };
}

}  // namespace dt
