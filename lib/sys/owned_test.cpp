#include "lib/sys/owned.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "lib/sys/sys.hpp"

namespace dt {
namespace {

TEST(Owner, ThisProcessIsAliveAndAReusedPidIsNot) {
  EXPECT_EQ(0u, owner_token().rfind(std::to_string(::getpid()) + ".", 0));
  EXPECT_TRUE(owner_alive(owner_token()));
  // Same pid, another start time: the pid was reused, the owner is gone.
  const std::string pid = owner_token().substr(0, owner_token().find('.'));
  EXPECT_FALSE(owner_alive(pid + ".1"));
  EXPECT_FALSE(owner_alive("999999999.5"));
  EXPECT_TRUE(owner_alive("not-a-token"));  // unknown format: never reclaimed
}

TEST(OwnedItem, JsonRoundTrip) {
  OwnedItem i{"mount", "/var/tmp/diotorture.x/mnt", "/dev/loop3", 42};
  OwnedItem j = OwnedItem::from_json(i.to_json());
  EXPECT_EQ(i.kind, j.kind);
  EXPECT_EQ(i.path, j.path);
  EXPECT_EQ(i.device, j.device);
  EXPECT_EQ(42u, j.mount_id);
}

TEST(OwnedRecord, FileListsLiveItemsAndGoesWithTheLast) {
  char tmpl[] = "/tmp/owned-test.XXXXXX";
  ASSERT_NE(nullptr, ::mkdtemp(tmpl));
  ::setenv("DIOTORTURE_STATE_DIR", tmpl, 1);
  const auto file = std::filesystem::path(tmpl) / (owner_token() + ".json");
  {
    Owned a({"dir", "/nonexistent/a"});
    Owned b({"image", "/nonexistent/a/b.img"});
    auto j = nlohmann::json::parse(read_file(file));
    EXPECT_EQ(owner_token(), j["owner"]);
    ASSERT_EQ(2u, j["items"].size());
    b.release();
    j = nlohmann::json::parse(read_file(file));
    ASSERT_EQ(1u, j["items"].size());
    EXPECT_EQ("dir", j["items"][0]["kind"]);
  }
  EXPECT_FALSE(std::filesystem::exists(file));
  ::unsetenv("DIOTORTURE_STATE_DIR");
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace dt
