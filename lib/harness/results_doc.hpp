// Reading back what the commands wrote: a run's summary.json into the
// RunInfo/CaseResult the results writers take (the inverse of summary_json),
// and a campaign's torture sub-runs as results, so campaign and merge write
// junit.xml and check.log with the same writers `run` uses.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/harness/results.hpp"

namespace dt {

Status status_from_name(const std::string& name);  // "pass", "fail", ...; unknown: Fail
CaseResult case_from_json(const nlohmann::json& c);
RunInfo info_from_json(const nlohmann::json& summary);

// One result per sub-run: id "torture-seed-S" (the k-th sub-run after a
// failure: "torture-seed-S.k"), the signature as its reason.
std::vector<CaseResult> torture_subrun_results(const nlohmann::json& subruns);

// j[key] when j has it, else an empty array: for iterating without a copy
// (a temporary from json::value would be copied, and trips GCC's
// maybe-uninitialized at -O2).
const nlohmann::json& member(const nlohmann::json& j, const char* key);

// A JSON file, or a SetupError naming it and what to give instead.
nlohmann::json read_json_file(const std::filesystem::path& p, const std::string& what);

}  // namespace dt
