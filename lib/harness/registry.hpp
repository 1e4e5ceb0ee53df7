// Self-registering cases: each file in cases/ defines one static
// CaseRegistrar. The registry is a function-local static (no static-init
// order problem), sorted by id, and a duplicate id aborts at start-up.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dt {

class Context;

// What a case needs from the machine; checked by the runner before the case
// starts, so cases never test for it themselves.
enum Requirement : unsigned {
  kNeedsIoUring = 1u << 0,
  kNeedsUserfaultfd = 1u << 1,
};
std::string describe_requirements(unsigned mask);

struct ParamSpec {
  std::string name;
  std::string default_value;
  std::string help;
};

struct CaseInfo {
  std::string id;
  std::vector<std::string> groups;
  std::string description;  // one line
  unsigned requires_mask = 0;
  std::vector<ParamSpec> params;
  unsigned timeout_s = 120;  // watchdog default; --timeout overrides
  void (*fn)(Context&) = nullptr;
};

struct CaseRegistrar {
  explicit CaseRegistrar(CaseInfo info);
};

// All registered cases, sorted by id.
const std::vector<CaseInfo>& all_cases();

struct SelectionRequest {
  std::vector<std::string> ids;
  std::vector<std::string> groups;
  std::vector<std::string> exclude_groups;
  std::vector<std::string> expunged;  // ids from -E files
};

// fstests semantics: ids and -g groups are unioned (default group "quick" when
// neither is given), then -x groups and expunged ids are removed. Unknown ids
// or groups throw SetupError with a "did you mean".
std::vector<const CaseInfo*> select_cases(const std::vector<CaseInfo>& all, const SelectionRequest& req);

// An fstests expunge file: one id per line, '#' starts a comment.
std::vector<std::string> parse_expunge(std::string_view text);

}  // namespace dt
