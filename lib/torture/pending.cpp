#include "lib/torture/pending.hpp"

#include <algorithm>

#include "lib/torture/prng.hpp"

namespace dt {

void PendingRanges::split_at(uint64_t pos) {
  auto it = pieces_.upper_bound(pos);
  if (it == pieces_.begin()) return;
  --it;
  if (it->first == pos || it->second.hi <= pos) return;
  PendingPiece tail = it->second;
  tail.lo = pos;
  it->second.hi = pos;
  pieces_.emplace(pos, tail);
}

void PendingRanges::add(uint64_t lo, uint64_t hi, const std::string& op) {
  if (hi <= lo) return;
  split_at(lo);
  split_at(hi);
  pieces_.erase(pieces_.lower_bound(lo), pieces_.lower_bound(hi));
  auto it = pieces_.emplace(lo, PendingPiece{lo, hi, op}).first;
  // Join neighbours of the same op so the pieces stay few.
  if (auto nx = std::next(it); nx != pieces_.end() && nx->first == hi && nx->second.op == op) {
    it->second.hi = nx->second.hi;
    pieces_.erase(nx);
  }
  if (it != pieces_.begin()) {
    auto pv = std::prev(it);
    if (pv->second.hi == lo && pv->second.op == op) {
      pv->second.hi = it->second.hi;
      pieces_.erase(it);
    }
  }
}

std::vector<PendingPiece> PendingRanges::take(uint64_t lo, uint64_t hi) {
  std::vector<PendingPiece> out;
  if (hi <= lo || pieces_.empty()) return out;
  split_at(lo);
  split_at(hi);
  auto a = pieces_.lower_bound(lo), b = pieces_.lower_bound(hi);
  for (auto it = a; it != b; ++it) out.push_back(it->second);
  pieces_.erase(a, b);
  return out;
}

uint64_t PendingRanges::bytes() const {
  uint64_t n = 0;
  for (const auto& [lo, p] : pieces_) n += p.hi - p.lo;
  return n;
}

bool read_back_due(uint64_t seed, uint64_t seq) {
  Prng r(seed * 0x9e3779b97f4a7c15ULL ^ (seq + 0x636865636b73ULL));
  r.next();
  return r.chance(1, kReadBackEvery);
}

}  // namespace dt
