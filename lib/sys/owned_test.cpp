#include "lib/sys/owned.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
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

TEST(StateDir, TrustedOnlyIfOursAndWritableByNoOneElse) {
  struct stat st {};
  st.st_mode = S_IFDIR | 0700;
  st.st_uid = 0;
  EXPECT_EQ("", why_untrusted_dir(st, 0));
  st.st_mode = S_IFDIR | 0755;
  EXPECT_EQ("", why_untrusted_dir(st, 0));
  st.st_mode = S_IFDIR | 01777;  // /var/tmp itself
  EXPECT_NE(std::string::npos, why_untrusted_dir(st, 0).find("writable by group or others"));
  st.st_mode = S_IFDIR | 0770;
  EXPECT_NE("", why_untrusted_dir(st, 0));
  st.st_mode = S_IFDIR | 0700;
  st.st_uid = 65534;  // made by nobody before root came
  EXPECT_NE(std::string::npos, why_untrusted_dir(st, 0).find("owned by uid 65534"));
  st.st_uid = 0;
  st.st_mode = S_IFLNK | 0777;
  EXPECT_EQ("is a symbolic link", why_untrusted_dir(st, 0));
  st.st_mode = S_IFREG | 0600;
  EXPECT_EQ("is not a directory", why_untrusted_dir(st, 0));
}

TEST(StateDir, RefusesADirectoryAnotherUserOwnsOrASymlink) {
  char tmpl[] = "/tmp/owned-state.XXXXXX";
  ASSERT_NE(nullptr, ::mkdtemp(tmpl));
  const std::filesystem::path base = tmpl;
  std::filesystem::create_directory(base / "open");
  std::filesystem::permissions(base / "open", std::filesystem::perms::all);  // 0777
  std::filesystem::create_directory_symlink(base / "open", base / "link");
  for (const char* name : {"open", "link"}) {
    ::setenv("DIOTORTURE_STATE_DIR", (base / name).c_str(), 1);
    EXPECT_THROW(state_dir_fd(), SetupError) << name;
  }
  ::setenv("DIOTORTURE_STATE_DIR", (base / "new").c_str(), 1);
  EXPECT_GE(state_dir_fd(), 0);  // made 0700 by us
  EXPECT_EQ(std::filesystem::perms::owner_all,
            std::filesystem::status(base / "new").permissions() & std::filesystem::perms::mask);
  ::unsetenv("DIOTORTURE_STATE_DIR");
  std::filesystem::remove_all(base);
}

TEST(RecordNames, OnlyTheToolsOwn) {
  EXPECT_TRUE(is_record_name("1234.5678.json"));
  EXPECT_FALSE(is_record_name("1234.json"));
  EXPECT_FALSE(is_record_name("../x.1.json"));
  EXPECT_FALSE(is_record_name("1.1.json.tmp"));
  EXPECT_TRUE(is_tool_dir_name("diotorture.aB3dE9"));
  EXPECT_TRUE(is_tool_dir_name("diotorture-vm.aB3dE9"));
  EXPECT_FALSE(is_tool_dir_name("diotorture.aB3d"));
  EXPECT_FALSE(is_tool_dir_name("home"));
  EXPECT_FALSE(is_tool_dir_name("diotorture-../x.aB3dE9"));
}

nlohmann::json record(const std::string& owner, nlohmann::json items) {
  return {{"kind", "diotorture-owned"}, {"owner", owner}, {"items", std::move(items)}};
}

TEST(CheckRecord, TheIssuesPlantedRecordReclaimsNothing) {
  RecordCheck rc;
  auto j = record("1.1", {{{"kind", "image"}, {"path", "/some/file"}}, {{"kind", "workdir"}, {"path", "/some/dir"}}});
  EXPECT_EQ("", check_record(j, "1.1", &rc));
  EXPECT_TRUE(rc.items.empty());
  ASSERT_EQ(2u, rc.refused.size());
  EXPECT_EQ("image /some/file: not inside a directory the record named first", rc.refused[0]);
  EXPECT_NE(std::string::npos, rc.refused[1].find("not a directory name the tool makes"));
}

