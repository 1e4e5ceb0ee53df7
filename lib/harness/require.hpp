// The one place a case's declared needs (CaseInfo::needs, like fstests'
// _require_*) are checked against the machine and the directory the case
// would run in. An unmet need makes the case "not run" with the reason.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "lib/harness/registry.hpp"

namespace dt {

// "io_uring", "userfaultfd", ... as `list` shows them.
const char* need_name(Need n);
// "io_uring, data copies" or "root, O_DIRECT" when the case needs nothing more.
std::string describe_needs(const std::vector<Need>& needs);

// "" if `n` is met for files under `dir`, else why not, with the fix.
std::string unmet_need(Need n, const std::filesystem::path& dir);
// The first unmet need of the case, or "".
std::string unmet_needs(const CaseInfo& c, const std::filesystem::path& dir);

}  // namespace dt
