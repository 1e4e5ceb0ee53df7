#include "lib/crash/stamp.hpp"

#include <fmt/format.h>

#include <cstring>

#include "lib/io/pattern.hpp"

namespace dt {
namespace {

constexpr uint64_t kMagic = 0x3154534843544432ULL;  // "2DTCHST1" little-endian: a crash-workload sector
constexpr size_t kHeader = 32;

struct Header {
  uint64_t magic;
  uint32_t file_id;
  uint32_t reserved;
  uint64_t wseq;
  uint64_t file_off;
};
static_assert(sizeof(Header) == kHeader);

uint64_t body_seed(uint32_t file_id, uint64_t wseq) { return (wseq * 0x9e3779b97f4a7c15ULL) ^ (uint64_t{file_id} << 40); }

}  // namespace

void stamp_fill(char* buf, size_t len, uint32_t file_id, uint64_t wseq, uint64_t file_off) {
  for (size_t at = 0; at + kStampSector <= len; at += kStampSector) {
    const Header h{kMagic, file_id, 0, wseq, file_off + at};
    std::memcpy(buf + at, &h, sizeof h);
    fill_pattern(buf + at + kHeader, kStampSector - kHeader, file_off + at + kHeader, body_seed(file_id, wseq));
  }
}

StampRead stamp_decode(const char* sector, uint32_t file_id, uint64_t file_off) {
  StampRead r;
  Header h;
  std::memcpy(&h, sector, sizeof h);
  if (h.magic != kMagic) {
    for (size_t i = 0; i < kStampSector; ++i)
      if (sector[i]) {
        r.kind = StampRead::Garbage;
        r.why = "bytes no write of this run produced";
        return r;
      }
    r.kind = StampRead::Zero;
    return r;
  }
  if (h.file_id != file_id || h.file_off != file_off) {
    r.kind = StampRead::Garbage;
    r.why = fmt::format("misplaced data: write #{} of file {} at offset {:#x}", h.wseq, h.file_id, h.file_off);
    return r;
  }
  char want[kStampSector];
  stamp_fill(want, kStampSector, file_id, h.wseq, file_off);
  if (std::memcmp(want, sector, kStampSector) != 0) {
    r.kind = StampRead::Garbage;
    r.why = fmt::format("torn sector: header of write #{}, body differs", h.wseq);
    return r;
  }
  r.kind = StampRead::Stamp;
  r.wseq = h.wseq;
  return r;
}

}  // namespace dt
