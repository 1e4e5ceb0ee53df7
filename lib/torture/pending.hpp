// The ranges of a file whose content changed and was not read back yet
// (`--checks fast`): what the expensive read-backs (O_DIRECT, page cache,
// SEEK_HOLE) still owe. Each piece remembers the op that last changed it, so
// a difference found later is charged to that op (the op a `--checks
// thorough` run would have caught it after), not to the op that happened to
// trigger the read-back.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dt {

struct PendingPiece {
  uint64_t lo = 0, hi = 0;
  std::string op;
  bool operator==(const PendingPiece&) const = default;
};

class PendingRanges {
 public:
  // [lo, hi) changed by op: pending, charged to op (over any older charge).
  void add(uint64_t lo, uint64_t hi, const std::string& op);
  // Removes and returns the pending parts of [lo, hi), clipped, in order;
  // neighbours charged to the same op come back as one piece.
  std::vector<PendingPiece> take(uint64_t lo, uint64_t hi);
  std::vector<PendingPiece> take_all() { return take(0, UINT64_MAX); }
  bool empty() const { return pieces_.empty(); }
  uint64_t bytes() const;

 private:
  void split_at(uint64_t pos);
  std::map<uint64_t, PendingPiece> pieces_;  // disjoint, keyed by lo
};

// The seeded schedule of the deferred read-backs: whether every pending
// range is read back after step `seq` of a run with this seed. A function of
// (seed, seq) only, so a replay or a shrink candidate keeps the read-back
// points of the steps it keeps.
bool read_back_due(uint64_t seed, uint64_t seq);
inline constexpr unsigned kReadBackEvery = 16;  // on average, in steps

}  // namespace dt
