#include "lib/vm/vm.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace dt
