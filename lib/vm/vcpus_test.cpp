#include "lib/vm/vcpus.hpp"

#include <gtest/gtest.h>
#include <unistd.h>


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

// Abridged from qemu 7.2's `info lapic` for CPU 0 of a halted 6.1 guest,
// with a timer interrupt (236) requested and nothing in service.
const char* kLapicPending = R"(dumping local APIC state for CPU 0 

LVT0	 0x00010700 active-hi edge  masked                      ExtINT (vec 0)
LVTT	 0x000000ec active-hi edge                 one-shot     Fixed  (vec 236)
Timer	 DCR=0x3 (divide by 16) initial_count = 15383078 current_count = 0
SPIV	 0x000001ff APIC enabled, focus=off, spurious vec 255
ISR	 (none)
IRR	 34(level) 236 

APR 0x00 TPR 0x00 DFR 0x0f LDR 0x01 PPR 0x00
)";

TEST(Vcpus, ReadsTheLocalApicsRequestsPriorityAndTimer) {
  VcpuState c;
  ASSERT_TRUE(parse_info_lapic(kLapicPending, &c));
  EXPECT_TRUE(c.lapic_read);
  EXPECT_EQ(c.irr, (std::vector<unsigned>{34, 236}));
  EXPECT_TRUE(c.isr.empty());
  EXPECT_EQ(c.ppr, 0u);
  EXPECT_EQ(c.timer, "one-shot, 0 of 15383078 counts left");
  EXPECT_EQ(deliverable_vector(c), 236u);
  // Something of the same priority class in service holds it back.
  c.ppr = 0xe0;
  EXPECT_EQ(deliverable_vector(c), 0u);
  VcpuState untouched;
  EXPECT_FALSE(parse_info_lapic("Error: no such CPU\n", &untouched));
  EXPECT_FALSE(untouched.lapic_read);
}

TEST(Vcpus, InterruptsOffAndTheLocalApicGoIntoTheLine) {
  const auto map = SymbolMap::parse(kMap);
  auto sample = parse_info_registers(kTwoCpus);
  EXPECT_TRUE(sample[0].interrupts_on);  // RFL=246: IF is bit 9
  sample[1].interrupts_on = false;
  ASSERT_TRUE(parse_info_lapic(kLapicPending, &sample[0]));
  const auto lines = describe_vcpus({sample, sample}, map);
  EXPECT_EQ(lines[0],
            "CPU0: halted at default_idle+0x1e (2 samples, the same place every time); local APIC: requested 34 236, "
            "in service none, priority 0x0, timer one-shot, 0 of 15383078 counts left");
  EXPECT_EQ(lines[1], "CPU1: running at smp_call_function_many_cond+0x109 (2 samples, the same place every time); interrupts off");
}

TEST(Vcpus, AHaltedCpuWithAnInterruptWaitingIsTheEmulatorsLostWakeup) {
  auto sample = parse_info_registers(kTwoCpus);
  ASSERT_TRUE(parse_info_lapic(kLapicPending, &sample[0]));
  EXPECT_EQ(lost_wakeup({sample, sample, sample}),
            "CPU0 stayed halted with interrupts on in all 3 samples while vector 236 waited in its local APIC above its "
            "priority (0x0): qemu lost that CPU's wakeup (hardware takes such an interrupt at once), so this hang is the "
            "emulator's, not the guest kernel's");
  // One sample proves nothing: the interrupt may have just arrived.
  EXPECT_EQ(lost_wakeup({sample}), "");
  // Interrupts off: the guest chose not to take it (a kernel hang, if any).
  auto masked = sample;
  masked[0].interrupts_on = false;
  EXPECT_EQ(lost_wakeup({masked, masked, masked}), "");
  // Woken between samples: not lost.
  auto woke = sample;
  woke[0].halted = false;
  EXPECT_EQ(lost_wakeup({sample, woke, sample}), "");
  // Nothing requested, or only what its priority holds back: a quiet idle CPU.
  auto quiet = parse_info_registers(kTwoCpus);
  quiet[0].lapic_read = true;
  EXPECT_EQ(lost_wakeup({quiet, quiet, quiet}), "");
  auto held = sample;
  held[0].ppr = 0xf0;
  EXPECT_EQ(lost_wakeup({held, held, held}), "");
  // The local APIC read once only: not two samples of evidence.
  auto unread = parse_info_registers(kTwoCpus);
  EXPECT_EQ(lost_wakeup({unread, unread, sample}), "");
}

// The same CPU after its timer ran out and nothing became of it.
const char* kLapicExpired = R"(dumping local APIC state for CPU 0 

LVT0	 0x00010700 active-hi edge  masked                      ExtINT (vec 0)
LVTT	 0x000000ec active-hi edge                 one-shot     Fixed  (vec 236)
Timer	 DCR=0x3 (divide by 16) initial_count = 15383078 current_count = 0
ISR	 (none)
IRR	 (none)

APR 0x00 TPR 0x00 DFR 0x0f LDR 0x01 PPR 0x00
)";

