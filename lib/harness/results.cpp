#include "lib/harness/results.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace dt {

using nlohmann::json;

const char* status_name(Status s) {
  switch (s) {
    case Status::Pass: return "pass";
    case Status::Fail: return "fail";
    case Status::NotRun: return "notrun";
    case Status::Hang: return "hang";
    case Status::Known: return "known";
  }
  return "?";
}

std::string path_line(const CaseResult& r) {
  if (r.paths.empty()) return "path: no direct I/O recorded";
  std::string s = "path:";
  bool first = true;
  for (const auto& [key, verdicts] : r.paths) {
    s += first ? " " : "; ";
    first = false;
    s += key;
    for (const auto& [v, n] : verdicts) s += fmt::format(" {} {}", n, v);
  }
  return s;
}

std::string layout_line(const CaseResult& r) {
  unsigned ok = 0, bad = 0, extents = 0, holes = 0, prealloc = 0;
  for (const auto& l : r.layouts) {
    (l.value("ok", false) ? ok : bad)++;
    extents += l.value("data_extents", 0u);
    holes += l.value("holes", 0u);
    prealloc += l.value("prealloc_extents", 0u);
  }
  if (r.layouts.empty()) return "layout: none recorded";
  return fmt::format("layout: {} file{} verified{} ({} data extents, {} prealloc, {} holes)", ok, ok == 1 ? "" : "s",
                     bad ? fmt::format(", {} NOT as built", bad) : "", extents, prealloc, holes);
}

std::string combination_line(const CaseResult& r) {
  std::vector<std::string> failed;
  for (const auto& [name, ok] : r.combinations)
    if (!ok) failed.push_back(name);
  if (failed.empty()) return fmt::format("combinations: {}, all passed", r.combinations.size());
  if (failed.size() > 5) failed.resize(5), failed.push_back("...");
  return fmt::format("combinations: {}, {} FAIL: {}", r.combinations.size(),
                     std::count_if(r.combinations.begin(), r.combinations.end(), [](const auto& kv) { return !kv.second; }),
                     fmt::join(failed, "; "));
}

static json case_json(const CaseResult& r) {
  json paths = json::object();
  for (const auto& [k, v] : r.paths) paths[k] = v;
  return json{{"id", r.id},
              {"status", status_name(r.status)},
              {"reason", r.reason},
              {"duration_s", r.duration_s},
              {"failures", r.failures},
              {"skipped", r.skips},
              {"notes", r.notes},
              {"variants", r.variants},
              {"combinations", r.combinations},
              {"layout", {{"summary", layout_line(r)}, {"files", r.layouts}}},
              {"path", {{"summary", path_line(r)}, {"by_key", paths}}},
              {"metrics", r.metrics},
              {"kernel_log", r.kernel_log_findings},
              {"hint", r.hint},
              {"fs_check", r.fs_check},
              {"stuck_in_d_state", r.stuck_in_d_state}};
}

namespace {
bool stopped_early(const RunInfo& info) { return info.outcome == "interrupted" || info.outcome == "aborted"; }

std::vector<std::string> ids_not_run(const std::vector<CaseResult>& results) {
  std::vector<std::string> ids;
  for (const auto& r : results)
    if (r.status == Status::NotRun) ids.push_back(r.id);
  return ids;
}
}  // namespace

void mark_stopped(RunInfo* info, std::vector<CaseResult>* results, const std::string& outcome,
                  const std::string& reason, int exit_status) {
  info->outcome = outcome;
  info->outcome_reason = reason;
  info->outcome_exit_code = exit_status;
  for (const auto& id : info->selected) {
    bool done = false;
    for (const auto& r : *results) done = done || r.id == id;
    if (done) continue;
    CaseResult r;
    r.id = id;
    r.status = Status::NotRun;
    r.reason = fmt::format("not run: the run was {} ({})", outcome, reason);
    results->push_back(std::move(r));
  }
}

int run_exit_code(const RunInfo& info, const std::vector<CaseResult>& results) {
  return stopped_early(info) ? info.outcome_exit_code : exit_code(results);
}

std::string summary_json(const RunInfo& info, const std::vector<CaseResult>& results) {
  json j{{"run_id", info.run_id},
         {"tool_version", info.tool_version},
         {"outcome", info.outcome},
         {"outcome_reason", info.outcome_reason},
         {"hostname", info.hostname},
         {"started", info.started},
         {"kernel", info.kernel},
         {"btrfs_progs", info.btrfs_progs},
         {"test_dir", info.test_dir},
         {"provisioning", info.provisioning},
         {"fstype", info.fstype},
         {"profile", info.profile},
         {"devices", info.devices},
         {"mount_options", info.mount_options},
         {"seed", info.seed},
         {"selected", info.selected},
         {"shard", info.shard},
         {"exit_code", run_exit_code(info, results)},
         {"not_run", ids_not_run(results)},
         {"cases", json::array()}};
  for (const auto& r : results) j["cases"].push_back(case_json(r));
  return j.dump(2) + "\n";
}

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&apos;"; break;
      default:
        // XML 1.0 forbids most control characters.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') o += '?';
        else o += c;
    }
  }
  return o;
}

