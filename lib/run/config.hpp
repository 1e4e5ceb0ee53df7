// fstests-compatible configuration: TEST_DIR, SCRATCH_DEV_POOL and SCRATCH_MNT from the environment or from a
// local.config (or the file HOST_OPTIONS names) in the current directory.
// As in fstests, the config file is read after the environment, so a value it
// sets wins; lines before the first [section] and the first section apply.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace dt {

// Pure: KEY=value assignments ("export" allowed, quotes stripped, $VAR and
// ${VAR} expanded from earlier assignments, then from `env`).
std::map<std::string, std::string> parse_fstests_config(const std::string& text,
                                                        const std::map<std::string, std::string>& env);

// The command-line value, else KEY from local.config (or $HOST_OPTIONS),
// else $KEY from the environment. *source says which.
std::optional<std::string> resolve_setting(const std::string& cli_value, const std::string& cli_flag,
                                           const std::string& key, std::string* source);

// --test-dir, else local.config's TEST_DIR, else $TEST_DIR.
std::optional<std::string> resolve_test_dir(const std::string& cli_value, std::string* source);

}  // namespace dt
