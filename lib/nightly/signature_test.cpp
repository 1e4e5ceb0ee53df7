#include "lib/nightly/signature.hpp"

#include <gtest/gtest.h>

#include "lib/sys/sys.hpp"

namespace dt {
namespace {

TEST(Signature, TitleTakesNumbersOut) {
  EXPECT_EQ(signature_title("eio", "pwrite", "f0: O_DIRECT read-back of [0x1000,+4096) failed: EIO"),
            "eio in pwrite: fN: O_DIRECT read-back of [N,+N) failed: EIO");
  // The same bug at another offset, file and length: the same title.
  EXPECT_EQ(signature_title("eio", "pwrite", "f2: O_DIRECT read-back of [0x7f000,+12288) failed: EIO"),
            signature_title("eio", "pwrite", "f0: O_DIRECT read-back of [0x1000,+4096) failed: EIO"));
  // Another op or kind: another title.
  EXPECT_NE(signature_title("eio", "uring-write", "x"), signature_title("eio", "pwrite", "x"));
  EXPECT_NE(signature_title("data", "pwrite", "x"), signature_title("eio", "pwrite", "x"));
  // Digits inside a word stay; only the first line counts.
  EXPECT_EQ(signature_title("kernel-log", "kernel", "BTRFS error (device loop3): csum 0xdead\nmore"),
            "kernel-log in kernel: BTRFS error (device loopN): csum N");
  EXPECT_EQ(signature_title("error", "x", "a b2c 64k"), "error in x: a b2c Nk");
}

const char* kList =
    "# comment\n"
    "torture:eio:pwrite,uring-write:*O_DIRECT?read-back*EIO  6.1.0-*  seed 002 class\n"
    "torture:data:*   *   any data failure anywhere\n"
    "some-case  6.1.0-*  a case entry\n";

TEST(Signature, KnownEntriesMatchKindOpMessageAndKernel) {
  auto list = parse_known_failures(kList, "kf");
  check_signature_entries(list);
  const std::string msg = "f0: O_DIRECT read-back of [0x1000,+4096) failed: EIO";
  const KnownFailure* k = find_known_signature(list, "eio", "uring-write", msg, "6.1.0-50-amd64");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->reason, "seed 002 class");
  EXPECT_EQ(k->where, "kf:2");
  EXPECT_EQ(find_known_signature(list, "eio", "uring-write", msg, "6.18.0"), nullptr) << "another kernel";
  EXPECT_EQ(find_known_signature(list, "eio", "pread", msg, "6.1.0-50-amd64"), nullptr) << "another op";
  EXPECT_EQ(find_known_signature(list, "eio", "pwrite", "f0: page-cache read-back failed: EIO", "6.1.0-50-amd64"),
            nullptr)
      << "another message";
  EXPECT_NE(find_known_signature(list, "data", "mmap-read", "anything", "6.18.0"), nullptr);
  EXPECT_EQ(find_known_signature(list, "some-case", "x", "y", "6.1.0-50-amd64"), nullptr) << "case entries are not signatures";
}

TEST(Signature, MalformedEntryIsASetupErrorNamingTheLine) {
  for (const char* bad : {"torture:eio  * r\n", "torture::pwrite  * r\n", "torture:eio:  * r\n", "torture:eio:,:x * r\n"}) {
    auto list = parse_known_failures(bad, "kf");
    try {
      check_signature_entries(list);
      FAIL() << bad;
    } catch (const SetupError& e) {
      EXPECT_NE(std::string(e.what()).find("kf:1"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace dt
