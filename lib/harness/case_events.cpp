#include "lib/harness/case_events.hpp"

#include <algorithm>

namespace dt::event {
using json = nlohmann::json;

namespace {
std::string line(json j) { return j.dump() + "\n"; }
}  // namespace

std::string fail(const std::string& msg) { return line({{"type", "fail"}, {"msg", msg}}); }
std::string notrun(const std::string& reason) { return line({{"type", "notrun"}, {"reason", reason}}); }
std::string note(const std::string& msg) { return line({{"type", "note"}, {"msg", msg}}); }
std::string skip(const std::string& what, const std::string& reason) {
  return line({{"type", "skip"}, {"what", what}, {"reason", reason}});
}
std::string variant(const std::string& name, bool checksummed) {
  return line({{"type", "variant"}, {"name", name}, {"checksummed", checksummed}});
}
std::string combination(const std::string& name, bool ok) {
  return line({{"type", "combination"}, {"name", name}, {"ok", ok}});
}
std::string metric(const std::string& name, double value, const std::string& unit) {
  return line({{"type", "metric"}, {"name", name}, {"value", value}, {"unit", unit}});
}
std::string layout(const std::string& file, json details) {
  details["type"] = "layout";
  details["file"] = file;
  return line(std::move(details));
}
std::string path(const std::string& key, json details) {
  details["type"] = "path";
  details["key"] = key;
  return line(std::move(details));
}

}  // namespace dt::event

namespace dt {
using json = nlohmann::json;

void apply_event(CaseResult* r, const std::string& line) {
  auto j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return;
  const std::string type = j.value("type", "");
  if (type == "fail") {
    std::string msg = j.value("msg", "");
    if (r->failures.size() < 200) r->failures.push_back(msg);
    if (r->reason.empty()) r->reason = msg;
    r->status = Status::Fail;
  } else if (type == "notrun") {
    if (r->status == Status::Pass) {
      r->status = Status::NotRun;
      r->reason = j.value("reason", "");
    }
  } else if (type == "note") {
    if (r->notes.size() < 50) r->notes.push_back(j.value("msg", ""));
  } else if (type == "skip") {
    r->skips.push_back(j.value("what", "") + ": " + j.value("reason", ""));
  } else if (type == "layout") {
    j.erase("type");
    r->layouts.push_back(j);
  } else if (type == "path") {
    r->paths[j.value("key", "?")][j.value("verdict", "?")]++;
  } else if (type == "variant") {
    r->variants[j.value("name", "?")] = j.value("checksummed", true) ? "checksummed" : "no checksums";
  } else if (type == "combination") {
    if (r->combinations.size() < 2000) r->combinations[j.value("name", "?")] = j.value("ok", false);
  } else if (type == "metric") {
    auto& m = r->metrics[j.value("name", "?")];
    if (m.is_null()) m = {{"unit", j.value("unit", "")}, {"count", 0}, {"max", 0.0}, {"sum", 0.0}};
    double v = j.value("value", 0.0);
    m["count"] = m["count"].get<unsigned>() + 1;
    m["sum"] = m["sum"].get<double>() + v;
    m["max"] = std::max(m["max"].get<double>(), v);
  }
}

}  // namespace dt
