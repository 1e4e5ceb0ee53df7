#include "lib/torture/events.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "lib/btrfs/scratch.hpp"

namespace dt {
namespace {

using K = DeviceAction::Kind;

// Plays actions on a device list the way the kernel would change it.
std::vector<std::string> apply(std::vector<std::string> members, const std::vector<DeviceAction>& actions,
                               size_t* fewest) {
  for (const auto& a : actions) {
    if (a.kind == K::Add) members.push_back(a.dev);
    if (a.kind == K::Remove) std::erase(members, a.dev);
    if (a.kind == K::Replace) std::replace(members.begin(), members.end(), a.dev, a.to);
    *fewest = std::min(*fewest, members.size());
  }
  return members;
}

TEST(DeviceEvents, EachKindThenRestoreGivesBackTheDevices) {
  const std::vector<std::string> raid1 = {"/dev/loop1", "/dev/loop2"};
  for (const char* arg : {"add", "remove", "replace"}) {
    for (unsigned target : {0u, 1u, 7u}) {
      auto there = plan_device_event(arg, raid1, "/dev/loop9", target);
      ASSERT_FALSE(there.empty()) << arg;
      size_t fewest = raid1.size();
      auto mid = apply(raid1, there, &fewest);
      // The profile's minimum (raid1: 2 devices) holds at every step: the
      // spare comes in before anything goes out.
      EXPECT_GE(fewest, raid1.size()) << arg;
      EXPECT_NE(std::find(mid.begin(), mid.end(), "/dev/loop9"), mid.end()) << arg << ": the spare is used";
      auto back = plan_restore(mid, raid1);
      auto end = apply(mid, back, &fewest);
      EXPECT_GE(fewest, raid1.size()) << arg;
      std::sort(end.begin(), end.end());
      EXPECT_EQ(end, raid1) << arg;
    }
  }
}

TEST(DeviceEvents, Plans) {
  const std::vector<std::string> m = {"/dev/loop1", "/dev/loop2", "/dev/loop3"};
  EXPECT_EQ(plan_device_event("add", m, "/dev/loop9", 0), (std::vector<DeviceAction>{{K::Add, "/dev/loop9", ""}}));
  EXPECT_EQ(plan_device_event("remove", m, "/dev/loop9", 4),
            (std::vector<DeviceAction>{{K::Add, "/dev/loop9", ""}, {K::Remove, "/dev/loop2", ""}}));
  EXPECT_EQ(plan_device_event("replace", m, "/dev/loop9", 2),
            (std::vector<DeviceAction>{{K::Replace, "/dev/loop3", "/dev/loop9"}}));
  // Nothing with no spare, a spare that is already in, or an unknown kind.
  EXPECT_TRUE(plan_device_event("add", m, "", 0).empty());
  EXPECT_TRUE(plan_device_event("add", m, "/dev/loop2", 0).empty());
  EXPECT_TRUE(plan_device_event("shrink", m, "/dev/loop9", 0).empty());
  EXPECT_TRUE(plan_device_event("remove", {}, "/dev/loop9", 0).empty());
  // Restore: missing originals first (added), then the spares (removed).
  EXPECT_EQ(plan_restore({"/dev/loop9", "/dev/loop2"}, {"/dev/loop1", "/dev/loop2"}),
            (std::vector<DeviceAction>{{K::Add, "/dev/loop1", ""}, {K::Remove, "/dev/loop9", ""}}));
  EXPECT_TRUE(plan_restore(m, m).empty());
  EXPECT_EQ(describe(DeviceAction{K::Replace, "/dev/loop1", "/dev/loop9"}), "replace /dev/loop1 with /dev/loop9");
}

TEST(DeviceEvents, NeverBelowAnyProfileMinimum) {
  // On every profile's device count the event keeps at least as many devices
  // as the filesystem had, so the minimum that made it valid still holds.
  for (const auto& p : profile_specs()) {
    std::vector<std::string> members;
    for (unsigned i = 0; i < p.loop_devices; ++i) members.push_back("/dev/loop" + std::to_string(i));
    for (const char* arg : {"add", "remove", "replace"}) {
      size_t fewest = members.size();
      auto mid = apply(members, plan_device_event(arg, members, "/dev/loop99", 1), &fewest);
      apply(mid, plan_restore(mid, members), &fewest);
      EXPECT_GE(fewest, p.min_devices) << p.name << " " << arg;
    }
  }
}

}  // namespace
}  // namespace dt
