#include "lib/crash/expect.hpp"

#include <gtest/gtest.h>

namespace dt {
namespace {

Ack write_ack(uint64_t seq, uint64_t wseq, uint64_t off, uint64_t len) {
  Ack a;
  a.seq = seq;
  a.file = "w/datasum/f1";
  a.file_id = 1;
  a.promise = "fsync returned";
  a.writes = {{wseq, off, len}};
  a.size_at_least = off + len;
  return a;
}

StampRead stamp(uint64_t wseq) { return {StampRead::Stamp, wseq, ""}; }

}  // namespace

TEST(Expect, NewestAcknowledgedWriteOrLaterIsAllowed) {
  Ack created;
  created.seq = 1;
  created.file = "w/datasum/f1";
  created.file_id = 1;
  created.creates = true;
  auto files = expectations({created, write_ack(2, 10, 0, 4096), write_ack(3, 11, 2048, 4096)});
  const FileExpectation& f = files.at("w/datasum/f1");
  EXPECT_TRUE(f.must_exist);
  EXPECT_EQ(f.size_at_least, 2048u + 4096);
  // Sector 0: write 10 is the newest acknowledged one.
  EXPECT_EQ(judge_sector(f, 0, stamp(10)), "");
  EXPECT_EQ(judge_sector(f, 0, stamp(12)), "");  // a later write may have landed
  EXPECT_NE(judge_sector(f, 0, stamp(9)).find("lost: holds older write #9"), std::string::npos);
  EXPECT_NE(judge_sector(f, 0, {StampRead::Zero, 0, ""}).find("lost: zeroes"), std::string::npos);
  // Sector 2048: write 11 overwrote write 10, and was acknowledged too.
  EXPECT_NE(judge_sector(f, 2048, stamp(10)), "");
  EXPECT_EQ(judge_sector(f, 2048, stamp(11)), "");
  // A sector no ack covers: zeroes or any write, never garbage.
  EXPECT_EQ(judge_sector(f, 1 << 20, {StampRead::Zero, 0, ""}), "");
  EXPECT_EQ(judge_sector(f, 1 << 20, stamp(3)), "");
  EXPECT_NE(judge_sector(f, 1 << 20, {StampRead::Garbage, 0, "torn"}).find("garbage"), std::string::npos);
}

TEST(Expect, OnlyTheAcksBeforeTheCrashCount) {
  // The same history cut earlier: write 11 was not acknowledged yet, so
  // write 10 in sector 2048 is fine.
  auto files = expectations({write_ack(2, 10, 0, 4096)});
  EXPECT_EQ(judge_sector(files.at("w/datasum/f1"), 2048, stamp(10)), "");
}

TEST(Expect, ViolationsCoalesce) {
  ViolationList v;
  v.add("f", 0, 512, "lost");
  v.add("f", 512, 512, "lost");
  v.add("f", 2048, 512, "lost");
  v.add("f", 2560, 512, "garbage");
  ASSERT_EQ(v.all().size(), 3u);
  EXPECT_EQ(v.all()[0].len, 1024u);
  EXPECT_EQ(v.lines(2).back(), "... and 1 more");
}

TEST(Ack, MarkerRoundTrip) {
  Ack a = write_ack(5, 77, 4096, 8192);
  a.prealloc_end = 1 << 22;
  auto back = decode_marker(encode_marker(a, 4096));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->seq, 5u);
  EXPECT_EQ(back->writes.at(0).wseq, 77u);
  EXPECT_EQ(back->prealloc_end, 1u << 22);
  EXPECT_FALSE(decode_marker(std::string(4096, '\0')).has_value());
}

}  // namespace dt

namespace dt {

TEST(Expect, RunsExpandToOneWriteEach) {
  Ack a;
  a.seq = 4;
  a.file = "f";
  a.file_id = 2;
  a.runs = {{100, 0, 4096, 3}};  // writes 100, 101, 102 at 0, 4K, 8K
  auto f = expectations({a}).at("f");
  EXPECT_EQ(f.sectors.size(), 3 * 4096 / kStampSector);
  EXPECT_EQ(f.sectors.at(0).wseq, 100u);
  EXPECT_EQ(f.sectors.at(8192 + 512).wseq, 102u);
  EXPECT_NE(judge_sector(f, 4096, {StampRead::Stamp, 100, ""}), "");  // 4K holds write 101
  auto back = decode_marker(encode_marker(a, 4096));
  ASSERT_TRUE(back.has_value());
  ASSERT_EQ(back->runs.size(), 1u);
  EXPECT_EQ(back->runs[0].count, 3u);
}

}  // namespace dt