std::string junit_xml(const RunInfo& info, const std::vector<CaseResult>& results) {
  unsigned failures = 0, errors = stopped_early(info) ? 1 : 0, skipped = 0;
  double total = 0;
  for (const auto& r : results) {
    failures += r.status == Status::Fail;
    errors += r.status == Status::Hang;
    skipped += r.status == Status::NotRun || r.status == Status::Known;
    total += r.duration_s;
  }
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += fmt::format(
      "<testsuite name=\"diotorture\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3f}\" "
      "timestamp=\"{}\" hostname=\"{}\">\n",
      results.size() + (stopped_early(info) ? 1 : 0), failures, errors, skipped, total, xml_escape(info.started),
      xml_escape(info.hostname));
  x += "  <properties>\n";
  for (const auto& [k, v] : std::initializer_list<std::pair<const char*, std::string>>{
           {"kernel", info.kernel},
           {"tool_version", info.tool_version},
           {"outcome", info.outcome},
           {"btrfs_progs", info.btrfs_progs},
           {"test_dir", info.test_dir},
           {"profile", info.profile},
           {"devices", fmt::format("{}", fmt::join(info.devices, "; "))},
           {"mount_options", info.mount_options}})
    x += fmt::format("    <property name=\"{}\" value=\"{}\"/>\n", k, xml_escape(v));
  x += "  </properties>\n";
  for (const auto& r : results) {
    x += fmt::format("  <testcase classname=\"diotorture\" name=\"{}\" time=\"{:.3f}\">\n", xml_escape(r.id),
                     r.duration_s);
    switch (r.status) {
      case Status::Fail:
        x += fmt::format("    <failure message=\"{}\"/>\n", xml_escape(r.reason));
        break;
      case Status::Hang:
        x += fmt::format("    <error type=\"hang\" message=\"{}\"/>\n", xml_escape(r.reason));
        break;
      case Status::NotRun:
        x += fmt::format("    <skipped message=\"{}\"/>\n", xml_escape(r.reason));
        break;
      case Status::Known:
        x += fmt::format("    <skipped message=\"known failure: {}\"/>\n", xml_escape(r.reason));
        break;
      case Status::Pass:
        break;
    }
    x += fmt::format("    <system-out>{}\n{}</system-out>\n", xml_escape(layout_line(r)), xml_escape(path_line(r)));
    x += "  </testcase>\n";
  }
  // A run that stopped early must not look green: one error for the run
  // itself, naming why and the cases that did not run.
  if (stopped_early(info)) {
    const auto ids = ids_not_run(results);
    x += fmt::format("  <testcase classname=\"diotorture\" name=\"run\" time=\"0\">\n    <error type=\"{}\" "
                     "message=\"run {} ({}); exit status {}; not run: {}\"/>\n  </testcase>\n",
                     info.outcome, info.outcome, xml_escape(info.outcome_reason), info.outcome_exit_code,
                     xml_escape(fmt::format("{}", fmt::join(ids, " "))));
  }
  x += "</testsuite>\n";
  return x;
}

std::string check_log(const RunInfo& info, const std::vector<CaseResult>& results) {
  std::string s = fmt::format("run {} started {}\nkernel {}, {}\ntest dir {} ({}; {}; {})\n", info.run_id, info.started,
                              info.kernel, info.btrfs_progs, info.test_dir, info.provisioning, info.profile,
                              info.mount_options);
  for (const auto& r : results) {
    s += fmt::format("{:<28} {:<6} {:>7.1f}s{}\n", r.id, status_name(r.status), r.duration_s,
                     r.reason.empty() ? "" : "  " + r.reason);
    s += fmt::format("    {}\n    {}\n", layout_line(r), path_line(r));
    if (!r.fs_check.empty()) s += fmt::format("    fs check: {}\n", r.fs_check);
    if (!r.hint.empty()) s += fmt::format("    hint: {}\n", r.hint);
  }
  s += run_summary(results);
  if (stopped_early(info))
    s += fmt::format("Run {} ({}); exit status {}\n", info.outcome, info.outcome_reason, info.outcome_exit_code);
  return s;
}

std::string run_summary(const std::vector<CaseResult>& results, const std::string& what) {
  std::vector<std::string> failed, notrun, hung, known;
  for (const auto& r : results) {
    if (r.status == Status::Known) known.push_back(r.id);
    if (r.status == Status::Fail || r.status == Status::Hang) failed.push_back(r.id);
    if (r.status == Status::NotRun) notrun.push_back(r.id);
    if (r.status == Status::Hang) hung.push_back(r.id);
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
    return s;
  };
  std::string s;
  if (!notrun.empty()) s += "Not run: " + join(notrun) + "\n";
  if (!hung.empty()) s += "Hung: " + join(hung) + "\n";
  if (!known.empty()) s += "Known failures: " + join(known) + " (listed for this kernel; --strict fails them)\n";
  size_t ran = results.size() - notrun.size();
  if (failed.empty() && !known.empty()) {
    s += fmt::format("Passed {} of {} {}, the other {} known failures\n", ran - known.size(), ran, what, known.size());
  } else if (failed.empty()) {
    s += fmt::format("Passed all {} {}\n", ran, what);
  } else {
    s += "Failures: " + join(failed) + "\n";
    s += fmt::format("Failed {} of {} {}\n", failed.size(), ran, what);
  }
  return s;
}

int exit_code(const std::vector<CaseResult>& results) {
  int code = 0;
  for (const auto& r : results) {
    if (r.status == Status::Hang) return 3;
    if (r.status == Status::Fail) code = 1;
  }
  return code;
}

}  // namespace dt
