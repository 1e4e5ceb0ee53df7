// Self-registering cases: each file in cases/ defines one static
// CaseRegistrar. The registry is a function-local static (no static-init
// order problem), sorted by id, and a duplicate id aborts at start-up.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/btrfs/scratch.hpp"

namespace dt {

class Context;

// A kernel commit, as fstests' _fixed_by_kernel_commit names one: the
// 12-character hash and the subject line.
struct KernelCommit {
  std::string hash;
  std::string subject;
};

// What a case needs, declared like fstests' _require_* and checked by the
// runner before the case starts, in one place (lib/harness/require), with one
// policy: an unmet need makes the case "not run" with the reason.
enum class Need {
  IoUring,      // io_uring_setup works (kernel.io_uring_disabled is not 2)
  Userfaultfd,  // userfaultfd(2) works for this process
  Kprobes,      // kprobe events can be created in tracefs
  Btrfs,        // the test directory is on btrfs (not a --allow-fs control run)
  DataCopies,   // the data profile keeps more than one copy or parity (dup, raid1*, raid10, raid5/6)
  Datasum,      // files in the default directory get data checksums
  Nodatasum,    // a chattr +C file gets no data checksums
  Compression,  // files can be compressed (btrfs property compression)
  Reflink,      // FICLONERANGE works
};

// How a -p value is read and checked. Every value is validated before the
// first case starts, so a bad one is a usage error (exit 2), never a case
// FAIL that looks like a kernel bug.
enum class ParamType {
  Choices,  // comma-separated words, each one of `choices`
  Choice,   // one word of `choices`
  Sizes,    // comma-separated sizes ("4k,64k,1m"), each within [min, max]
  Size,     // one size within [min, max]
  Counts,   // comma-separated whole numbers within [min, max]
  Count,    // one whole number within [min, max]
};

struct ParamSpec {
  std::string name;
  std::string default_value;
  std::string help;
  ParamType type = ParamType::Choices;
  std::vector<std::string> choices;  // Choices, Choice
  uint64_t min = 0, max = UINT64_MAX;  // Sizes, Size, Counts, Count
  uint64_t multiple_of = 1;            // Sizes, Size: e.g. 4096 for O_DIRECT lengths
};

// Declaring parameters reads like their meaning:
//   param::sizes("block-sizes", "4k,64k,1m", "size of each write", 4096, 16 << 20)
namespace param {
ParamSpec choices(std::string name, std::string def, std::string help, std::vector<std::string> allowed);
ParamSpec choice(std::string name, std::string def, std::string help, std::vector<std::string> allowed);
// Sizes default to multiples of 4 KiB: direct I/O lengths and offsets need it.
ParamSpec sizes(std::string name, std::string def, std::string help, uint64_t min, uint64_t max,
                uint64_t multiple_of = 4096);
ParamSpec size(std::string name, std::string def, std::string help, uint64_t min, uint64_t max,
               uint64_t multiple_of = 4096);
ParamSpec counts(std::string name, std::string def, std::string help, uint64_t min, uint64_t max);
ParamSpec count(std::string name, std::string def, std::string help, uint64_t min, uint64_t max);
}  // namespace param

// "" if `value` is valid for `spec`, else what is wrong and what is allowed.
std::string param_error(const ParamSpec& spec, const std::string& value);
// The allowed values of a parameter, for help text and error messages.
std::string describe_allowed(const ParamSpec& spec);

struct CaseInfo {
  std::string id;
  std::vector<std::string> groups;  // topics: nowait, append, mmap, dsync, mirror, csum, ...
  std::string description;          // one line
  std::vector<KernelCommit> fixed_by;      // the fix(es) this case checks for
  std::vector<KernelCommit> regressed_by;  // the commit that introduced the bug, when known
  std::vector<std::string> fstests;        // fstests tests of the same bug ("generic/678")
  std::vector<Need> needs;
  FsSpec fs;  // empty: the run's shared filesystem serves
  // Like fstests' _require_scratch_nocheck: the case damages its filesystem on
  // purpose, so the check after it would only repeat what the case reports.
  bool skip_fs_check = false;
  // Under `run --shard I/N` the case runs in every shard and each runs its
  // own part of the combinations (Context::for_each_combination): a case of
  // many combinations is most of a run.
  bool shards_combinations = false;
  // Kernel-log lines the case provokes on purpose (substrings, e.g. "csum
  // failed" when it corrupts a copy to see it repaired): they are logged but
  // do not fail it. Every other signature still does.
  std::vector<std::string> expected_kernel_log;
  std::vector<ParamSpec> params;
  unsigned timeout_s = 120;  // watchdog default; --timeout overrides
  void (*fn)(Context&) = nullptr;
};

// The hint a FAIL line carries, as fstests prints one: "fixed upstream by
// b73a6fd1b1ef btrfs: split partial dio bios before submit: is it in this
// kernel?"; "" for a case with no known fix.
std::string fix_hint(const CaseInfo& c);

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
