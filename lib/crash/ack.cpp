#include "lib/crash/ack.hpp"

#include <fmt/format.h>

#include "lib/sys/sys.hpp"

namespace dt {
namespace {
constexpr char kMarkerMagic[] = "DIOTORTURE-ACK-1\n";
}

nlohmann::json Ack::to_json() const {
  nlohmann::json w = nlohmann::json::array();
  for (const auto& x : writes) w.push_back({x.wseq, x.off, x.len});
  nlohmann::json j = {{"seq", seq}, {"workload", workload}, {"kind", kind},   {"file", file},
                      {"file_id", file_id}, {"promise", promise}, {"writes", w}};
  if (!runs.empty()) {
    nlohmann::json r = nlohmann::json::array();
    for (const auto& x : runs) r.push_back({x.wseq, x.off, x.step, x.count});
    j["runs"] = r;
  }
  if (creates) j["creates"] = true;
  if (size_at_least) j["size_at_least"] = size_at_least;
  if (prealloc_end) j["prealloc_end"] = prealloc_end;
  return j;
}

Ack Ack::from_json(const nlohmann::json& j) {
  Ack a;
  a.seq = j.at("seq").get<uint64_t>();
  a.workload = j.value("workload", "");
  a.kind = j.value("kind", "");
  a.file = j.value("file", "");
  a.file_id = j.value("file_id", 0u);
  a.promise = j.value("promise", "");
  a.creates = j.value("creates", false);
  a.size_at_least = j.value("size_at_least", uint64_t{0});
  a.prealloc_end = j.value("prealloc_end", uint64_t{0});
  for (const auto& w : j.value("writes", nlohmann::json::array()))
    a.writes.push_back({w.at(0).get<uint64_t>(), w.at(1).get<uint64_t>(), w.at(2).get<uint64_t>()});
  for (const auto& r : j.value("runs", nlohmann::json::array()))
    a.runs.push_back({r.at(0).get<uint64_t>(), r.at(1).get<uint64_t>(), r.at(2).get<uint64_t>(), r.at(3).get<uint64_t>()});
  return a;
}

std::string encode_marker(const Ack& a, size_t block) {
  std::string s = kMarkerMagic + a.to_json().dump();
  if (s.size() >= block)
    throw SetupError(fmt::format("ack {} covers too many writes for one {}-byte marker block", a.seq, block));
  s.resize(block, '\0');
  return s;
}

std::optional<Ack> decode_marker(const std::string& data) {
  const std::string magic = kMarkerMagic;
  if (data.compare(0, magic.size(), magic) != 0) return std::nullopt;
  const size_t end = data.find('\0', magic.size());
  auto j = nlohmann::json::parse(data.substr(magic.size(), end == std::string::npos ? std::string::npos : end - magic.size()),
                                 nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("seq")) return std::nullopt;
  return Ack::from_json(j);
}

}  // namespace dt
