#include "lib/torture/repro.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace dt {
namespace {

OpLog sample_log() {
  OpLog log;
  log.header = make_header(5, 4);
  log.header.kernel = "6.1.0-test";
  Step w;
  w.seq = 49;
  w.op = "pwritev";
  w.file = 0;
  w.off = 0x1f2000;
  w.len = 4096;
  w.data_seed = 77;
  w.buf = BufSource::Uffd;
  w.fault = Fault::Delay;
  w.fault_ms = 19;
  w.inject_page = 0;
  log.steps.push_back(w);
  Step e;
  e.seq = 50;
  e.event = "balance";
  e.arg = "dconvert";
  log.steps.push_back(e);
  Step r;
  r.seq = 51;
  r.op = "uring-read-fixed";
  r.file = 1;
  r.off = 8192;
  r.len = 16384;
  r.qd = 2;
  r.buf = BufSource::Registered;
  r.flags = kFlagAsync;
  log.steps.push_back(r);
  return log;
}

Failure data_failure() {
  Failure f;
  f.seq = 51;
  f.kind = "data";
  f.op = "uring-read-fixed";
  f.msg = "f1 read [0x2000,+16384): wrong data";
  f.check = {{"what", "data"}, {"file", 1}, {"off", 8192}, {"len", 16384}, {"via", "buffer"},
             {"expect", nlohmann::json::array({nlohmann::json::array({8192, 12288, "pattern", 99, 0}),
                                               nlohmann::json::array({12288, 24576, "zero", 0, 0})})}};
  return f;
}

TEST(Repro, EmitsEveryStepWithItsBufferAndTheCheck) {
  const std::string c = make_repro(sample_log(), data_failure());
  EXPECT_LT(std::count(c.begin(), c.end(), '\n'), 200);
  EXPECT_NE(c.find("#include <liburing.h>"), std::string::npos);
  EXPECT_EQ(c.find("diotorture/"), std::string::npos) << "no diotorture code";
  // Only the files the steps use are built.
  EXPECT_NE(c.find("mkfile(0, \"datasum/f0\""), std::string::npos);
  EXPECT_NE(c.find("mkfile(1, \"nocow/f1\""), std::string::npos);
  EXPECT_EQ(c.find("mkfile(2,"), std::string::npos);
  // The uffd write with the injected page, the fixed-buffer read at qd 2.
  EXPECT_NE(c.find("ufbuf(4096, 0, 1, 2039808, 77ULL, 19, 0, -1)"), std::string::npos);
  EXPECT_NE(c.find("rw(fd[1], 0, 3, 8192, 16384, 2, 1, 0, 1, last)"), std::string::npos);
  EXPECT_NE(c.find("io_uring_register_buffers"), std::string::npos);
  // The balance runs in a child beside the steps after it, and is waited for.
  EXPECT_NE(c.find("if (!evfork()) {"), std::string::npos);
  EXPECT_NE(c.find("struct btrfs_ioctl_balance_args b = {.flags = BTRFS_BALANCE_DATA};  /* dconvert */"),
            std::string::npos);
  EXPECT_NE(c.find("if (evp > 0) waitpid(evp, 0, 0);"), std::string::npos);
  EXPECT_NE(c.find("{8192, 12288, 0, 99ULL, 0},  /* pattern */"), std::string::npos);
  EXPECT_NE(c.find("char *got = last + (8192 - 8192);"), std::string::npos);
  EXPECT_NE(c.find("return 1;"), std::string::npos);
  EXPECT_NE(c.find("seed 5"), std::string::npos);
  EXPECT_NE(c.find("6.1.0-test"), std::string::npos);
}

TEST(Repro, AfterCompletionHoldsFromItsPage) {
  OpLog log = sample_log();
  Step& w = log.steps.front();
  w.op = "uring-read";
  w.len = 8192;
  w.qd = 3;
  w.fault = Fault::AfterCompletion;
  w.hold_page = 2;
  w.inject_page = -1;
  const std::string c = make_repro(log, data_failure());
  EXPECT_LT(std::count(c.begin(), c.end(), '\n'), 200);
  // Pages 0-1 populated first, the first fault from page 2 on held until a CQE or read data.
  EXPECT_NE(c.find("ufbuf(24576, 0, 0, 2039808, 77ULL, 0, -1, 2)"), std::string::npos);
  EXPECT_NE(c.find("if (cqe < 0) cqe = c->user_data;"), std::string::npos);
  EXPECT_NE(c.find("\"fault\":\"after-completion\""), std::string::npos);
  EXPECT_NE(c.find("\"hold_page\":2"), std::string::npos);
}

TEST(Repro, EveryEventIsARealCallAndTheCCompiles) {
  OpLog log = sample_log();
  log.steps.pop_back();
  uint64_t seq = 60;
  auto add = [&](const char* event, const char* arg, unsigned file = 0) {
    Step e;
    e.seq = seq++;
    e.event = event;
    e.arg = arg;
    e.file = file;
    log.steps.push_back(e);
  };
  for (const char* a : {"data-usage", "metadata", "dconvert", "mconvert", "pause-resume", "cancel"}) add("balance", a);
  for (const char* a : {"add", "remove", "replace"}) add("device", a, 1);
  add("scrub", "");
  add("defrag", "", 0);
  add("defrag", "", 3);  // no step uses file 3
  add("snapshot", "");
  add("sync", "");
  add("drop-caches", "");
  Failure f = data_failure();
  f.check["file"] = 0;
  const std::string c = make_repro(log, f);
  for (const char* call : {"BTRFS_IOC_SCRUB", "BTRFS_IOC_DEFRAG_RANGE", "BTRFS_IOC_SNAP_CREATE_V2",
                           "BTRFS_IOC_SNAP_DESTROY", "BTRFS_BALANCE_CTL_PAUSE", "BTRFS_BALANCE_CTL_CANCEL",
                           "BTRFS_BALANCE_RESUME", "dev(nd, BTRFS_IOC_DEV_REPLACE, v, spare);", "syncfs(nd);",
                           "drop_caches", "BTRFS_IOC_SUBVOL_CREATE", "spare = argc > 2 ? argv[2] : 0;",
                           "defrag of a file no step here uses"})
    EXPECT_NE(c.find(call), std::string::npos) << call;
  EXPECT_EQ(c.find("run `btrfs"), std::string::npos) << "no event is left as a comment";
  // The C is valid: a syntax check with the host's compiler, when there is one.
  if (std::system("command -v cc >/dev/null 2>&1") != 0) GTEST_SKIP() << "no cc here";
  char path[] = "/tmp/repro_test_XXXXXX.c";
  int fd = ::mkstemps(path, 2);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, c.data(), c.size()), static_cast<ssize_t>(c.size()));
  ::close(fd);
  const int rc = std::system(fmt::format("cc -fsyntax-only -Wall -Werror {} 2>&1", path).c_str());
  ::unlink(path);
  EXPECT_EQ(rc, 0) << c;
}

