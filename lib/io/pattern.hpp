// Deterministic, position-dependent data: every 8-byte word of a file is a
// function of (seed, absolute file offset), so any buffer can be checked
// against the file range it claims to hold, and a misplaced (shifted) block is
// as detectable as a zero-filled one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dt {

void fill_pattern(char* buf, size_t len, uint64_t file_off, uint64_t seed);

// A maximal run of bytes that differ from what was expected.
struct BadRange {
  uint64_t off = 0;  // absolute file offset
  uint64_t len = 0;
  bool zero_filled = false;  // every byte read in the range was 0
};

// Compares got against want (both len bytes covering [base_off, base_off+len)),
// in 512-byte sectors; adjacent bad sectors of the same kind are coalesced.
// At most max_ranges are returned; *total_bad (if given) counts all bad bytes.
std::vector<BadRange> diff_ranges(const char* got, const char* want, size_t len, uint64_t base_off,
                                  size_t max_ranges = 64, uint64_t* total_bad = nullptr);

// "wrong data: first bad byte at offset 0x3000; 2 bad ranges (8192 bytes): [0x3000,+4K) zero-filled, ..."
std::string describe_bad_ranges(const std::vector<BadRange>& ranges, uint64_t total_bad);

// A transfer that returned less than it should have. Returns "" when res is
// acceptable: res == want, or res stops exactly at i_size (a read across EOF).
// A negative res is reported as an error with its errno name.
std::string check_transfer(const char* op, int64_t res, uint64_t want, uint64_t off,
                           uint64_t isize, bool is_read);

std::string errno_name(int err);

}  // namespace dt
