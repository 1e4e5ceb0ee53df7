#include "lib/crash/stamp.hpp"

#include <gtest/gtest.h>

#include <string>

namespace dt {

TEST(Stamp, DecodesWhatItWrote) {
  std::string buf(4096, '\0');
  stamp_fill(buf.data(), buf.size(), 7, 42, 0x10000);
  for (uint64_t s = 0; s < 4096; s += kStampSector) {
    StampRead r = stamp_decode(buf.data() + s, 7, 0x10000 + s);
    EXPECT_EQ(r.kind, StampRead::Stamp);
    EXPECT_EQ(r.wseq, 42u);
  }
}

TEST(Stamp, ZeroesAreZero) {
  std::string z(kStampSector, '\0');
  EXPECT_EQ(stamp_decode(z.data(), 1, 0).kind, StampRead::Zero);
}

TEST(Stamp, MisplacedTornAndForeignAreGarbage) {
  std::string buf(1024, '\0');
  stamp_fill(buf.data(), buf.size(), 3, 9, 0);
  // The second sector read where the first should be: misplaced.
  StampRead shifted = stamp_decode(buf.data() + kStampSector, 3, 0);
  EXPECT_EQ(shifted.kind, StampRead::Garbage);
  EXPECT_NE(shifted.why.find("misplaced"), std::string::npos);
  // Another file's data.
  EXPECT_EQ(stamp_decode(buf.data(), 4, 0).kind, StampRead::Garbage);
  // A header with a body from elsewhere: torn.
  std::string torn = buf.substr(0, kStampSector);
  torn[300] ^= 1;
  StampRead t = stamp_decode(torn.data(), 3, 0);
  EXPECT_EQ(t.kind, StampRead::Garbage);
  EXPECT_NE(t.why.find("torn"), std::string::npos);
  std::string junk(kStampSector, 'x');
  EXPECT_EQ(stamp_decode(junk.data(), 3, 0).kind, StampRead::Garbage);
}

}  // namespace dt