TEST(Repro, ChecksForEachKind) {
  Failure f = data_failure();
  f.kind = "short-read";
  f.check = {{"what", "short-read"}, {"request", 1}, {"want", 16384}};
  EXPECT_NE(make_repro(sample_log(), f).find("if (res[1] >= 0 && res[1] < 16384)"), std::string::npos);
  f.kind = "hole";
  f.check = {{"what", "hole"}, {"file", 1}, {"off", 4096}, {"len", 8192}};
  EXPECT_NE(make_repro(sample_log(), f).find("lseek(fd[1], 4096, SEEK_HOLE)"), std::string::npos);
  f.kind = "copies";
  f.check = {{"what", "copies"}, {"file", 1}, {"off", 12345}, {"len", 4096}};
  EXPECT_NE(make_repro(sample_log(), f).find("pread(fd[1], b, 4096, 12288)"), std::string::npos);
  f.kind = "eio";
  f.check = {{"what", "read-error"}, {"file", 0}, {"off", 8192}, {"len", 4096}, {"via", "dio"}};
  EXPECT_NE(make_repro(sample_log(), f).find("if (pread(fd[0], got, 4096, 8192) < 0)"), std::string::npos);
  f.check = nlohmann::json();
  EXPECT_THROW(make_repro(sample_log(), f), std::runtime_error);
}

}  // namespace
}  // namespace dt
