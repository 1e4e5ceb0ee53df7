#include "lib/crash/write_log.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "lib/sys/sys.hpp"

namespace dt {
namespace {

void put64(std::string& s, size_t at, uint64_t v) { std::memcpy(s.data() + at, &v, 8); }

// A log as qemu's blklogwrites writes it: super block, then header sector +
// data per entry.
struct LogBuilder {
  std::string bytes = std::string(512, '\0');
  uint64_t n = 0;
  void entry(uint64_t sector, uint64_t nr, uint64_t flags, char fill) {
    std::string h(512, '\0');
    put64(h, 0, sector);
    put64(h, 8, nr);
    put64(h, 16, flags);
    bytes += h;
    if (!(flags & kLogDiscard)) bytes += std::string(nr * 512, fill);
    ++n;
  }
  std::string finish(uint64_t counted) {
    put64(bytes, 0, 0x6a736677736872ULL);
    put64(bytes, 8, 1);
    put64(bytes, 16, counted);
    uint32_t ss = 512;
    std::memcpy(bytes.data() + 24, &ss, 4);
    return bytes;
  }
};

WriteLog parse(const std::string& b, uint64_t dev = 1 << 20) {
  return parse_write_log([&](uint64_t off, size_t len) { return off < b.size() ? b.substr(off, len) : std::string(); },
                         b.size(), dev);
}

}  // namespace

TEST(WriteLog, WalksEntriesPastTheCountedOnes) {
  LogBuilder lb;
  lb.entry(0, 8, 0, 'a');
  lb.entry(0, 0, kLogFlush, 0);
  lb.entry(16, 2, 0, 'b');  // after the last flush: not yet in the super block's count
  const WriteLog wl = parse(lb.finish(2));
  ASSERT_EQ(wl.entries.size(), 3u);
  EXPECT_TRUE(wl.entries[0].write());
  EXPECT_TRUE(wl.entries[1].flush());
  EXPECT_EQ(wl.entries[2].sector, 16u);
  EXPECT_EQ(wl.entries[2].data_offset, (1 + 9 + 1 + 1) * 512u);
  EXPECT_EQ(wl.flushes(), 1u);
  EXPECT_EQ(wl.bytes_written(), 10 * 512u);
}

TEST(WriteLog, DiscardsCarryNoData) {
  LogBuilder lb;
  lb.entry(0, 4, kLogDiscard, 0);
  lb.entry(8, 1, 0, 'c');
  const WriteLog wl = parse(lb.finish(2));
  ASSERT_EQ(wl.entries.size(), 2u);
  EXPECT_TRUE(wl.entries[0].discard());
  EXPECT_FALSE(wl.entries[0].write());
  EXPECT_EQ(wl.entries[1].data_offset, 3 * 512u);
}

TEST(WriteLog, RefusesWhatIsNotALog) {
  std::string junk(4096, 'x');
  EXPECT_THROW(parse(junk), SetupError);
  LogBuilder lb;
  lb.entry(0, 1, 0, 'a');
  // The super block counts more entries than there are.
  EXPECT_THROW(parse(lb.finish(5)), SetupError);
}

TEST(WriteLog, ATornLastEntryEndsTheLog) {
  LogBuilder lb;
  lb.entry(0, 1, 0, 'a');
  lb.entry(4, 8, 0, 'b');
  std::string b = lb.finish(1);
  b.resize(b.size() - 512);  // the last entry's data did not all reach the log
  EXPECT_EQ(parse(b).entries.size(), 1u);
}

TEST(WriteLog, EntriesOutsideTheDeviceAreCorruption) {
  LogBuilder lb;
  lb.entry(1 << 30, 1, 0, 'a');
  EXPECT_THROW(parse(lb.finish(1)), SetupError);
}

}  // namespace dt
