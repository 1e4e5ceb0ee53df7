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

// A 6.1 guest's kprobe source (__iomap_dio_rw with the ki_flags fetch arg)
// and block-layer events, as tracefs prints them.
const char* kProbeTrace =
    "      dt-7 [000] d.... 5.0: __iomap_dio_rw: (__iomap_dio_rw+0x0/0x8a0) flags=8\n"
    "      dt-7 [000] d.... 5.1: btrfs_dio_read: (btrfs_dio_read+0x0/0x60 [btrfs])\n"
    "      dt-7 [000] d.... 5.2: __iomap_dio_rw: (__iomap_dio_rw+0x0/0x8a0) flags=0\n"
    "      dt-7 [000] ..... 5.3: block_bio_queue: 254,16 R 2048 + 256 [dt]\n"
    "      dt-7 [000] ..... 5.4: block_bio_queue: 254,16 RA 4096 + 256 [dt]\n"
    "      dt-7 [000] ..... 5.5: block_bio_queue: 254,16 RM 8192 + 8 [dt]\n"
    "      dt-7 [000] ..... 5.6: block_bio_queue: 254,16 WS 2048 + 256 [dt]\n"
    "      dt-7 [000] ..... 5.7: block_bio_queue: 254,16 FWS 0 + 0 [dt]\n"
    "      dt-7 [000] d..1. 5.8: writeback_dirty_page: bdi btrfs-1: ino=259 index=0\n"
    "      dt-7 [000] ..... 5.9: block_bio_queue: 254,16 WS 4096 + 8 [dt]\n"
    "      dt-7 [000] ..... 6.0: some_other_event: ino 0x103\n";

TEST(ParseTrace, KprobeAndBlockEvents) {
  ProbeNames probes{"__iomap_dio_rw", {"__iomap_dio_rw", "btrfs_dio_read"}};
  PathCounts c = parse_trace(kProbeTrace, {259}, probes);
  EXPECT_EQ(2u, c.dio_begin);
  EXPECT_EQ(1u, c.dio_nowait);  // flags=8 is IOCB_NOWAIT
  EXPECT_EQ(2u, c.entries["__iomap_dio_rw"]);
  EXPECT_EQ(1u, c.entries["btrfs_dio_read"]);
  EXPECT_EQ(1u, c.read_bios);         // readahead and metadata are not the I/O's data
  EXPECT_EQ(2u, c.write_bios);        // the empty flush is not a write
  EXPECT_EQ(1u, c.write_bios_early);  // one before the page was dirtied
  EXPECT_EQ(1u, c.dirtied);           // writeback_dirty_page, the pre-folio name
  // Without the probe names, probe lines are not counted as anything.
  EXPECT_EQ(0u, parse_trace(kProbeTrace, {259}).dio_begin);
}

TEST(TaskFilter, TasksAndTheirIoUringWorkers) {
  EXPECT_EQ("common_pid == 5 || comm == \"iou-wrk-5\" || comm == \"iou-sqp-5\" || common_pid == 6 || "
            "comm == \"iou-wrk-6\" || comm == \"iou-sqp-6\"",
            task_filter({5, 6}));
  EXPECT_EQ("0", task_filter({}));
}

TEST(PathSource, NamesRoundTrip) {
  for (PathSource s : kPathSources) EXPECT_EQ(s, parse_path_source(source_name(s)));
  EXPECT_FALSE(parse_path_source("ftrace"));
  EXPECT_STREQ("by block-layer events", source_label(PathSource::Block));
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
  r.counts.write_bios = r.counts.write_bios_early = 2;
  r.counts.dirtied = 1;
  judge_path(&r);
  EXPECT_EQ("mixed", r.verdict);  // entered, data went out, then a fallback part-way

  r.counts.dirtied = 0;
  judge_path(&r);
  EXPECT_EQ("direct", r.verdict);

  r.write = false;
  r.counts.read_bios = 1;
  r.counts.cache_adds = 4;  // e.g. the buffer is an mmap of the file
  judge_path(&r);
  EXPECT_EQ("direct", r.verdict);
}

TEST(JudgePath, EnteredButServedFromThePageCache) {
  // Direct I/O into an mmap of the file itself: entered, faulted, fell back.
  PathReport r;
  r.traced = true;
  r.counts.dio_begin = 1;
  r.counts.cache_adds = 16;
  judge_path(&r);
  EXPECT_EQ("buffered", r.verdict);
  EXPECT_EQ("by iomap tracepoint", r.evidence);
  r.counts.read_bios = 1;  // a real direct read went out as well
  judge_path(&r);
  EXPECT_EQ("direct", r.verdict);

  r.write = true;
  r.counts = {};
  r.counts.dio_begin = 1;
  r.counts.dirtied = 256;  // dirtied before any bio: nothing went direct
  judge_path(&r);
  EXPECT_EQ("buffered", r.verdict);
}

TEST(JudgePath, BlockEvidenceAlone) {
  PathReport r;
  r.traced = true;
  r.source = PathSource::Block;
  r.write = true;
  r.counts.write_bios = 4;
  r.counts.write_bios_early = 4;
  judge_path(&r);
  EXPECT_EQ("direct", r.verdict);  // no entry events needed: nothing was dirtied
  EXPECT_EQ("by block-layer events", r.evidence);
  r.counts.dirtied = 8;
  judge_path(&r);
  EXPECT_EQ("mixed", r.verdict);
  r.counts.write_bios_early = 0;
  judge_path(&r);
  EXPECT_EQ("buffered", r.verdict);

  r = {};
  r.traced = true;
  r.source = PathSource::Block;
  judge_path(&r);
  EXPECT_EQ("direct", r.verdict);  // e.g. EAGAIN or a hole: nothing entered the page cache
  r.counts.cache_adds = 4;
  judge_path(&r);
  EXPECT_EQ("buffered", r.verdict);
}

TEST(JudgePath, NeverEnteredIsBufferedWhateverTheBios) {
  PathReport r;
  r.traced = true;
  r.source = PathSource::Kprobe;
  r.counts.read_bios = 3;  // bios of something else of the task: no dio entry, no direct verdict
  judge_path(&r);
  EXPECT_EQ("buffered", r.verdict);
}

TEST(JudgePath, UntracedNamesWhatWasMissing) {
  PathReport r;
  r.untraced_reason = "no path evidence source available (kprobe: no kprobe_events in tracefs)";
  judge_path(&r);
  EXPECT_EQ("unproven", r.verdict);
  EXPECT_NE(std::string::npos, r.detail.find("no kprobe_events"));
  EXPECT_EQ("", r.evidence);
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