TEST(CheckRecord, WholeRecordRefusedOnWrongKindOrOwner) {
  RecordCheck rc;
  EXPECT_NE("", check_record(nlohmann::json::array(), "1.1", &rc));
  EXPECT_NE("", check_record({{"kind", "x"}, {"owner", "1.1"}, {"items", nlohmann::json::array()}}, "1.1", &rc));
  EXPECT_NE("", check_record(record("2.2", nlohmann::json::array()), "1.1", &rc));
  EXPECT_NE("", check_record(record("1.1", nlohmann::json::array()), "x", &rc));
  EXPECT_NE("", check_record({{"kind", "diotorture-owned"}, {"owner", "1.1"}}, "1.1", &rc));
}

TEST(CheckRecord, ARealRunsRecordIsKeptWhole) {
  RecordCheck rc;
  const std::string d = "/var/tmp/diotorture.Ab12Cd";
  auto j = record("77.88", {{{"kind", "tracefs"}, {"path", "diotorture-77.88-"}},
                            {{"kind", "dir"}, {"path", d}},
                            {{"kind", "image"}, {"path", d + "/scratch0.img"}},
                            {{"kind", "loop"}, {"path", "/dev/loop3"}, {"device", d + "/scratch0.img"}},
                            {{"kind", "mount"}, {"path", d + "/mnt"}, {"device", "/dev/loop3"}, {"mount_id", 99}}});
  EXPECT_EQ("", check_record(j, "77.88", &rc));
  EXPECT_TRUE(rc.refused.empty()) << rc.refused.front();
  ASSERT_EQ(5u, rc.items.size());
  EXPECT_FALSE(rc.needs_label[4]);
  // A pool filesystem on a --scratch-mnt: only its label can claim it.
  auto pool = record("77.88", {{{"kind", "mount"}, {"path", "/mnt/scratch"}, {"device", "/dev/sdb"}, {"mount_id", 9}}});
  RecordCheck p;
  EXPECT_EQ("", check_record(pool, "77.88", &p));
  ASSERT_EQ(1u, p.items.size());
  EXPECT_TRUE(p.needs_label[0]);
}

TEST(CheckRecord, EachEscapeIsRefused) {
  const std::string d = "/var/tmp/diotorture.Ab12Cd";
  const nlohmann::json dir = {{"kind", "dir"}, {"path", d}};
  // Each case: the tool's directory, then one item that reaches outside it.
  const std::vector<nlohmann::json> bad = {
      {{"kind", "image"}, {"path", d + "/../etc/passwd"}},                         // .. out of it
      {{"kind", "image"}, {"path", d + "x/scratch0.img"}},                         // a sibling with the same prefix
      {{"kind", "dir"}, {"path", "/etc"}},                                         // not a tool name
      {{"kind", "workdir"}, {"path", "diotorture.Ab12Cd"}},                        // relative
      {{"kind", "loop"}, {"path", "/dev/sda"}, {"device", d + "/x.img"}},          // not a loop device
      {{"kind", "loop"}, {"path", "/dev/loop0"}, {"device", "/home/u/disk.img"}},  // someone else's image
      {{"kind", "tracefs"}, {"path", "diotorture-"}},                              // every run's instances
      {{"kind", "tracefs"}, {"path", ""}},                                         // every instance
      {{"kind", "rm"}, {"path", "/"}},                                             // unknown
      {{"kind", "image"}, {"path", 5}},                                            // malformed
  };
  for (const auto& item : bad) {
    RecordCheck rc;
    EXPECT_EQ("", check_record(record("1.1", {dir, item}), "1.1", &rc));
    EXPECT_EQ(1u, rc.items.size()) << item.dump();
    EXPECT_EQ(1u, rc.refused.size()) << item.dump();
  }
  // Recorded first means first: an image named before its directory.
  RecordCheck rc;
  EXPECT_EQ("", check_record(record("1.1", {{{"kind", "image"}, {"path", d + "/scratch0.img"}}, dir}), "1.1", &rc));
  EXPECT_EQ(1u, rc.refused.size());
}

}  // namespace
}  // namespace dt
