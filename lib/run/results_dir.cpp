#include "lib/run/results_dir.hpp"

#include <fmt/format.h>

#include <ctime>

#include "lib/sys/sys.hpp"

namespace dt {
namespace fs = std::filesystem;

namespace {
std::string utc_now(const char* fmt_str) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, fmt_str, &tm);
  return buf;
}


}  // namespace

void point_latest(const fs::path& root, const std::string& run_id) {
  std::error_code ec;
  fs::path tmp = root / ".latest.tmp";
  fs::remove(tmp, ec);
  fs::create_directory_symlink(run_id, tmp, ec);
  if (!ec) fs::rename(tmp, root / "latest", ec);
}

std::string utc_timestamp() { return utc_now("%Y-%m-%dT%H:%M:%SZ"); }


std::string make_run_dir(const fs::path& root) {
  try {
    fs::create_directories(root);
    const std::string id = make_run_id(root);
    fs::create_directories(root / id);
    point_latest(root, id);
    return id;
  } catch (const fs::filesystem_error& e) {
    throw SetupError(fmt::format("--results {}: cannot create a run directory there ({}); give a writable directory",
                                 root.string(), e.code().message()));
  }
}

std::string make_run_id(const fs::path& results_root) {
  std::string base = utc_now("%Y-%m-%dT%H-%M-%S");
  std::string id = base;
  for (int n = 2; fs::exists(results_root / id); ++n) id = fmt::format("{}-{}", base, n);
  return id;
}

}  // namespace dt
