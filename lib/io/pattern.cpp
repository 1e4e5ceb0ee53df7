#include "lib/io/pattern.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace dt {
namespace {

uint64_t mix(uint64_t x) {
  // splitmix64 finaliser: cheap, and neighbouring words differ in every byte.
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t word_at(uint64_t word_index, uint64_t seed) {
  uint64_t w = mix(word_index ^ mix(seed));
  // Never produce an all-zero word, so a zero-filled range can't pass.
  return w ? w : 0x5a5a5a5a5a5a5a5aULL;
}

bool all_zero(const char* p, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (p[i]) return false;
  return true;
}

}  // namespace

void fill_pattern(char* buf, size_t len, uint64_t file_off, uint64_t seed) {
  size_t i = 0;
  // Unaligned head, byte by byte.
  while (i < len && (file_off + i) % 8 != 0) {
    uint64_t o = file_off + i;
    uint64_t w = word_at(o / 8, seed);
    buf[i] = static_cast<char>(w >> (8 * (o % 8)));
    ++i;
  }
  for (; i + 8 <= len; i += 8) {
    uint64_t w = word_at((file_off + i) / 8, seed);
    std::memcpy(buf + i, &w, 8);
  }
  for (; i < len; ++i) {
    uint64_t o = file_off + i;
    uint64_t w = word_at(o / 8, seed);
    buf[i] = static_cast<char>(w >> (8 * (o % 8)));
  }
}

std::vector<BadRange> diff_ranges(const char* got, const char* want, size_t len, uint64_t base_off,
                                  size_t max_ranges, uint64_t* total_bad) {
  constexpr size_t kSector = 512;
  std::vector<BadRange> out;
  uint64_t bad = 0;
  for (size_t pos = 0; pos < len; pos += kSector) {
    size_t n = std::min(kSector, len - pos);
    if (std::memcmp(got + pos, want + pos, n) == 0) continue;
    // Narrow to the first and last differing byte inside the sector.
    size_t first = 0;
    while (got[pos + first] == want[pos + first]) ++first;
    size_t last = n;
    while (got[pos + last - 1] == want[pos + last - 1]) --last;
    uint64_t off = base_off + pos + first;
    uint64_t blen = last - first;
    bool zero = all_zero(got + pos + first, blen);
    bad += blen;
    // Coalesce with the previous range when it ended in the previous sector
    // and is of the same kind (zero-filled or wrong).
    if (!out.empty()) {
      BadRange& prev = out.back();
      uint64_t prev_end = prev.off + prev.len;
      if (prev.zero_filled == zero && off >= prev_end && off - prev_end < kSector) {
        prev.len = off + blen - prev.off;
        continue;
      }
    }
    if (out.size() < max_ranges) out.push_back({off, blen, zero});
  }
  if (total_bad) *total_bad = bad;
  return out;
}

std::string describe_bad_ranges(const std::vector<BadRange>& ranges, uint64_t total_bad) {
  if (ranges.empty()) return {};
  std::string s = fmt::format("wrong data: first bad byte at offset {:#x}; {} bad range{} ({} bytes):",
                              ranges.front().off, ranges.size(), ranges.size() == 1 ? "" : "s",
                              total_bad);
  size_t shown = 0;
  for (const auto& r : ranges) {
    if (shown++ == 8) {
      s += fmt::format(" ... and {} more", ranges.size() - 8);
      break;
    }
    s += fmt::format(" [{:#x},{:#x}) {}", r.off, r.off + r.len, r.zero_filled ? "zero-filled" : "wrong");
    if (shown < ranges.size() && shown < 8) s += ",";
  }
  return s;
}

std::string errno_name(int err) {
  switch (err) {
    case EAGAIN: return "EAGAIN";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case EIO: return "EIO";
    case ENOSPC: return "ENOSPC";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ENOSYS: return "ENOSYS";
    case EINTR: return "EINTR";
    case ECANCELED: return "ECANCELED";
    case EPERM: return "EPERM";
    case EBADF: return "EBADF";
    case ENOMEM: return "ENOMEM";
    default: return fmt::format("errno {}", err);
  }
}

std::string check_transfer(const char* op, int64_t res, uint64_t want, uint64_t off, uint64_t isize,
                           bool is_read) {
  if (res < 0)
    return fmt::format("{} of {} bytes at offset {:#x} failed: {}", op, want, off,
                       errno_name(static_cast<int>(-res)));
  uint64_t got = static_cast<uint64_t>(res);
  if (got == want) return {};
  if (got > want) return fmt::format("{} returned {} bytes, more than the {} requested", op, got, want);
  // A read may legally stop at EOF; anything shorter inside i_size is the
  // seed-000 bug class (short read reported as success).
  if (is_read && off + got >= isize)
    return {};
  return fmt::format("short {} ({}): {} of {} bytes at offset {:#x}{}", is_read ? "read" : "write", op,
                     got, want, off,
                     is_read ? fmt::format(", range inside i_size {:#x}", isize) : std::string());
}

}  // namespace dt
