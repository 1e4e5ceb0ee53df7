#include "lib/harness/kcidb.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "lib/sys/sys.hpp"

namespace dt {
namespace {

using nlohmann::json;

json run_summary() {
  return json::parse(R"J({
    "run_id": "2026-12-07T21-00-00", "hostname": "ci1", "kernel": "6.1.0-50-amd64", "tool_version": "v1-2-gabc",
    "started": "2026-12-07T21:00:00Z", "seed": 1, "profile": "single",
    "cases": [
      {"id": "append-unfaulted-buffer", "status": "known", "reason": "size 8192 after a 4096 append",
       "duration_s": 1.5, "failures": ["size 8192 after a 4096 append"], "kernel_log": [], "notes": ["known failure"],
       "hint": "fixed upstream by ff66fe666233", "combinations": {}},
      {"id": "dio-mmap-same-range", "status": "fail", "reason": "x", "duration_s": 3,
       "failures": ["x"], "combinations": {"nocow/sizes=4k,ops=write": true, "datasum/sizes=64k,ops=read": false}},
      {"id": "selftest-hang", "status": "hang", "reason": "stuck", "duration_s": 10},
      {"id": "nowait-write", "status": "notrun", "reason": "io_uring disabled"},
      {"id": "st-blocks-overwrite", "status": "notrun", "reason": "not run: the run was interrupted (SIGINT)"},
      {"id": "fsync-extend-prealloc", "status": "pass", "duration_s": 0.2}
    ],
    "torture": {"subruns": [
      {"seed": 3, "sub_run": 0, "torture_seed": 3, "status": "fail", "seconds": 2.5, "signature": "data in pwrite: fN",
       "repro": "/r/repro.c", "failure": {"seq": 7, "kind": "data", "op": "pwrite", "msg": "f0 bad"}},
      {"seed": 4, "sub_run": 0, "torture_seed": 4, "status": "pass", "seconds": 1}
    ]},
    "bench": [{"label": "a", "run_id": "r", "cells": [{"op": "read", "engine": "psync", "target": "nocow",
               "block_size": 1048576, "mib_per_s": {"median": 812.5}}]}]
  })J");
}

const KcidbIds kIds{"my_lab", "my_lab:co1", "kernelci:build-7"};

TEST(Kcidb, ReportValidatesAndMapsStatuses) {
  json doc = kcidb_report(kIds, run_summary());
  EXPECT_EQ(kcidb_problems(doc), std::vector<std::string>{}) << doc.dump(2);
  EXPECT_EQ(doc["version"]["major"], 5);
  EXPECT_EQ(doc["version"]["minor"], 3);
  ASSERT_EQ(doc["checkouts"].size(), 1u);
  EXPECT_EQ(doc["builds"][0]["checkout_id"], "my_lab:co1");
  std::map<std::string, std::string> status;
  for (const auto& t : doc["tests"]) {
    EXPECT_EQ(t["build_id"], "kernelci:build-7");
    EXPECT_EQ(t["origin"], "my_lab");
    EXPECT_EQ(t["id"].get<std::string>().rfind("my_lab:ci1.2026-12-07T21-00-00.", 0), 0u) << t["id"];
    status[t["path"]] = t["status"];
  }
  EXPECT_EQ(status["diotorture.append-unfaulted-buffer"], "FAIL");
  EXPECT_EQ(status["diotorture.dio-mmap-same-range"], "FAIL");
  EXPECT_EQ(status["diotorture.dio-mmap-same-range.nocow_sizes_4k_ops_write"], "PASS");
  EXPECT_EQ(status["diotorture.dio-mmap-same-range.datasum_sizes_64k_ops_read"], "FAIL");
  EXPECT_EQ(status["diotorture.selftest-hang"], "ERROR");
  EXPECT_EQ(status["diotorture.nowait-write"], "SKIP");
  EXPECT_EQ(status["diotorture.st-blocks-overwrite"], "MISS");
  EXPECT_EQ(status["diotorture.fsync-extend-prealloc"], "PASS");
  EXPECT_EQ(status["diotorture.bench.read-psync-nocow"], "DONE");
  // Two torture sub-runs share a path and get distinct ids.
  std::set<std::string> ids;
  unsigned torture = 0;
  for (const auto& t : doc["tests"]) {
    ids.insert(t["id"].get<std::string>());
    if (t["path"] == "diotorture.torture") {
      ++torture;
      EXPECT_TRUE(t["misc"].contains("seed"));
      EXPECT_EQ(t["misc"]["tool_version"], "v1-2-gabc");
    }
  }
  EXPECT_EQ(torture, 2u);
  EXPECT_EQ(ids.size(), doc["tests"].size());
}

TEST(Kcidb, ExcerptIsCutToTheSchemaLimit) {
  json s = run_summary();
  s["cases"][0]["reason"] = std::string(20000, 'x') + std::string("\0y", 2) + "\xc3\xa9";
  json doc = kcidb_report(kIds, s);
  EXPECT_EQ(kcidb_problems(doc), std::vector<std::string>{});
  EXPECT_LE(doc["tests"][0]["log_excerpt"].get<std::string>().size(), 16384u);
}

// The validator itself: each rule the schema states, shown failing.
TEST(Kcidb, ValidatorFindsEachViolation) {
  const json good = kcidb_report(kIds, run_summary());
  auto problems_after = [&](const std::function<void(json&)>& mutate) {
    json d = good;
    mutate(d);
    auto p = kcidb_problems(d);
    return p.empty() ? std::string() : p.front();
  };
  EXPECT_NE(problems_after([](json& d) { d.erase("version"); }), "");
  EXPECT_NE(problems_after([](json& d) { d["version"]["major"] = 4; }), "");
  EXPECT_NE(problems_after([](json& d) { d["version"]["minor"] = 4; }), "");
  EXPECT_NE(problems_after([](json& d) { d["version"]["major"] = "5"; }), "");
  EXPECT_NE(problems_after([](json& d) { d["extra"] = 1; }), "");
  EXPECT_NE(problems_after([](json& d) { d["checkouts"][0].erase("origin"); }), "");
  EXPECT_NE(problems_after([](json& d) { d["checkouts"][0]["id"] = "no-colon"; }), "");
  EXPECT_NE(problems_after([](json& d) { d["checkouts"][0]["origin"] = "My-Lab"; }), "");
  EXPECT_NE(problems_after([](json& d) { d["checkouts"][0]["git_commit_hash"] = "abc"; }), "");
  EXPECT_NE(problems_after([](json& d) { d["builds"][0].erase("checkout_id"); }), "");
  EXPECT_NE(problems_after([](json& d) { d["builds"][0]["architecture"] = "X86-64"; }), "");
  EXPECT_NE(problems_after([](json& d) { d["builds"][0]["status"] = "BROKEN"; }), "");
  EXPECT_NE(problems_after([](json& d) { d["tests"][0].erase("build_id"); }), "");
  EXPECT_NE(problems_after([](json& d) { d["tests"][0]["status"] = "pass"; }), "");
  EXPECT_NE(problems_after([](json& d) { d["tests"][0]["path"] = "diotorture.a/b"; }), "");
  EXPECT_NE(problems_after([](json& d) { d["tests"][0]["path"] = "diotorture..x"; }), "");
  EXPECT_NE(problems_after([](json& d) { d["tests"][0]["duration"] = "1.5"; }), "");
  EXPECT_NE(problems_after([](json& d) { d["tests"][0]["misc"] = "x"; }), "");
  EXPECT_NE(problems_after([](json& d) { d["tests"][0]["start_time"] = "yesterday"; }), "");
  EXPECT_NE(problems_after([](json& d) { d["tests"][0]["log_excerpt"] = std::string(16385, 'x'); }), "");
  EXPECT_NE(problems_after([](json& d) { d["tests"][0]["log_excerpt"] = std::string("a\0b", 3); }), "");
  EXPECT_NE(problems_after([](json& d) { d["tests"][0]["misc"]["x"] = nullptr; }), "");
  EXPECT_NE(problems_after([](json& d) { d["tests"][0]["result"] = "PASS"; }), "");
  EXPECT_NE(problems_after([](json& d) { d["tests"][0]["number"] = json{{"unit", "s"}}; }), "");
  EXPECT_NE(problems_after([](json& d) { d["tests"][0]["environment"] = json{{"host", "x"}}; }), "");
  EXPECT_EQ(problems_after([](json& d) { d["tests"][0]["start_time"] = "2020-08-14T23:08:06.967000+00:00"; }), "");
  EXPECT_EQ(problems_after([](json& d) { d["tests"][0]["path"] = ""; }), "") << "the empty path is the root";
  EXPECT_EQ(problems_after([](json& d) { d.erase("checkouts"); }), "") << "every list may be missing";
}

TEST(Kcidb, IdsFromFlagsEnvironmentOrDefaults) {
  ::unsetenv("KCIDB_ORIGIN");
  ::unsetenv("KCIDB_CHECKOUT_ID");
  ::unsetenv("KCIDB_BUILD_ID");
  KcidbIds d = kcidb_ids("", "", "", "6.18.0");
  EXPECT_EQ(d.origin, "diotorture");
  EXPECT_EQ(d.build_id, "diotorture:6.18.0");
  ::setenv("KCIDB_ORIGIN", "lab_a", 1);
  ::setenv("KCIDB_BUILD_ID", "kernelci:b1", 1);
  KcidbIds e = kcidb_ids("", "", "", "6.18.0");
  EXPECT_EQ(e.origin, "lab_a");
  EXPECT_EQ(e.checkout_id, "lab_a:6.18.0");
  EXPECT_EQ(e.build_id, "kernelci:b1");
  EXPECT_EQ(kcidb_ids("lab_b", "", "lab_b:x", "6.18.0").build_id, "lab_b:x") << "a flag wins";
  EXPECT_THROW(kcidb_ids("Lab-B", "", "", "r"), SetupError);
  EXPECT_THROW(kcidb_ids("", "", "nocolon", "r"), SetupError);
  ::unsetenv("KCIDB_ORIGIN");
  ::unsetenv("KCIDB_BUILD_ID");
}

TEST(Kcidb, PathPart) {
  EXPECT_EQ(kcidb_path_part("nocow/size=64K,op=write"), "nocow_size_64K_op_write");
  EXPECT_EQ(kcidb_path_part(""), "_");
}

}  // namespace
}  // namespace dt
