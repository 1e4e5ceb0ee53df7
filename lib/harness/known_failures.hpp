// Known failures: like an fstests expunge file, except that the case still
// runs. Each entry names a case, the kernel releases it is known to fail on
// and why; a FAIL it matches is reported as status "known" and does not fail
// the run (unless --strict). CI stays green through this list, never through
// a weaker check.
//
//   # case id                 kernel releases (globs, comma-separated)  reason
//   append-unfaulted-buffer   6.1.0-50-amd64,6.1.17[0-6]*               ff66fe666233 missing: size 8192 after a 4096 append
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "lib/harness/results.hpp"

namespace dt {

struct KnownFailure {
  std::string case_id;
  std::vector<std::string> kernels;  // fnmatch globs against `uname -r`
  std::string reason;
  std::string where;  // "known-failures.txt:12", for messages
};

// Parses the file text; `source` names it in errors. A line that is not
// "ID KERNELS REASON" (a missing reason too) is a SetupError naming the line.
std::vector<KnownFailure> parse_known_failures(std::string_view text, const std::string& source);

// The entry that lists `case_id` on kernel `release`, or nullptr.
const KnownFailure* find_known_failure(const std::vector<KnownFailure>& list, const std::string& case_id,
                                       const std::string& release);

// A failed result whose case is listed for `release` becomes Status::Known
// (with --strict it stays a failure, and the entry is noted). Other statuses
// are left alone: a hang is never "known".
void apply_known_failures(CaseResult* r, const std::vector<KnownFailure>& list, const std::string& release, bool strict);

// The file `run` reads: `flag` if given (it must exist), else
// ./known-failures.txt or the one shipped beside the build directory
// (<binary>/../known-failures.txt), when present; "" when none.
std::filesystem::path known_failures_file(const std::string& flag);
// Where known_failures_file looks without a flag, for "KNOWN -- none (...)":
// a binary run outside the checkout finds none and must say so.
std::vector<std::string> known_failures_places();

// Ids listed in the file that no registered case has: a typo would silently
// stop a known failure being recognised, so `run` refuses them.
std::vector<std::string> unknown_case_ids(const std::vector<KnownFailure>& list, const std::vector<std::string>& ids);

}  // namespace dt
