// "Did you mean": the closest known word to a mistyped case id, group,
// subcommand or parameter name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dt {

// Closest candidate to `word` by edit distance (a substring counts as close),
// or "" if none is close enough to suggest.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace dt
