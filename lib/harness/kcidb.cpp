#include "lib/harness/kcidb.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdlib>
#include <regex>
#include <set>

#include "lib/harness/results_doc.hpp"
#include "lib/sys/sys.hpp"
#include "lib/sys/version.hpp"

namespace dt {

using nlohmann::json;

namespace {

// The schema's own patterns (v5.0 and later).
const std::regex kOrigin("^[a-z0-9_]+$");
const std::regex kOriginId("^[a-z0-9_]+:.*$");
const std::regex kTestPath("^([a-zA-Z0-9_-]+(\\.[a-zA-Z0-9_-]+)*)?$");
const std::regex kArchitecture("^[a-z0-9_]*$");
// RFC 3339 date-time, the JSON schema "date-time" format.
const std::regex kDateTime("^\\d{4}-\\d{2}-\\d{2}[Tt]\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?([Zz]|[+-]\\d{2}:\\d{2})$");
constexpr size_t kMaxExcerpt = 16384;  // characters (code points)
const std::vector<std::string> kStatuses = {"FAIL", "ERROR", "MISS", "PASS", "DONE", "SKIP"};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// The first non-empty of flag and variable, with the name that gave it.
std::pair<std::string, std::string> pick(const std::string& flag, const char* flag_name, const char* var) {
  if (!flag.empty()) return {flag, flag_name};
  return {env(var), var};
}

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// At most kMaxExcerpt characters, no NUL, cut on a character boundary.
std::string excerpt(std::string s) {
  std::erase(s, '\0');
  if (code_points(s) <= kMaxExcerpt) return s;
  const std::string tail = "\n[... cut to fit KCIDB's log_excerpt]\n";
  size_t keep = kMaxExcerpt - tail.size(), n = 0, at = 0;
  for (; at < s.size(); ++at) {
    if ((static_cast<unsigned char>(s[at]) & 0xC0) != 0x80 && n++ == keep) break;
  }
  return s.substr(0, at) + tail;
}

std::string kcidb_status(const std::string& status, const std::string& reason) {
  if (status == "pass") return "PASS";
  if (status == "fail" || status == "known") return "FAIL";  // a known failure is still the kernel's bug
  if (status == "hang") return "ERROR";                      // the test did not complete
  // Not run because the run stopped early: the harness's doing, not the case's.
  if (status == "notrun") return reason.rfind("not run: the run was", 0) == 0 ? "MISS" : "SKIP";
  return "ERROR";
}

json misc_of(const json& results) {
  json m = json::object();
  for (const char* k : {"tool_version", "run_id", "hostname", "kernel", "profile", "seed", "shard"})
    if (results.contains(k) && !results[k].is_null()) m[k] = results[k];
  return m;
}

}  // namespace

KcidbIds kcidb_ids(const std::string& origin_flag, const std::string& checkout_flag, const std::string& build_flag,
                   const std::string& kernel_release) {
  KcidbIds ids;
  auto [origin, origin_from] = pick(origin_flag, "--kcidb-origin", "KCIDB_ORIGIN");
  ids.origin = origin.empty() ? "diotorture" : origin;
  if (!std::regex_match(ids.origin, kOrigin))
    throw SetupError(fmt::format("{} '{}': a KCIDB origin is lower-case letters, digits and '_'; give e.g. my_lab",
                                 origin_from, ids.origin));
  const std::string fallback = ids.origin + ":" + kernel_release;
  auto id = [&](const std::string& flag, const char* flag_name, const char* var) {
    auto [v, from] = pick(flag, flag_name, var);
    if (v.empty()) return fallback;
    // Another origin's id is fine: a lab tests the builds KernelCI made.
    if (!std::regex_match(v, kOriginId))
      throw SetupError(fmt::format("{} '{}': a KCIDB id is '<origin>:<id>' (origin: lower-case letters, digits, '_'); "
                                   "give e.g. {}:{}",
                                   from, v, ids.origin, v.substr(v.find(':') == std::string::npos ? 0 : v.find(':') + 1)));
    return v;
  };
  ids.checkout_id = id(checkout_flag, "--kcidb-checkout-id", "KCIDB_CHECKOUT_ID");
  ids.build_id = id(build_flag, "--kcidb-build-id", "KCIDB_BUILD_ID");
  return ids;
}

std::string kcidb_path_part(const std::string& s) {
  std::string o;
  for (char c : s) o += std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ? c : '_';
  return o.empty() ? "_" : o;
}

json kcidb_report(const KcidbIds& ids, const json& results) {
  const std::string kernel = results.value("kernel", "");
  json doc{{"version", {{"major", 5}, {"minor", 3}}}};
  doc["checkouts"] = json::array({json{{"id", ids.checkout_id},
                                       {"origin", ids.origin},
                                       {"comment", "kernel " + kernel},
                                       {"misc", {{"kernel_release", kernel}}}}});
  json build{{"id", ids.build_id},
             {"checkout_id", ids.checkout_id},
             {"origin", ids.origin},
             {"comment", "kernel " + kernel},
             {"misc", {{"kernel_release", kernel}}}};
  doc["builds"] = json::array({build});
  json tests = json::array();
  const std::string id_base = fmt::format("{}:{}.{}", ids.origin, results.value("hostname", "host"),
                                          results.value("run_id", "run"));
  std::set<std::string> used;
  auto add = [&](const std::string& path, json t) {
    std::string id = id_base + "." + path;
    for (int n = 2; used.count(id); ++n) id = fmt::format("{}.{}.{}", id_base, path, n);
    used.insert(id);
    t["id"] = id;
    t["build_id"] = ids.build_id;
    t["origin"] = ids.origin;
    t["path"] = path;
    if (t.contains("log_excerpt")) t["log_excerpt"] = excerpt(t["log_excerpt"].get<std::string>());
    tests.push_back(std::move(t));
  };
  const json base_misc = misc_of(results);
  for (const auto& c : member(results, "cases")) {
    const std::string id = c.value("id", "?"), status = c.value("status", ""), reason = c.value("reason", "");
    std::string log = reason.empty() ? "" : reason + "\n";
    for (const auto& f : member(c, "failures")) log += "FAIL: " + f.get<std::string>() + "\n";
    for (const auto& k : member(c, "kernel_log")) log += "kernel: " + k.get<std::string>() + "\n";
    for (const auto& n : member(c, "notes")) log += "note: " + n.get<std::string>() + "\n";
    if (!c.value("hint", "").empty()) log += "hint: " + c.value("hint", "") + "\n";
    json misc = base_misc;
    if (status == "known") misc["known_failure"] = true;
    if (status == "hang") misc["hang"] = true;
    json t{{"status", kcidb_status(status, reason)}, {"duration", c.value("duration_s", 0.0)}, {"misc", misc}};
    if (!log.empty()) t["log_excerpt"] = log;
    const std::string path = "diotorture." + kcidb_path_part(id);
    add(path, t);
    for (const auto& [name, ok] : member(c, "combinations").items()) {
      json cm = base_misc;
      cm["combination"] = name;
      add(path + "." + kcidb_path_part(name), json{{"status", ok.get<bool>() ? "PASS" : "FAIL"}, {"misc", cm}});
    }
  }
  if (results.contains("torture"))
    for (const auto& s : member(results["torture"], "subruns")) {
      const std::string status = s.value("status", "");
      json misc = base_misc;
      for (const char* k : {"seed", "sub_run", "torture_seed", "signature", "repro", "minimal", "ops", "dir", "known"})
        if (s.contains(k) && !s[k].is_null()) misc[k] = s[k];
      json t{{"status", kcidb_status(status, "")}, {"duration", s.value("seconds", 0.0)}, {"misc", misc}};
      if (s.contains("failure"))
        t["log_excerpt"] = fmt::format("{}: step {} ({}): {}: {}\nsignature: {}\n", status == "hang" ? "HANG" : "FAIL",
                                       s["failure"].value("seq", 0), s["failure"].value("op", ""),
                                       s["failure"].value("kind", ""), s["failure"].value("msg", ""),
                                       s.value("signature", ""));
      add("diotorture.torture", t);
    }
  for (const auto& b : member(results, "bench"))
    for (const auto& cell : member(b, "cells")) {
      const std::string name = fmt::format("{}-{}-{}", cell.value("op", "?"), cell.value("engine", "?"),
                                           cell.value("target", "?"));
      json misc = base_misc;
      misc["label"] = b.value("label", "");
      misc["bench_run_id"] = b.value("run_id", "");
      misc["block_size"] = cell.value("block_size", json(0));
      double median = 0;
      if (cell.contains("mib_per_s") && cell["mib_per_s"].contains("median") && cell["mib_per_s"]["median"].is_number())
        median = cell["mib_per_s"]["median"].get<double>();
      add("diotorture.bench." + kcidb_path_part(name),
          json{{"status", "DONE"}, {"number", {{"value", median}, {"unit", "MiB/s"}}}, {"misc", misc}});
    }
  doc["tests"] = tests;
  return doc;
}

// ---- validation ------------------------------------------------------------

namespace {

struct Checker {
  std::vector<std::string> problems;
  void bad(const std::string& where, const std::string& what) { problems.push_back(where + ": " + what); }

