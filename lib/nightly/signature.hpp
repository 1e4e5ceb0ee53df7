// Failure signatures of torture runs, the way syzkaller titles crashes: the
// failing check's kind, the op at fault and the message with its numbers
// taken out, so the same bug found by many seeds at other offsets is one
// title. known-failures.txt lists signatures beside case ids, in the id
// column:
//
//   torture:KIND:OPS[:MESSAGE-GLOB]   KERNEL-GLOBS   REASON
//   torture:eio:pwrite,uring-write:*O_DIRECT?read-back*EIO   6.1.0-*   seed 002: ...
//
// KIND and each of OPS (comma separated) are fnmatch globs of the failure's
// kind and op; MESSAGE-GLOB (no spaces: `?` or `*` stands for one) is matched
// against the failure's message, `*` when left out.
#pragma once

#include <string>
#include <vector>

#include "lib/harness/known_failures.hpp"

namespace dt {

// "eio in pwrite: fN: O_DIRECT read-back of [N,+N) failed: EIO": numbers
// (decimal or 0x hex) become N, so offsets, lengths and step numbers do not
// split one bug into many.
std::string signature_title(const std::string& kind, const std::string& op, const std::string& msg);

constexpr const char* kSignaturePrefix = "torture:";
bool is_signature_entry(const KnownFailure& k);

// The entries of `list` that are signatures, checked: a malformed one is a
// SetupError naming its line and the form.
void check_signature_entries(const std::vector<KnownFailure>& list);

// The signature entry matching this failure on kernel `release`, or nullptr.
const KnownFailure* find_known_signature(const std::vector<KnownFailure>& list, const std::string& kind,
                                         const std::string& op, const std::string& msg, const std::string& release);

}  // namespace dt
