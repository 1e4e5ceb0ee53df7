// The results root every command writes under: one directory per run, named
// by its UTC start time, and a `latest` link to the newest.
#pragma once

#include <filesystem>
#include <string>

namespace dt {

// "2026-11-21T15-04-05" in UTC, plus "-N" if that directory already exists.
std::string make_run_id(const std::filesystem::path& results_root);
// Points results_root/latest at run_id (atomically, by rename).
void point_latest(const std::filesystem::path& root, const std::string& run_id);
// Creates results_root/<run id> (and the root), points `latest` at it and
// returns the run id. A root that cannot be written is a SetupError naming
// --results and the path.
std::string make_run_dir(const std::filesystem::path& results_root);
// "2026-11-21T15:04:05Z".
std::string utc_timestamp();

}  // namespace dt
