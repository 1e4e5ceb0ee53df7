// The torture engine's only source of randomness: splitmix64, written out so
// that the same seed gives the same op log with any compiler or standard
// library (std::uniform_int_distribution is implementation-defined).
#pragma once

#include <cstdint>

namespace dt {

class Prng {
 public:
  explicit Prng(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); 0 when n == 0. The modulo bias is irrelevant here.
  uint64_t below(uint64_t n) { return n ? next() % n : 0; }
  uint64_t between(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }
  // True with probability num/den.
  bool chance(unsigned num, unsigned den) { return below(den) < num; }

 private:
  uint64_t s_;
};

}  // namespace dt
