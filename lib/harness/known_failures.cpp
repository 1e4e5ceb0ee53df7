#include "lib/harness/known_failures.hpp"

#include <fnmatch.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>

#include "lib/sys/sys.hpp"

namespace dt {
namespace fs = std::filesystem;

std::vector<KnownFailure> parse_known_failures(std::string_view text, const std::string& source) {
  std::vector<KnownFailure> out;
  unsigned n = 0;
  for (const std::string& raw : split(text, '\n')) {
    ++n;
    const std::string line = trim(raw);
    if (line.empty() || line[0] == '#') continue;
    const size_t id_end = line.find_first_of(" \t");
    const size_t k_begin = id_end == std::string::npos ? id_end : line.find_first_not_of(" \t", id_end);
    const size_t k_end = k_begin == std::string::npos ? k_begin : line.find_first_of(" \t", k_begin);
    const std::string reason = k_end == std::string::npos ? "" : trim(line.substr(k_end));
    if (reason.empty())
      throw SetupError(fmt::format("{}:{}: '{}' is not 'CASE-ID KERNEL-GLOBS REASON' (every known failure needs the "
                                   "kernels it fails on and why)",
                                   source, n, line));
    KnownFailure k{.case_id = line.substr(0, id_end), .reason = reason, .where = fmt::format("{}:{}", source, n)};
    for (const std::string& g : split(line.substr(k_begin, k_end - k_begin), ','))
      if (!g.empty()) k.kernels.push_back(g);
    out.push_back(std::move(k));
  }
  return out;
}

const KnownFailure* find_known_failure(const std::vector<KnownFailure>& list, const std::string& case_id,
                                       const std::string& release) {
  for (const KnownFailure& k : list) {
    if (k.case_id != case_id) continue;
    for (const std::string& g : k.kernels)
      if (::fnmatch(g.c_str(), release.c_str(), 0) == 0) return &k;
  }
  return nullptr;
}

void apply_known_failures(CaseResult* r, const std::vector<KnownFailure>& list, const std::string& release,
                          bool strict) {
  if (r->status != Status::Fail) return;
  const KnownFailure* k = find_known_failure(list, r->id, release);
  if (!k) return;
  r->notes.push_back(fmt::format("known failure on {} ({}): {}{}", release, k->where, k->reason,
                                 strict ? "; --strict: still a failure" : ""));
  if (!strict) r->status = Status::Known;
}

fs::path known_failures_file(const std::string& flag) {
  std::error_code ec;
  if (!flag.empty()) {
    if (!fs::is_regular_file(flag, ec))
      throw SetupError(fmt::format("--known-failures {}: no such file; give the path of a known-failures list", flag));
    return flag;
  }
  const auto places = known_failures_places();
  if (fs::is_regular_file(places[0], ec)) return "known-failures.txt";
  if (places.size() > 1 && fs::is_regular_file(places[1], ec)) return places[1];
  return {};
}

std::vector<std::string> known_failures_places() {
  std::error_code ec;
  std::vector<std::string> places = {fs::absolute("known-failures.txt", ec).string()};
  // The checkout's, beside the build directory the binary is in.
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) places.push_back((exe.parent_path().parent_path() / "known-failures.txt").string());
  return places;
}

std::vector<std::string> unknown_case_ids(const std::vector<KnownFailure>& list, const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  for (const KnownFailure& k : list)
    if (std::find(ids.begin(), ids.end(), k.case_id) == ids.end()) out.push_back(k.where + ": " + k.case_id);
  return out;
}

}  // namespace dt
