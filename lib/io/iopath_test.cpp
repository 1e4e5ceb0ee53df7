#include "lib/io/iopath.hpp"

#include <gtest/gtest.h>

namespace dt {
namespace {

// Lines as this kernel's tracefs prints them (6.18).
const char* kTrace =
    "# tracer: nop\n"
    "      cs-1 [001] ..... 1.0: iomap_dio_rw_begin: dev 0:39 ino 0x103 size 0x0 offset 0x0 length 0x100000 "
    "done_before 0x0 flags DIRECT|NOWAIT dio_flags  aio 1\n"
    "      cs-1 [001] ..... 1.1: iomap_dio_complete: dev 0:39 ino 0x103 size 0x100000 offset 0x0 flags DIRECT aio 1 "
    "error -11 ret 0\n"
    "      cs-1 [001] ..... 1.2: iomap_dio_rw_begin: dev 0:39 ino 0x103 size 0x0 offset 0x0 length 0x100000 "
    "done_before 0x0 flags DIRECT dio_flags  aio 0\n"
    "      cs-1 [001] ..... 1.3: mm_filemap_add_to_page_cache: dev 0:39 ino 103 pfn=0x1 ofs=0 order=2\n"
    "      cs-1 [001] ..... 1.4: writeback_dirty_folio: bdi btrfs-1: ino=259 index=0\n"
    "      cs-1 [001] ..... 1.5: mm_filemap_add_to_page_cache: dev 254:0 ino a72082 pfn=0x2 ofs=0 order=0\n";

TEST(ParseTrace, CountsOnlyTheWatchedInode) {
  PathCounts c = parse_trace(kTrace, {0x103});
  EXPECT_EQ(2u, c.dio_begin);
  EXPECT_EQ(1u, c.dio_nowait);
  EXPECT_EQ(1u, c.dio_complete);
  EXPECT_EQ(1u, c.dio_errors);
  EXPECT_EQ(4u, c.cache_adds);  // one order-2 folio
  EXPECT_EQ(1u, c.dirtied);     // ino=259 decimal == 0x103
}

TEST(ParseTrace, OtherInodeSeesNothing) {
  PathCounts c = parse_trace(kTrace, {0x999});
  EXPECT_EQ(0u, c.dio_begin + c.cache_adds + c.dirtied);
}

TEST(JudgePath, VerdictsFromEvidence) {
  PathReport r;
  r.traced = true;
  r.write = true;
  r.counts.dio_begin = 0;
  r.counts.cache_adds = 256;
  judge_path(&r);
  EXPECT_EQ("buffered", r.verdict);  // the checksummed-file fallback: never entered iomap dio

  r.counts = {};
  r.counts.dio_begin = 1;
  r.counts.dirtied = 1;
  judge_path(&r);
  EXPECT_EQ("mixed", r.verdict);

  r.counts.dirtied = 0;
  judge_path(&r);
  EXPECT_EQ("direct", r.verdict);

  r.write = false;
  r.counts.cache_adds = 4;  // e.g. the buffer is an mmap of the file
  judge_path(&r);
  EXPECT_EQ("direct", r.verdict);
}

TEST(JudgePath, WithoutTracefsAnEmptyCacheProvesNothing) {
  PathReport r;
  r.traced = false;
  r.write = true;
  r.residency = {true, "cachestat", 0, 0};
  judge_path(&r);
  EXPECT_EQ("unproven", r.verdict);
  r.residency.cached_pages = 3;
  judge_path(&r);
  EXPECT_EQ("buffered", r.verdict);
}

}  // namespace
}  // namespace dt
