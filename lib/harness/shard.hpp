// Sharding for a CI job matrix: `--shard I/N` picks a deterministic part of
// the work from nothing but the command line, so N machines given the same
// command and I = 1..N run disjoint parts whose union is the whole, with no
// coordination. Pure functions; the commands apply them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dt {

struct CaseInfo;

struct Shard {
  unsigned index = 1;  // 1-based, as CI matrices count
  unsigned count = 1;
  bool whole() const { return count == 1; }
  std::string name() const;  // "2/4"
};

// "I/N" with 1 <= I <= N. Anything else is a SetupError naming `flag`, the
// value and the fix.
Shard parse_shard(const std::string& text, const char* flag = "--shard");

// run: a case is one unit, except that a case which enumerates parameter
// combinations (CaseInfo::shards_combinations) runs in every shard and
// splits its combinations instead. Units are dealt round-robin in selection
// order; combination k of case `id` goes to shard (offset(id) + k) mod N,
// the offset a hash of the id so that small cases do not all land in 1/N.
bool unit_in_shard(size_t unit_position, const Shard& s);
bool combination_in_shard(const std::string& case_id, size_t k, const Shard& s);
// The selected cases shard `s` runs, in order: its round-robin share of the
// others and every shards_combinations case. A shard left with nothing is a
// SetupError saying how many shards the selection fills.
std::vector<const CaseInfo*> cases_in_shard(const std::vector<const CaseInfo*>& cases, const Shard& s);

// torture: "A..B" (inclusive) or one seed "A". A SetupError names the flag
// and the fix for anything else, B < A, or more than a million seeds.
struct SeedRange {
  uint64_t first = 1, last = 1;
};
SeedRange parse_seed_range(const std::string& text, const char* flag = "--seeds");
// The seeds of `r` in shard `s`: every N-th, starting at the I-th.
std::vector<uint64_t> seeds_in_shard(const SeedRange& r, const Shard& s);

}  // namespace dt
