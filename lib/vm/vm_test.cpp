#include "lib/vm/vm.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

namespace dt {
namespace {

TEST(GuestInit, RunsTheQuotedSubcommandOnTheResultsDisk) {
  const std::string s = guest_init_script({"run", "-p", "methods=it's"}, 2);
  EXPECT_NE(s.find("/bin/diotorture 'run' --results /results/runs '-p' 'methods=it'\\''s'"), std::string::npos) << s;
  EXPECT_NE(s.find("for s in dt-scratch0 dt-scratch1; do"), std::string::npos) << s;
  EXPECT_EQ(s.find("sysrq-trigger"), std::string::npos) << "no stack dump unless asked for";
  // The guest's symbols are on the results disk before anything can hang.
  const auto kallsyms = s.find("/proc/kallsyms >/results/kallsyms; sync");
  ASSERT_NE(kallsyms, std::string::npos) << s;
  EXPECT_LT(kallsyms, s.find("/bin/diotorture 'run'"));
}

TEST(GuestInit, DumpsBlockedTasksBeforeTheHostsDeadline) {
  const std::string s = guest_init_script({"list"}, 0, stack_dump_time(600));
  EXPECT_NE(s.find("(sleep 570; echo \"diotorture-vm: still running after 570 s"), std::string::npos) << s;
  // The task dumps are KERN_INFO: the console must take everything first.
  const auto printk = s.find("echo 8 >/proc/sys/kernel/printk"), sysrq = s.find("echo w >/proc/sysrq-trigger");
  ASSERT_NE(printk, std::string::npos);
  ASSERT_NE(sysrq, std::string::npos);
  EXPECT_LT(printk, sysrq);
  // It runs beside the subcommand, not before it.
  EXPECT_LT(s.find("sysrq-trigger) &"), s.find("/bin/diotorture"));
  EXPECT_EQ(stack_dump_time(60), 30u);
  EXPECT_EQ(stack_dump_time(1800), 1770u);
}

// A boot that reports an emulator fault is made again, up to the retries;
// a kernel's own failure (no fault) is never retried.
TEST(EmulatorRetry, BootsAgainOnlyAfterAProvenEmulatorFault) {
  std::vector<std::string> calls;
  auto boots = [&](std::vector<std::pair<int, std::string>> script) {
    size_t next = 0;
    calls.clear();
    return [&calls, script, next](const std::vector<std::string>& earlier, std::string* fault) mutable {
      calls.push_back(fmt::format("boot after {} fault(s)", earlier.size()));
      *fault = script[next].second;
      return script[next++].first;
    };
  };
  auto note = [&](unsigned attempt, const std::string& fault) { calls.push_back(fmt::format("retry {}: {}", attempt, fault)); };

  // qemu lost a wakeup, the second boot finished: its status counts.
  EXPECT_EQ(retry_emulator_faults(1, boots({{3, "lost wakeup"}, {0, ""}}), note), 0);
  EXPECT_EQ(calls, (std::vector<std::string>{"boot after 0 fault(s)", "retry 2: lost wakeup", "boot after 1 fault(s)"}));
  // A hang without that proof is the kernel's: reported, not retried.
  EXPECT_EQ(retry_emulator_faults(1, boots({{3, ""}}), note), 3);
  EXPECT_EQ(calls.size(), 1u);
  // Retries are bounded: the last faulty boot's status is the answer.
  EXPECT_EQ(retry_emulator_faults(1, boots({{3, "a"}, {3, "b"}, {0, ""}}), note), 3);
  EXPECT_EQ(calls.size(), 3u);
  // No retries asked for (crash): one boot whatever happened.
  EXPECT_EQ(retry_emulator_faults(0, boots({{3, "a"}, {0, ""}}), note), 3);
  EXPECT_EQ(calls.size(), 1u);
}

}  // namespace
}  // namespace dt
