#include "lib/vm/vcpus.hpp"

#include <gtest/gtest.h>


namespace dt {
namespace {

// Abridged from qemu 7.2's `info registers -a` on a two-CPU x86_64 guest.
const char* kTwoCpus = R"(
CPU#0
RAX=0000000000000000 RBX=ffffffff8261a940 RCX=0000000000000001 RDX=0000000000001a2e
RIP=ffffffff81a0126e RFL=00000246 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=1
ES =0000 0000000000000000 00000000 00000000

CPU#1
RAX=0000000000000001 RBX=ffff888003c0a000 RCX=0000000000000000 RDX=0000000000000000
RIP=ffffffff8113f6a9 RFL=00000202 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=0
)";

const char* kMap =
    "ffffffff81000000 T _text\n"
    "ffffffff8113f5a0 T smp_call_function_many_cond\n"
    "ffffffff8113f9c0 D some_data\n"
    "ffffffff8113fa00 t smp_call_function_single\n"
    "ffffffff81a01250 T default_idle\n"
    "ffffffff81a01280 T _etext\n";

TEST(Vcpus, ParsesEachCpusInstructionPointerAndHaltState) {
  const auto cpus = parse_info_registers(kTwoCpus);
  ASSERT_EQ(cpus.size(), 2u);
  EXPECT_EQ(cpus[0].cpu, 0u);
  EXPECT_EQ(cpus[0].rip, 0xffffffff81a0126eull);
  EXPECT_TRUE(cpus[0].halted);
  EXPECT_EQ(cpus[1].rip, 0xffffffff8113f6a9ull);
  EXPECT_FALSE(cpus[1].halted);
  EXPECT_EQ(cpus[1].cpl, 0u);
}

TEST(Vcpus, ReadsEipBeforeLongModeAndNothingFromOtherText) {
  const auto cpus = parse_info_registers("CPU#0\nEIP=0000fff0 EFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=0\n");
  ASSERT_EQ(cpus.size(), 1u);
  EXPECT_EQ(cpus[0].rip, 0xfff0u);
  EXPECT_TRUE(parse_info_registers("").empty());
  EXPECT_TRUE(parse_info_registers("Error: no CPU\n").empty());
  // A register named like the key's tail (XRIP=) is not the key.
  EXPECT_TRUE(parse_info_registers("CPU#0\nXRIP=0000000000001234\n").empty());
}

TEST(Vcpus, NamesAddressesByTheTextSymbolBelowThem) {
  const auto map = SymbolMap::parse(kMap);
  EXPECT_EQ(map.describe(0xffffffff8113f6a9ull), "smp_call_function_many_cond+0x109");
  // Data symbols are skipped: this address is still in the function before.
  EXPECT_EQ(map.describe(0xffffffff8113f9d0ull), "smp_call_function_many_cond+0x430");
  EXPECT_EQ(map.describe(0xffffffff8113fa00ull), "smp_call_function_single+0x0");
  // Below every symbol: the bare address.
  EXPECT_EQ(map.describe(0x1000), "0x1000");
  EXPECT_TRUE(SymbolMap::parse("").empty());
}

TEST(Vcpus, NamesModuleCodeAndIgnoresHiddenAddresses) {
  // /proc/kallsyms: module symbols carry their module; without the right to
  // see addresses every one reads as zero, which names nothing.
  const auto map = SymbolMap::parse(
      "ffffffffc0400000 t btrfs_direct_write\t[btrfs]\n"
      "ffffffffc0400400 T btrfs_dio_iomap_begin\t[btrfs]\n"
      "0000000000000000 T hidden_symbol\n");
  EXPECT_EQ(map.describe(0xffffffffc0400010ull), "btrfs_direct_write+0x10 [btrfs]");
  EXPECT_EQ(map.describe(0xffffffffc0400400ull), "btrfs_dio_iomap_begin+0x0 [btrfs]");
  // A megabyte past the last symbol is not inside it.
  EXPECT_EQ(map.describe(0xffffffffc0600000ull), "0xffffffffc0600000");
  EXPECT_TRUE(SymbolMap::parse("0000000000000000 T a\n0000000000000000 t b\n").empty());
}

TEST(Vcpus, SaysWhichCpusNeverMovedOverTheSamples) {
  const auto map = SymbolMap::parse(kMap);
  auto sample = parse_info_registers(kTwoCpus);
  auto moved = sample;
  moved[1].rip = 0xffffffff8113f6b0ull;
  const auto lines = describe_vcpus({sample, sample, moved}, map);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "CPU0: halted at default_idle+0x1e (3 samples, the same place every time)");
  EXPECT_EQ(lines[1], "CPU1: running at smp_call_function_many_cond+0x109, smp_call_function_many_cond+0x110 (3 samples)");
  auto user = sample;
  user[0].cpl = 3;
  user[0].halted = false;
  const auto mixed = describe_vcpus({sample, user}, map);
  EXPECT_EQ(mixed[0], "CPU0: halted in 1 of 2 samples, at default_idle+0x1e, user 0xffffffff81a0126e (2 samples)");
}

TEST(Vcpus, AMonitorThatIsNotThereAnswersNothing) {
  EXPECT_EQ(qmp_human_command("/nonexistent/qmp.sock", "info registers -a", 100), "");
  // A socket path longer than sun_path can hold is never tried (qemu could not bind it).
  const std::string too_long = "/var/tmp/" + std::string(120, 'x') + "/qmp.sock";
  EXPECT_FALSE(qmp_socket_fits(too_long));
  EXPECT_TRUE(qmp_socket_fits("/var/tmp/diotorture-vm.AbCdEf/qmp.sock"));
  EXPECT_EQ(qmp_human_command(too_long, "info registers -a", 100), "");
}

}  // namespace
}  // namespace dt
