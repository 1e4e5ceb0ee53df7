// Plain result structs, filled by the runner, and separate writers for
// summary.json, junit.xml and the fstests-like check.log and console summary.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dt {

// Known: a failure the known-failures list names for this kernel (reported,
// not counted against the run).
enum class Status { Pass, Fail, NotRun, Hang, Known };
const char* status_name(Status s);

struct CaseResult {
  std::string id;
  Status status = Status::Pass;
  std::string reason;             // first failure, notrun reason, or hang description
  std::vector<std::string> failures;
  std::vector<std::string> skips;
  std::vector<std::string> notes;  // facts shown beside the verdict
  double duration_s = 0;
  nlohmann::json layouts = nlohmann::json::array();
  // path key ("nocow write") -> verdict ("direct") -> count
  std::map<std::string, std::map<std::string, unsigned>> paths;
  std::map<std::string, std::string> variants;  // name -> "checksummed"/"no checksums"
  std::map<std::string, bool> combinations;     // parameter combination -> passed
  nlohmann::json metrics = nlohmann::json::object();
  std::vector<std::string> kernel_log_findings;
  bool stuck_in_d_state = false;
  std::string hint;      // FAIL/HANG of a case with a known fix: the fix to look for in this kernel
  std::string fs_check;  // the filesystem check after the case: what ran and what it found
};

struct RunInfo {
  std::string run_id;
  std::string started;  // ISO 8601
  std::string hostname;
  std::string kernel;
  std::string btrfs_progs;
  std::string test_dir;
  std::string provisioning;  // "self-provisioned loop btrfs ..." or "--test-dir"
  std::string fstype;
  std::string profile;
  std::vector<std::string> devices;  // "devid 1 /dev/loop0 (4.0 GiB)"
  std::string mount_options;
  unsigned long long seed = 0;
  std::vector<std::string> selected;
  std::string tool_version;
  std::string shard;  // "2/4" under run --shard; "" for the whole selection
  // How the run ended. While it runs the records say "running" (and keep
  // saying so if the process is killed); "complete" once every case ran;
  // "interrupted" (a signal) or "aborted" (an error) otherwise, with the
  // reason and the exit status the process gave.
  std::string outcome = "running";
  std::string outcome_reason;
  int outcome_exit_code = 0;
};

// Marks a run that stopped early: the case that was running and every case
// after it become "notrun" results naming why, and the outcome is recorded.
void mark_stopped(RunInfo* info, std::vector<CaseResult>* results, const std::string& outcome,
                  const std::string& reason, int exit_status);
// The exit status the run's records show: the outcome's when it stopped
// early, else exit_code(results).
int run_exit_code(const RunInfo& info, const std::vector<CaseResult>& results);

// One line such as "path: nocow write 12 direct; datasum write 12 buffered".
std::string path_line(const CaseResult& r);
std::string layout_line(const CaseResult& r);
// "combinations: 24, all passed" or "combinations: 24, 2 FAIL: a; b".
std::string combination_line(const CaseResult& r);

std::string summary_json(const RunInfo& info, const std::vector<CaseResult>& results);
std::string junit_xml(const RunInfo& info, const std::vector<CaseResult>& results);
std::string check_log(const RunInfo& info, const std::vector<CaseResult>& results);
// "Passed all 4 cases" or "Failures: a b\nFailed 2 of 4 cases" (+ notrun/hang/known lines);
// `what` names the results where they are not cases (crash: "crash states").
std::string run_summary(const std::vector<CaseResult>& results, const std::string& what = "cases");
// 0 all passed or not run, 1 a failure, 3 a hang (hang wins: it is the worse news).
int exit_code(const std::vector<CaseResult>& results);
std::string xml_escape(const std::string& s);

}  // namespace dt