TEST(Vcpus, AHaltedCpuWhoseArmedTimerRanOutUnraisedIsTheEmulatorsLostWakeup) {
  auto sample = parse_info_registers(kTwoCpus);
  ASSERT_TRUE(parse_info_lapic(kLapicExpired, &sample[0]));
  EXPECT_EQ(sample[0].timer_mode, "one-shot");
  EXPECT_FALSE(sample[0].timer_masked);
  EXPECT_EQ(sample[0].timer_initial, 15383078u);
  EXPECT_EQ(sample[0].timer_current, 0u);
  EXPECT_EQ(lost_wakeup({sample, sample, sample}),
            "CPU0 stayed halted with interrupts on in all 3 samples while its local APIC timer had run out (one-shot, 0 "
            "of 15383078 counts left, unmasked) with no interrupt requested or in service: qemu never raised that "
            "timer's interrupt (the guest masks a timer it no longer needs and reprograms one that fired), so this hang "
            "is the emulator's, not the guest kernel's");
  // What Linux leaves on a CPU that needs no ticks: masked and stopped.
  auto stopped = sample;
  stopped[0].timer_masked = true;
  stopped[0].timer_initial = 0;
  EXPECT_EQ(lost_wakeup({stopped, stopped, stopped}), "");
  // Still counting down: it will fire.
  auto counting = sample;
  counting[0].timer_current = 1000;
  EXPECT_EQ(lost_wakeup({counting, counting, counting}), "");
  // Expired in one sample only: qemu's timer callback may just be due.
  EXPECT_EQ(lost_wakeup({sample, sample, counting}), "");
  // Its interrupt is in service: the guest is handling it.
  auto serving = sample;
  serving[0].isr = {236};
  EXPECT_EQ(lost_wakeup({serving, serving, serving}), "");
  // A periodic timer reloads itself; a masked one raises nothing by design.
  auto periodic = sample;
  periodic[0].timer_mode = "periodic";
  EXPECT_EQ(lost_wakeup({periodic, periodic, periodic}), "");
  auto masked = sample;
  masked[0].timer_masked = true;
  EXPECT_EQ(lost_wakeup({masked, masked, masked}), "");
}

TEST(Vcpus, AGuestQemuStoppedIsNotAKernelHang) {
  EXPECT_EQ(parse_vm_status("VM status: running\r\n"), "running");
  EXPECT_EQ(parse_vm_status("VM status: paused (io-error)\r\n"), "paused (io-error)");
  EXPECT_EQ(parse_vm_status("Error: unknown command\r\n"), "");
  EXPECT_EQ(stopped_by_qemu("running"), "");
  EXPECT_EQ(stopped_by_qemu(""), "");
  EXPECT_EQ(stopped_by_qemu("paused (io-error)"),
            "qemu had stopped the guest (VM status: paused (io-error)): a write to one of its disk images failed on the "
            "host, most often a full file system under $TMPDIR; the guest kernel did not hang, free space and run again");
  EXPECT_EQ(stopped_by_qemu("paused (internal-error)"),
            "qemu had stopped the guest (VM status: paused (internal-error)): its CPUs were not running, so this is not "
            "a hang of the guest kernel");
}

TEST(Vcpus, QemusHostThreadsWithTheirStateAndCpuTime) {
  std::vector<HostThread> before = {{100, "qemu-system-x86", 'S', 50, "do_sys_poll"},
                                    {101, "qemu-system-x86", 'S', 7, "futex_wait_queue"},
                                    {102, "CPU 0/TCG", 'S', 400, "futex_wait_queue"},
                                    {103, "CPU 1/TCG", 'R', 900, ""}};
  auto after = before;
  after[0].cpu_ticks = 51;
  after[1].cpu_ticks = 9;
  after[3].cpu_ticks = 1098;
  EXPECT_EQ(describe_host_threads(before, after, 2.04, 100),
            "qemu's threads on the host, over 2.0 s: main qemu-system-x86 sleeping in do_sys_poll, 0.01 s CPU; "
            "CPU 0/TCG sleeping in futex_wait_queue, 0.00 s CPU; CPU 1/TCG running, 1.98 s CPU; 1 other thread 0.02 s CPU");
  EXPECT_EQ(describe_host_threads(before, {}, 2.0, 100), "");
}

TEST(Vcpus, AMonitorThatIsNotThereAnswersNothingAndSaysWhy) {
  EXPECT_EQ(qmp_human_command("/nonexistent/qmp.sock", "info registers -a", 100), "");
  QmpClient absent("/nonexistent/qmp.sock", 100);
  EXPECT_FALSE(absent.ok());
  EXPECT_EQ(absent.failure(), "connect: No such file or directory");
  // The evidence still has the host's side, and says why the monitor's is missing.
  const HangEvidence e = gather_hang_evidence("/nonexistent/qmp.sock", ::getpid(), 2);
  EXPECT_TRUE(e.samples.empty());
  ASSERT_EQ(e.monitor_failures.size(), 2u);
  EXPECT_EQ(e.monitor_failures[0], "sample 1: connect: No such file or directory");
  EXPECT_FALSE(e.threads_after.empty());
  EXPECT_EQ(e.threads_after[0].tid, ::getpid());
  // A socket path longer than sun_path can hold is never tried (qemu could not bind it).
  const std::string too_long = "/var/tmp/" + std::string(120, 'x') + "/qmp.sock";
  EXPECT_FALSE(qmp_socket_fits(too_long));
  EXPECT_TRUE(qmp_socket_fits("/var/tmp/diotorture-vm.AbCdEf/qmp.sock"));
  EXPECT_EQ(qmp_human_command(too_long, "info registers -a", 100), "");
}

}  // namespace
}  // namespace dt
