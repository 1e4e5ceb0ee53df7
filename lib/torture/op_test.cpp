#include "lib/torture/op.hpp"

#include <gtest/gtest.h>

#include <set>

#include "lib/sys/sys.hpp"
#include "lib/torture/engine.hpp"
#include "lib/torture/repro.hpp"

namespace dt {
namespace {

TEST(StepGenerator, SameSeedSameSteps) {
  Mix mix = parse_mix("", "all");
  LogHeader h = make_header(42, 4);
  StepGenerator a(42, mix, h), b(42, mix, h), c(43, mix, h);
  bool differs = false;
  for (int i = 0; i < 2000; ++i) {
    Step x = a.next(), y = b.next(), z = c.next();
    EXPECT_EQ(step_to_line(x), step_to_line(y));
    differs |= step_to_line(x) != step_to_line(z);
  }
  EXPECT_TRUE(differs);
  EXPECT_EQ(header_to_json(make_header(42, 4)).dump(), header_to_json(h).dump());
}

TEST(StepGenerator, CoversTheMix) {
  Mix mix = parse_mix("", "all");
  LogHeader h = make_header(1, 4);
  StepGenerator g(1, mix, h);
  std::set<std::string> ops, events, sources;
  bool never = false, mutate = false, misaligned = false, batch = false, after = false;
  for (int i = 0; i < 5000; ++i) {
    Step s = g.next();
    if (s.is_event()) {
      events.insert(s.event);
      continue;
    }
    ops.insert(s.op);
    sources.insert(buf_source_name(s.buf));
    never |= s.fault == Fault::Never;
    if (s.fault == Fault::AfterCompletion) {
      after = true;
      EXPECT_LT(s.hold_page, (s.len * s.qd + 4095) / 4096) << step_to_line(s);
      // Something of the op can complete before the held page.
      if (s.info().caps & kCapRead)
        EXPECT_GE(s.hold_page, 1u) << step_to_line(s);
      else
        EXPECT_TRUE(s.qd > 1 && s.hold_page * 4096 >= s.len + 4095) << step_to_line(s);
      EXPECT_EQ(step_to_line(step_from_json(step_to_json(s))), step_to_line(s));
    }
    mutate |= (s.flags & kFlagMutate) != 0;
    misaligned |= s.off % 512 != 0;
    batch |= s.qd > 1;
    EXPECT_LT(s.file, 4u);
  }
  EXPECT_EQ(ops.size(), op_table().size());
  EXPECT_EQ(events.size(), event_table().size());
  EXPECT_EQ(sources.size(), 7u);
  EXPECT_FALSE(never) << "uffd-never must be opt-in";
  EXPECT_TRUE(mutate && misaligned && batch && after);
  Mix with_never = parse_mix("uring,uffd-never", "none");
  StepGenerator g2(1, with_never, h);
  for (int i = 0; i < 3000; ++i) {
    Step s = g2.next();
    EXPECT_FALSE(s.is_event());
    EXPECT_EQ(s.op.rfind("uring", 0), 0u);
    never |= s.fault == Fault::Never;
  }
  EXPECT_TRUE(never);
}

TEST(StepGenerator, FileKinds) {
  for (const auto& f : make_header(1, 3, "nocow").files) EXPECT_TRUE(f.nocow);
  for (const auto& f : make_header(1, 3, "datasum").files) EXPECT_FALSE(f.nocow);
  EXPECT_TRUE(make_header(1, 2).files[1].nocow);
  EXPECT_THROW(make_header(1, 2, "cow"), SetupError);
}

TEST(OpLog, RoundTrip) {
  Mix mix = parse_mix("", "all");
  OpLog log;
  log.header = make_header(7, 3);
  StepGenerator g(7, mix, log.header);
  for (int i = 0; i < 500; ++i) {
    Step s = g.next();
    s.res = {4096, -11};
    s.t_us = 1234;
    s.note = "x";
    log.steps.push_back(s);
  }
  const std::string text = format_oplog(log);
  OpLog back = parse_oplog(text + "{\"type\":\"fail\",\"msg\":\"ignored\"}\n");
  EXPECT_EQ(format_oplog(back), text);
}

TEST(OpLog, BadLinesNameTheLine) {
  const std::string h = header_to_json(make_header(1, 2)).dump() + "\n";
  auto msg = [](const std::string& t) {
    try {
      parse_oplog(t);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(msg(h + "{\"seq\":1,\"op\":\"frobnicate\"}\n").find("line 2: unknown op 'frobnicate'"), std::string::npos);
  EXPECT_NE(msg(h + "{\"seq\":1,\"op\":\"pread\",\"file\":9}\n").find("file index"), std::string::npos);
  EXPECT_NE(msg("{\"seq\":1,\"op\":\"pread\"}\n").find("before the header"), std::string::npos);
  EXPECT_NE(msg("not json\n").find("line 1"), std::string::npos);
}

TEST(Mix, UnknownNamesAreSetupErrors) {
  EXPECT_THROW(parse_mix("pwirte", ""), SetupError);
  EXPECT_THROW(parse_mix("", "balanse"), SetupError);
  try {
    parse_mix("pwirte", "");
  } catch (const SetupError& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'pwrite'"), std::string::npos);
  }
  EXPECT_EQ(parse_mix("dio", "none").ops.size(), 4u);
  Mix no_mmap = parse_mix("all,no-mmap-buffers", "none");
  EXPECT_EQ(no_mmap.ops.size(), op_table().size());
  StepGenerator g(3, no_mmap, make_header(3, 4));
  for (int i = 0; i < 2000; ++i) EXPECT_NE(g.next().buf, BufSource::Mmap);
  EXPECT_TRUE(parse_mix("dio", "none").events.empty());
}

TEST(KernelLog, OnlyThisRunsLines) {
  std::vector<std::string> lines = {
      "WARNING: selftest-dmesg planted this line; the case must fail [planted by diotorture run 12446.498481]",
      "BTRFS warning (device loop5): csum failed root 5 ino 260",
      "BTRFS warning (device loop0): csum failed root 5 ino 257",
      "WARNING: CPU: 0 PID: 1 at fs/btrfs/inode.c:1 x+0x0/0x1",
  };
  auto own = own_kernel_lines(lines, {"/dev/loop0"});
  ASSERT_EQ(own.size(), 2u);
  EXPECT_EQ(own[0], lines[2]);
  EXPECT_EQ(own[1], lines[3]);
}

TEST(AfterCompletion, HoldsTheFirstFaultFromItsPageOnly) {
  // Pages before the hold page were populated before the op; the first
  // fault at or after it is held, once; other schedules hold nothing here.
  EXPECT_FALSE(holds_fault(Fault::AfterCompletion, 1, 2, false));
  EXPECT_TRUE(holds_fault(Fault::AfterCompletion, 2, 2, false));
  EXPECT_TRUE(holds_fault(Fault::AfterCompletion, 7, 2, false));
  EXPECT_FALSE(holds_fault(Fault::AfterCompletion, 7, 2, true));
  EXPECT_TRUE(holds_fault(Fault::AfterCompletion, 0, 0, false));
  for (Fault f : {Fault::None, Fault::AtOnce, Fault::Delay, Fault::Never}) EXPECT_FALSE(holds_fault(f, 5, 0, false));
}

TEST(AfterCompletion, ReadLandedSeesAnyByteThatIsNotTheFill) {
  std::vector<unsigned char> pages(8192, 0xee);
  EXPECT_FALSE(read_landed(pages.data(), pages.size(), 0xee));
  EXPECT_FALSE(read_landed(pages.data(), 0, 0xee));
  pages[8191] = 0;  // a hole read as zeros counts
  EXPECT_TRUE(read_landed(pages.data(), pages.size(), 0xee));
  EXPECT_FALSE(read_landed(pages.data(), 8191, 0xee));
}

TEST(AfterCompletion, InTheOpLog) {
  Step s;
  s.seq = 3;
  s.op = "uring-readv";
  s.len = 8192;
  s.qd = 2;
  s.iovs = 2;
  s.buf = BufSource::Uffd;
  s.fault = Fault::AfterCompletion;
  s.hold_page = 3;
  s.fault_seen = "page 3 held until the CQE of request 0 (1 ms)";
  const nlohmann::json j = step_to_json(s);
  EXPECT_EQ(j["fault"], "after-completion");
  EXPECT_EQ(j["hold_page"], 3);
  Step back = step_from_json(j);
  EXPECT_EQ(back.fault, Fault::AfterCompletion);
  EXPECT_EQ(back.hold_page, 3u);
  EXPECT_EQ(back.fault_seen, s.fault_seen);
  nlohmann::json bad = j;
  bad["hold_page"] = 4;  // beyond the 4 pages of the buffer
  EXPECT_THROW(step_from_json(bad), std::runtime_error);
  // The shrinker halves len: the hold page moves into the buffer again.
  s.len = 4096;
  fit_hold_page(s);
  EXPECT_EQ(s.hold_page, 1u);
  EXPECT_NO_THROW(step_from_json(step_to_json(s)));
  s.qd = 1;
  fit_hold_page(s);
  EXPECT_EQ(s.hold_page, 0u);
}

}  // namespace
}  // namespace dt

namespace dt {
namespace {

// Every row of the op table is whole: its kind agrees with its capabilities,
// the generator can choose it, the op log round-trips it, and the repro
// turns it into its own call (no fallback: an op without its C fails here).
TEST(OpTable, EveryOpIsDefinedInEveryPart) {
  const LogHeader h = make_header(3, 2);
  for (const OpInfo& o : op_table()) {
    SCOPED_TRACE(o.name);
    EXPECT_EQ(find_op(o.name), &o);
    const bool rw = o.kind == OpKind::Read || o.kind == OpKind::Write;
    const bool mm = o.kind == OpKind::MmapRead || o.kind == OpKind::MmapWrite;
    EXPECT_EQ((o.caps & kCapMmap) != 0, mm);
    EXPECT_EQ((o.caps & kCapMeta) != 0, !rw && !mm);
    EXPECT_EQ((o.caps & kCapRead) != 0, o.kind == OpKind::Read || o.kind == OpKind::MmapRead);
    EXPECT_EQ((o.caps & kCapWrite) != 0, o.kind == OpKind::Write || o.kind == OpKind::MmapWrite);
    EXPECT_GT(o.weight, 0u);
    Mix mix = parse_mix(o.name, "none");
    StepGenerator gen(3, mix, h);
    Step s = gen.next();
    EXPECT_EQ(s.op, o.name);
    EXPECT_EQ(step_from_json(step_to_json(s)).op, o.name);
    OpLog log{h, {s}};
    Failure f{s.seq, "error", s.op, "test", {{"what", "error"}, {"request", 0}}};
    const std::string c = make_repro(log, f);
    const char* call = nullptr;
    switch (o.kind) {
      case OpKind::Read:
      case OpKind::Write:
        call = "rw(";
        break;
      case OpKind::MmapRead:
      case OpKind::MmapWrite:
        call = "mmap(0, ";
        break;
      case OpKind::Fsync:
        call = "res[0] = fsync(";
        break;
      case OpKind::Fdatasync:
        call = "res[0] = fdatasync(";
        break;
      case OpKind::Fallocate:
        call = "fallocate(fd[";
        break;
      case OpKind::Punch:
        call = "FALLOC_FL_PUNCH_HOLE";
        break;
      case OpKind::ZeroRange:
        call = "FALLOC_FL_ZERO_RANGE";
        break;
      case OpKind::Truncate:
        call = "ftruncate(fd[";
        break;
      case OpKind::Reflink:
        call = "FICLONERANGE, &r";
        break;
    }
    EXPECT_NE(c.find(call), std::string::npos) << "the repro of " << o.name << " has no " << call;
  }
}

}  // namespace
}  // namespace dt
