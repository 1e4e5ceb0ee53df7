// The one definition of the protocol between a case (in the runner's child
// process) and the runner: one JSON object per line on a pipe, written as the
// case goes, so a case that hangs or is killed has still reported everything
// up to that moment. The writers build the lines; apply_event reads them.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "lib/harness/results.hpp"

namespace dt::event {

std::string fail(const std::string& msg);
std::string notrun(const std::string& reason);
std::string note(const std::string& msg);
std::string skip(const std::string& what, const std::string& reason);
std::string variant(const std::string& name, bool checksummed);
std::string combination(const std::string& name, bool ok);
std::string metric(const std::string& name, double value, const std::string& unit);
// `details` carries the facts of the layout / path report (see Context).
std::string layout(const std::string& file, nlohmann::json details);
std::string path(const std::string& key, nlohmann::json details);

}  // namespace dt::event

namespace dt {

// Pure: folds one event line from a case into its result; a line that is not
// an event (a torn write, say) is ignored.
void apply_event(CaseResult* r, const std::string& json_line);

}  // namespace dt
