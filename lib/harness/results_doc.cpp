#include "lib/harness/results_doc.hpp"

#include <fmt/format.h>

#include "lib/sys/sys.hpp"

namespace dt {

using nlohmann::json;

Status status_from_name(const std::string& name) {
  for (Status s : {Status::Pass, Status::Fail, Status::NotRun, Status::Hang, Status::Known})
    if (name == status_name(s)) return s;
  return Status::Fail;  // an unknown status is never read as a pass
}

CaseResult case_from_json(const json& c) {
  CaseResult r;
  r.id = c.value("id", "?");
  r.status = status_from_name(c.value("status", ""));
  r.reason = c.value("reason", "");
  r.failures = c.value("failures", std::vector<std::string>{});
  r.skips = c.value("skipped", std::vector<std::string>{});
  r.notes = c.value("notes", std::vector<std::string>{});
  r.duration_s = c.value("duration_s", 0.0);
  if (c.contains("layout")) r.layouts = c["layout"].value("files", json::array());
  if (c.contains("path") && c["path"].contains("by_key"))
    for (const auto& [k, v] : c["path"]["by_key"].items())
      for (const auto& [verdict, n] : v.items()) r.paths[k][verdict] = n.get<unsigned>();
  r.variants = c.value("variants", std::map<std::string, std::string>{});
  r.combinations = c.value("combinations", std::map<std::string, bool>{});
  r.metrics = c.value("metrics", json::object());
  r.kernel_log_findings = c.value("kernel_log", std::vector<std::string>{});
  r.hint = c.value("hint", "");
  r.fs_check = c.value("fs_check", "");
  r.stuck_in_d_state = c.value("stuck_in_d_state", false);
  return r;
}

RunInfo info_from_json(const json& s) {
  RunInfo i;
  i.run_id = s.value("run_id", "");
  i.started = s.value("started", "");
  i.hostname = s.value("hostname", "");
  i.kernel = s.value("kernel", "");
  i.btrfs_progs = s.value("btrfs_progs", "");
  i.test_dir = s.value("test_dir", "");
  i.provisioning = s.value("provisioning", "");
  i.fstype = s.value("fstype", "");
  i.profile = s.value("profile", "");
  i.devices = s.value("devices", std::vector<std::string>{});
  i.mount_options = s.value("mount_options", "");
  i.seed = s.value("seed", 0ull);
  i.selected = s.value("selected", std::vector<std::string>{});
  i.tool_version = s.value("tool_version", "");
  i.outcome = s.value("outcome", "complete");
  i.outcome_reason = s.value("outcome_reason", "");
  i.outcome_exit_code = s.value("exit_code", 0);
  return i;
}

std::vector<CaseResult> torture_subrun_results(const json& subruns) {
  std::vector<CaseResult> out;
  for (const auto& s : subruns) {
    CaseResult r;
    const unsigned k = s.value("sub_run", 0u);
    r.id = fmt::format("torture-seed-{}{}", s.value("seed", 0ull), k ? fmt::format(".{}", k) : "");
    const std::string st = s.value("status", "fail");
    r.status = st == "known" ? Status::Known : status_from_name(st);
    r.duration_s = s.value("seconds", 0.0);
    if (s.contains("failure")) {
      r.reason = s.value("signature", "");
      r.failures.push_back(fmt::format("step {} ({}): {}: {}", s["failure"].value("seq", 0), s["failure"].value("op", ""),
                                       s["failure"].value("kind", ""), s["failure"].value("msg", "")));
    }
    if (s.contains("known")) r.notes.push_back("known failure: " + s.value("known", ""));
    if (s.value("repro", "").size()) r.notes.push_back("repro: " + s.value("repro", ""));
    r.notes.push_back(fmt::format("torture seed {}, {} ops, results {}", s.value("torture_seed", 0ull),
                                  s.value("ops", 0ull), s.value("dir", "")));
    out.push_back(std::move(r));
  }
  return out;
}

const json& member(const json& j, const char* key) {
  static const json empty = json::array();
  if (j.is_object()) {
    auto it = j.find(key);
    if (it != j.end() && (it->is_array() || it->is_object())) return *it;
  }
  return empty;
}

json read_json_file(const std::filesystem::path& p, const std::string& what) {
  std::string text;
  try {
    text = read_file(p);
  } catch (const std::exception&) {
    throw SetupError(fmt::format("cannot read {}; give {}", p.string(), what));
  }
  try {
    return json::parse(text);
  } catch (const std::exception& e) {
    throw SetupError(fmt::format("{} is not JSON ({}); give {}", p.string(), e.what(), what));
  }
}

}  // namespace dt