  void no_nulls(const json& v, const std::string& where) {
    if (v.is_null()) bad(where, "null (the schema allows no nulls)");
    if (v.is_object())
      for (const auto& [k, x] : v.items()) no_nulls(x, where + "." + k);
    if (v.is_array())
      for (size_t i = 0; i < v.size(); ++i) no_nulls(v[i], fmt::format("{}[{}]", where, i));
  }

  // "s" string (no NUL), "S" string matching a regex, "b" boolean, "n" number,
  // "o" object, "a" array of strings, "t" date-time, "r" resource list.
  struct Prop {
    char type;
    const std::regex* re = nullptr;
  };

  void string_prop(const json& v, const std::string& where, const std::regex* re) {
    if (!v.is_string()) return bad(where, "not a string");
    const auto& s = v.get_ref<const std::string&>();
    if (s.find('\0') != std::string::npos) bad(where, "contains a NUL character");
    if (re && !std::regex_match(s, *re)) bad(where, fmt::format("'{}' does not match the schema's pattern", s));
  }

  void object(const json& o, const std::string& where, const std::map<std::string, Prop>& props,
              const std::vector<std::string>& required) {
    if (!o.is_object()) return bad(where, "not an object");
    for (const auto& r : required)
      if (!o.contains(r)) bad(where, "required property '" + r + "' missing");
    for (const auto& [k, v] : o.items()) {
      const std::string at = where + "." + k;
      auto p = props.find(k);
      if (p == props.end()) {
        bad(at, "not a property the schema allows");
        continue;
      }
      switch (p->second.type) {
        case 's': case 'S': string_prop(v, at, p->second.re); break;
        case 't':
          string_prop(v, at, &kDateTime);
          break;
        case 'b': if (!v.is_boolean()) bad(at, "not a boolean"); break;
        case 'n': if (!v.is_number()) bad(at, "not a number"); break;
        case 'o': if (!v.is_object()) bad(at, "not an object"); break;
        case 'a':
          if (!v.is_array()) bad(at, "not an array");
          else for (size_t i = 0; i < v.size(); ++i) string_prop(v[i], fmt::format("{}[{}]", at, i), nullptr);
          break;
        case 'r':
          if (!v.is_array()) { bad(at, "not an array"); break; }
          for (size_t i = 0; i < v.size(); ++i) {
            static const std::regex name("^[^/\\x00]+$");
            object(v[i], fmt::format("{}[{}]", at, i), {{"name", {'S', &name}}, {"url", {'s'}}}, {"name", "url"});
          }
          break;
      }
    }
  }

