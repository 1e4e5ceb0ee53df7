#include "lib/harness/context.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "lib/btrfs/fsinfo.hpp"
#include "lib/sys/sys.hpp"

namespace dt {

using nlohmann::json;

Context::Context(const CaseInfo& info, RunParams params, std::filesystem::path work_dir, int log_fd, int event_fd)
    : info_(info), params_(std::move(params)), work_dir_(std::move(work_dir)), log_fd_(log_fd), event_fd_(event_fd) {
  log("{}", tracer_.description());
}

std::string Context::param(const std::string& name) const {
  for (const auto& p : info_.params) {
    if (p.name != name) continue;
    auto it = params_.overrides.find(name);
    return it == params_.overrides.end() ? p.default_value : it->second;
  }
  throw std::logic_error("case " + info_.id + " reads undeclared parameter " + name);
}

std::vector<std::string> Context::param_list(const std::string& name) const {
  std::vector<std::string> out;
  for (auto& s : split(param(name), ','))
    if (!s.empty()) out.push_back(s);
  return out;
}

std::vector<uint64_t> Context::param_sizes(const std::string& name) const {
  std::vector<uint64_t> out;
  for (const auto& s : param_list(name)) {
    uint64_t v = 0;
    if (!parse_size(s, &v)) throw SetupError(fmt::format("parameter {}: '{}' is not a size", name, s));
    out.push_back(v);
  }
  return out;
}

uint64_t Context::param_u64(const std::string& name) const {
  uint64_t v = 0;
  if (!parse_size(param(name), &v)) throw SetupError(fmt::format("parameter {}: '{}' is not a number", name, param(name)));
  return v;
}

std::vector<Variant> Context::variants() {
  std::vector<Variant> out;
  const MountInfo mi = mount_info_for(work_dir_);
  for (const char* name : {"datasum", "nocow"}) {
    Variant v{name, work_dir_ / name, true};
    std::filesystem::create_directories(v.dir);
    if (v.name == "nocow") set_nocow(v.dir);
    // What files created here really get: the NOCOW flag is inherited from
    // the directory; nodatasum/nodatacow mount options turn checksums off too.
    std::filesystem::path probe = v.dir / ".probe";
    {
      Fd fd = open_or_throw(probe, O_RDWR | O_CREAT | O_TRUNC);
      v.checksummed = !has_nocow(fd.get()) && !mi.has_option("nodatasum") && !mi.has_option("nodatacow");
    }
    std::filesystem::remove(probe);
    log("variant {}: {} ({})", v.name, v.checksummed ? "data checksums on" : "no data checksums",
        v.name == "nocow" ? "chattr +C directory" : "default directory");
    emit(json{{"type", "variant"}, {"name", v.name}, {"checksummed", v.checksummed}}.dump());
    out.push_back(v);
  }
  auto only = params_.overrides.find("variant");
  if (only != params_.overrides.end()) {
    std::erase_if(out, [&](const Variant& v) { return v.name != only->second; });
  }
  return out;
}

void Context::record_failure(const std::string& msg) {
  ++failures_;
  log_line("FAIL: " + msg);
  emit(json{{"type", "fail"}, {"msg", msg}}.dump());
}

void Context::notrun(const std::string& reason) {
  log_line("NOTRUN: " + reason);
  throw NotRun{reason};
}

void Context::skip(const std::string& what, const std::string& reason) {
  log_line(fmt::format("skipped {}: {}", what, reason));
  emit(json{{"type", "skip"}, {"what", what}, {"reason", reason}}.dump());
}

bool Context::report_layout(const std::string& file, const LayoutCheck& check, const std::vector<Extent>& extents) {
  log("layout {}: {};{}", file, check.summary, describe_extents(extents));
  emit(json{{"type", "layout"},
            {"file", file},
            {"summary", check.summary},
            {"ok", check.ok},
            {"data_extents", check.data_extents},
            {"prealloc_extents", check.prealloc_extents},
            {"holes", check.holes},
            {"fiemap_extents", extents.size()}}
           .dump());
  for (const auto& p : check.problems) fail("layout of {} not as built: {}", file, p);
  return check.ok;
}

void Context::report_path(const std::string& key, PathReport r) {
  judge_path(&r);
  log("path {} [{}]: {}: {}", key, r.op, r.verdict, r.explained());
  emit(json{{"type", "path"},
            {"key", key},
            {"op", r.op},
            {"write", r.write},
            {"verdict", r.verdict},
            {"evidence", r.evidence},
            {"dio_begin", r.counts.dio_begin},
            {"dio_nowait", r.counts.dio_nowait},
            {"cache_adds", r.counts.cache_adds},
            {"dirtied", r.counts.dirtied}}
           .dump());
}

void Context::metric(const std::string& name, double value, const std::string& unit) {
  emit(json{{"type", "metric"}, {"name", name}, {"value", value}, {"unit", unit}}.dump());
}

void Context::note(const std::string& msg) {
  log_line("NOTE: " + msg);
  emit(json{{"type", "note"}, {"msg", msg}}.dump());
}

void Context::trace_start(std::initializer_list<int> fds) { tracer_.start(fds); }

void Context::trace_stop(PathReport* r, int fd, uint64_t off, uint64_t len) { tracer_.stop(r, fd, off, len); }

void Context::log_line(const std::string& line) {
  if (log_fd_ < 0) return;
  std::string l = line + "\n";
  (void)!::write(log_fd_, l.data(), l.size());
}

void Context::emit(const std::string& json_line) {
  if (event_fd_ < 0) return;
  std::string l = json_line + "\n";
  write_all(event_fd_, l);
}

}  // namespace dt
