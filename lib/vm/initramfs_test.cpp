#include "lib/vm/initramfs.hpp"

#include <gtest/gtest.h>

namespace dt {
namespace {

TEST(Cpio, NewcHeaderNamePaddingAndTrailer) {
  CpioWriter w;
  w.add_file("/init", "#!/bin/sh\n", 0755);
  std::string a = w.finish();
  // magic, ino 1, mode 0100755, uid, gid, nlink 1, mtime, filesize 10, ..., namesize 5 ("init" + NUL).
  EXPECT_EQ(a.substr(0, 6), "070701");
  EXPECT_EQ(a.substr(6, 8), "00000001");
  EXPECT_EQ(a.substr(14, 8), "000081ED");
  EXPECT_EQ(a.substr(54, 8), "0000000A");
  EXPECT_EQ(a.substr(94, 8), "00000005");
  // 110-byte header + "init\0" = 115, padded to 116; data 10 bytes padded to 12.
  EXPECT_EQ(a.substr(110, 5), std::string("init\0", 5));
  EXPECT_EQ(a.substr(116, 10), "#!/bin/sh\n");
  EXPECT_NE(a.find("TRAILER!!!"), std::string::npos);
  EXPECT_EQ(a.size() % 4, 0u);
}

TEST(Ldd, LibrariesAndInterpreter) {
  auto libs = parse_ldd(
      "\tlinux-vdso.so.1 (0x00007ffd)\n"
      "\tliburing.so.2 => /lib/x86_64-linux-gnu/liburing.so.2 (0x00007f56)\n"
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f56)\n"
      "\t/lib64/ld-linux-x86-64.so.2 (0x00007f56)\n");
  EXPECT_EQ(libs, (std::vector<std::string>{"/lib/x86_64-linux-gnu/liburing.so.2", "/lib/x86_64-linux-gnu/libc.so.6",
                                            "/lib64/ld-linux-x86-64.so.2"}));
  EXPECT_TRUE(parse_ldd("\tnot a dynamic executable\n").empty());
}

TEST(ShowDepends, LoadOrderWithoutParametersOrBuiltins) {
  auto mods = parse_show_depends(
      "insmod /k/lib/modules/6.1.0/kernel/lib/libcrc32c.ko \n"
      "builtin crc32c\n"
      "insmod /k/lib/modules/6.1.0/kernel/fs/btrfs/btrfs.ko.xz foo=1\n");
  EXPECT_EQ(mods, (std::vector<std::string>{"/k/lib/modules/6.1.0/kernel/lib/libcrc32c.ko",
                                            "/k/lib/modules/6.1.0/kernel/fs/btrfs/btrfs.ko.xz"}));
}

}  // namespace
}  // namespace dt
