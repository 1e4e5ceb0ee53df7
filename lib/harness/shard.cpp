#include "lib/harness/shard.hpp"

#include <fmt/format.h>

#include "lib/harness/registry.hpp"
#include "lib/sys/sys.hpp"

namespace dt {

std::string Shard::name() const { return fmt::format("{}/{}", index, count); }

namespace {
// A whole decimal number, nothing else (no sizes, no signs, no spaces).
bool whole_number(const std::string& s, uint64_t* v) {
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  *v = std::stoull(s);
  return true;
}
}  // namespace

Shard parse_shard(const std::string& text, const char* flag) {
  const size_t slash = text.find('/');
  uint64_t i = 0, n = 0;
  if (slash == std::string::npos || !whole_number(text.substr(0, slash), &i) ||
      !whole_number(text.substr(slash + 1), &n) || n == 0 || n > 100000)
    throw SetupError(fmt::format("{} '{}' is not I/N; give for example {} 1/4 (shard 1 of 4; N from 1 to 100000)",
                                 flag, text, flag));
  if (i == 0 || i > n)
    throw SetupError(fmt::format("{} {}: shards are numbered 1 to {}; give {} 1/{} .. {}/{}", flag, text, n, flag, n,
                                 flag, n, n));
  return Shard{static_cast<unsigned>(i), static_cast<unsigned>(n)};
}

bool unit_in_shard(size_t unit_position, const Shard& s) { return unit_position % s.count == s.index - 1; }

bool combination_in_shard(const std::string& case_id, size_t k, const Shard& s) {
  uint32_t h = 2166136261u;  // FNV-1a: stable across builds and machines, unlike std::hash
  for (unsigned char c : case_id) h = (h ^ c) * 16777619u;
  return (h + k) % s.count == s.index - 1;
}

std::vector<const CaseInfo*> cases_in_shard(const std::vector<const CaseInfo*>& cases, const Shard& s) {
  std::vector<const CaseInfo*> out;
  size_t unit = 0, units = 0;
  for (const CaseInfo* c : cases) {
    if (c->shards_combinations) {
      out.push_back(c);
      units = SIZE_MAX;  // combinations: as many as there are shards, whatever N
    } else {
      if (unit_in_shard(unit++, s)) out.push_back(c);
      if (units != SIZE_MAX) ++units;
    }
  }
  if (out.empty())
    throw SetupError(fmt::format("--shard {}: the {} selected case{} fill only {} shard{}; give --shard I/{} at most",
                                 s.name(), cases.size(), cases.size() == 1 ? "" : "s", units, units == 1 ? "" : "s",
                                 units));
  return out;
}

SeedRange parse_seed_range(const std::string& text, const char* flag) {
  const size_t dots = text.find("..");
  SeedRange r;
  const bool ok = dots == std::string::npos
                      ? whole_number(text, &r.first) && (r.last = r.first, true)
                      : whole_number(text.substr(0, dots), &r.first) && whole_number(text.substr(dots + 2), &r.last);
  if (!ok) throw SetupError(fmt::format("{} '{}' is not a seed range; give A..B (inclusive), e.g. {} 1..100", flag, text, flag));
  if (r.last < r.first)
    throw SetupError(fmt::format("{} {}: the range ends before it starts; give {} {}..{}", flag, text, flag, r.last,
                                 r.first));
  if (r.last - r.first >= 1000000)
    throw SetupError(fmt::format("{} {}: more than a million seeds; split it into ranges of at most 1000000", flag, text));
  return r;
}

std::vector<uint64_t> seeds_in_shard(const SeedRange& r, const Shard& s) {
  std::vector<uint64_t> out;
  for (uint64_t seed = r.first + (s.index - 1); seed >= r.first && seed <= r.last; seed += s.count) {
    out.push_back(seed);
    if (r.last - seed < s.count) break;  // the next step would pass the end (or wrap)
  }
  return out;
}

}  // namespace dt
