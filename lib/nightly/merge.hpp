// `diotorture merge`: the results of many machines (run shards, torture
// campaigns, bench runs) as one run's: summary.json, junit.xml, check.log and
// kcidb.json. Pure: the command reads the directories and writes the files.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/harness/results.hpp"

namespace dt {

struct MergeInput {
  enum class Kind { Run, Campaign, Bench } kind = Kind::Run;
  std::string source;  // the directory, for messages and the summary
  nlohmann::json doc;  // summary.json, campaign.json or bench.json
};

// What is in `dir`: summary.json (run), campaign.json or bench.json. None of
// them is a SetupError naming the directory.
MergeInput load_merge_input(const std::filesystem::path& dir);

struct Merged {
  RunInfo info;
  std::vector<CaseResult> results;  // run cases, then one per torture signature, then torture passes
  nlohmann::json summary;           // summary.json: run-shaped, plus "torture", "bench", "sources", "shards"
};

// Refuses (SetupError, with the fix): inputs of different tool versions or
// kernels unless allow_mixed; the same shard twice, shards of different N, a
// whole run beside a shard, or one case (combination) in two inputs. Torture
// failures are deduplicated by signature, keeping the smallest repro.
Merged merge_inputs(const std::vector<MergeInput>& inputs, bool allow_mixed, const std::string& run_id,
                    const std::string& started);

}  // namespace dt