  void status(const json& o, const std::string& where) {
    if (!o.contains("status") || !o["status"].is_string()) return;
    const std::string s = o["status"].get<std::string>();
    if (std::find(kStatuses.begin(), kStatuses.end(), s) == kStatuses.end())
      bad(where + ".status", fmt::format("'{}' is not one of {}", s, fmt::join(kStatuses, ", ")));
  }

  void excerpt_length(const json& o, const std::string& where) {
    if (o.contains("log_excerpt") && o["log_excerpt"].is_string() &&
        code_points(o["log_excerpt"].get<std::string>()) > kMaxExcerpt)
      bad(where + ".log_excerpt", fmt::format("longer than {} characters", kMaxExcerpt));
  }
};

const std::map<std::string, Checker::Prop>& checkout_props() {
  static const std::regex sha1("^[0-9a-f]{40}$"), patchset("^$|^[0-9a-f]{64}$");
  static const std::map<std::string, Checker::Prop> p = {
      {"_timestamp", {'t'}}, {"id", {'S', &kOriginId}}, {"origin", {'S', &kOrigin}}, {"tree_name", {'s'}},
      {"git_repository_url", {'s'}}, {"git_commit_hash", {'S', &sha1}}, {"git_commit_name", {'s'}},
      {"git_commit_tags", {'a'}}, {"git_commit_message", {'s'}}, {"git_repository_branch", {'s'}},
      {"git_repository_branch_tip", {'b'}}, {"patchset_files", {'r'}}, {"patchset_hash", {'S', &patchset}},
      {"message_id", {'s'}}, {"comment", {'s'}}, {"start_time", {'t'}}, {"origin_builds_finish_time", {'t'}},
      {"origin_tests_finish_time", {'t'}}, {"log_url", {'s'}}, {"log_excerpt", {'s'}}, {"valid", {'b'}},
      {"misc", {'o'}}};
  return p;
}

const std::map<std::string, Checker::Prop>& build_props() {
  static const std::map<std::string, Checker::Prop> p = {
      {"_timestamp", {'t'}}, {"checkout_id", {'S', &kOriginId}}, {"id", {'S', &kOriginId}},
      {"origin", {'S', &kOrigin}}, {"comment", {'s'}}, {"start_time", {'t'}}, {"duration", {'n'}},
      {"architecture", {'S', &kArchitecture}}, {"command", {'s'}}, {"compiler", {'s'}}, {"input_files", {'r'}},
      {"output_files", {'r'}}, {"config_name", {'s'}}, {"config_url", {'s'}}, {"log_url", {'s'}},
      {"log_excerpt", {'s'}}, {"status", {'s'}}, {"misc", {'o'}}};
  return p;
}

const std::map<std::string, Checker::Prop>& test_props() {
  static const std::map<std::string, Checker::Prop> p = {
      {"_timestamp", {'t'}}, {"build_id", {'S', &kOriginId}}, {"id", {'S', &kOriginId}},
      {"origin", {'S', &kOrigin}}, {"environment", {'o'}}, {"path", {'S', &kTestPath}}, {"comment", {'s'}},
      {"log_url", {'s'}}, {"log_excerpt", {'s'}}, {"status", {'s'}}, {"number", {'o'}}, {"start_time", {'t'}},
      {"duration", {'n'}}, {"input_files", {'r'}}, {"output_files", {'r'}}, {"misc", {'o'}}};
  return p;
}

}  // namespace

std::vector<std::string> kcidb_problems(const json& doc) {
  Checker c;
  if (!doc.is_object()) return {"the document is not a JSON object"};
  c.no_nulls(doc, "$");
  static const std::set<std::string> top = {"version", "checkouts", "builds", "tests", "issues", "incidents"};
  for (const auto& [k, v] : doc.items())
    if (!top.count(k)) c.bad("$." + k, "not a property the schema allows");
  if (!doc.contains("version")) {
    c.bad("$", "required property 'version' missing");
  } else {
    const json& v = doc["version"];
    if (!v.is_object()) {
      c.bad("$.version", "not an object");
    } else {
      if (!v.contains("major") || !v["major"].is_number_integer() || v["major"].get<long>() != 5)
        c.bad("$.version.major", "must be the integer 5");
      if (v.contains("minor") && (!v["minor"].is_number_integer() || v["minor"].get<long>() < 0 || v["minor"].get<long>() > 3))
        c.bad("$.version.minor", "must be an integer from 0 to 3");
      for (const auto& [k, x] : v.items())
        if (k != "major" && k != "minor") c.bad("$.version." + k, "not a property the schema allows");
    }
  }
  auto each = [&](const char* list, const std::map<std::string, Checker::Prop>& props,
                  const std::vector<std::string>& required, bool has_status) {
    if (!doc.contains(list)) return;
    if (!doc[list].is_array()) return c.bad(std::string("$.") + list, "not an array");
    for (size_t i = 0; i < doc[list].size(); ++i) {
      const std::string where = fmt::format("{}[{}]", list, i);
      const json& o = doc[list][i];
      c.object(o, where, props, required);
      if (!o.is_object()) continue;
      if (has_status) c.status(o, where);
      c.excerpt_length(o, where);
    }
  };
  each("checkouts", checkout_props(), {"id", "origin"}, false);
  each("builds", build_props(), {"checkout_id", "id", "origin"}, true);
  each("tests", test_props(), {"build_id", "id", "origin"}, true);
  if (doc.contains("tests") && doc["tests"].is_array())
    for (size_t i = 0; i < doc["tests"].size(); ++i) {
      const json& t = doc["tests"][i];
      const std::string where = fmt::format("tests[{}]", i);
      if (!t.is_object()) continue;
      if (t.contains("environment") && t["environment"].is_object())
        c.object(t["environment"], where + ".environment",
                 {{"compatible", {'a'}}, {"comment", {'s'}}, {"misc", {'o'}}}, {});
      if (t.contains("number") && t["number"].is_object()) {
        static const std::regex prefix("^(metric|binary)$");
        c.object(t["number"], where + ".number", {{"value", {'n'}}, {"unit", {'s'}}, {"prefix", {'S', &prefix}}},
                 {"value"});
      }
    }
  // issues and incidents are not written by this tool; their shape is not checked beyond being arrays.
  for (const char* list : {"issues", "incidents"})
    if (doc.contains(list) && !doc[list].is_array()) c.bad(std::string("$.") + list, "not an array");
  return c.problems;
}

}  // namespace dt
