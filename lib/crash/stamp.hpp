// The data every crash workload writes: each 512-byte sector carries who
// wrote it (file id, write sequence number, file offset) and a body that is
// a function of those, so a checker that reads a sector after a crash can tell
// "zeroes", "this write's data, intact" and "garbage" (torn, misplaced or
// foreign bytes) without knowing which writes reached the disk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace dt {

constexpr uint64_t kStampSector = 512;

// Fills buf (len a multiple of kStampSector) as write `wseq` of file
// `file_id` at file offset `file_off` (a multiple of kStampSector).
void stamp_fill(char* buf, size_t len, uint32_t file_id, uint64_t wseq, uint64_t file_off);

struct StampRead {
  enum Kind { Zero, Stamp, Garbage } kind = Zero;
  uint64_t wseq = 0;  // Stamp: the write that left this sector
  std::string why;    // Garbage: what is wrong with it
};

// Reads one sector that should belong to file `file_id` at `file_off`.
StampRead stamp_decode(const char* sector, uint32_t file_id, uint64_t file_off);

}  // namespace dt
