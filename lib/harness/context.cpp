#include "lib/harness/context.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>

#include "lib/btrfs/fsinfo.hpp"
#include "lib/harness/case_events.hpp"
#include "lib/io/pattern.hpp"
#include "lib/sys/sys.hpp"

namespace dt {


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
  // NOCOW (chattr +C) is btrfs's; a control run on another filesystem runs
  // the default variant only, and says so.
  const std::string fstype = mount_info_for(work_dir_).fstype;
  for (const char* name : {"datasum", "nocow"}) {
    if (std::string(name) == "nocow" && fstype != "btrfs") {
      note(fmt::format("{} has no NOCOW files (chattr +C): the nocow variant did not run", fstype));
      continue;
    }
    Variant v{name, std::string(name) == "nocow" ? nocow_dir(work_dir_) : work_dir_ / name, true};
    std::filesystem::create_directories(v.dir);
    // What files created here really get, asked of a real file.
    std::filesystem::path probe = v.dir / ".probe";
    {
      Fd fd = open_or_throw(probe, O_RDWR | O_CREAT | O_TRUNC);
      v.checksummed = data_checksummed(fd.get());
    }
    std::filesystem::remove(probe);
    log("variant {}: {} ({})", v.name, v.checksummed ? "data checksums on" : "no data checksums",
        v.name == "nocow" ? "chattr +C directory" : "default directory");
    emit(event::variant(v.name, v.checksummed));
    out.push_back(v);
  }
  auto only = params_.overrides.find("variant");
  if (only != params_.overrides.end()) {
    std::erase_if(out, [&](const Variant& v) { return v.name != only->second; });
  }
  return out;
}

const std::string& Combination::operator[](std::string_view param) const {
  for (const auto& [k, v] : values_)
    if (k == param) return v;
  throw std::logic_error(fmt::format("combination {} has no parameter {}", name_, param));
}

uint64_t Combination::size(std::string_view param) const {
  uint64_t v = 0;
  if (!parse_size((*this)[param], &v)) throw std::logic_error(fmt::format("{}: {} is not a size", name_, param));
  return v;
}

void Context::for_each_combination(const std::vector<std::string>& params, const std::string& prefix,
                                   const std::function<void(const Combination&)>& body) {
  std::vector<std::vector<std::string>> lists;
  for (const auto& p : params) lists.push_back(param_list(p));
  std::vector<size_t> at(params.size(), 0);
  for (const auto& l : lists)
    if (l.empty()) return;
  const bool sharded = info_.shards_combinations && !params_.shard.whole();
  size_t seen = 0, ran = 0;
  for (;;) {
    std::vector<std::pair<std::string, std::string>> values;
    std::string name = prefix;
    for (size_t i = 0; i < params.size(); ++i) {
      values.emplace_back(params[i], lists[i][at[i]]);
      name += fmt::format("{}{}={}", i == 0 ? (prefix.empty() ? "" : "/") : ",", params[i], lists[i][at[i]]);
    }
    ++seen;
    if (!sharded || combination_in_shard(info_.id, combinations_seen_++, params_.shard)) {
      ++ran;
      const size_t before = failures_;
      body(Combination(name, std::move(values)));
      const bool ok = failures_ == before;
      log("combination {}: {}", name, ok ? "pass" : "FAIL");
      emit(event::combination(name, ok));
    }
    // Odometer order: the last parameter varies fastest.
    size_t i = params.size();
    while (i > 0 && ++at[i - 1] == lists[i - 1].size()) at[--i] = 0;
    if (i == 0) break;
  }
  if (sharded)
    note(fmt::format("shard {}: ran {} of {} combinations{}; the other shards run the rest", params_.shard.name(), ran,
                     seen, prefix.empty() ? "" : " of " + prefix));
}

void Context::record_failure(const std::string& msg) {
  ++failures_;
  log_line("FAIL: " + msg);
  emit(event::fail(msg));
}

void Context::notrun(const std::string& reason) {
  log_line("NOTRUN: " + reason);
  throw NotRun{reason};
}

void Context::skip(const std::string& what, const std::string& reason) {
  log_line(fmt::format("skipped {}: {}", what, reason));
  emit(event::skip(what, reason));
}

bool Context::report_layout(const std::string& file, const LayoutCheck& check, const std::vector<Extent>& extents) {
  log("layout {}: {};{}", file, check.summary, describe_extents(extents));
  emit(event::layout(file, {{"summary", check.summary},
                            {"ok", check.ok},
                            {"data_extents", check.data_extents},
                            {"prealloc_extents", check.prealloc_extents},
                            {"holes", check.holes},
                            {"fiemap_extents", extents.size()}}));
  for (const auto& p : check.problems) fail("layout of {} not as built: {}", file, p);
  return check.ok;
}

void Context::report_path(const std::string& key, PathReport r) {
  judge_path(&r);
  log("path {} [{}]: {}: {}", key, r.op, r.verdict, r.explained());
  emit(event::path(key, {{"op", r.op},
                         {"write", r.write},
                         {"verdict", r.verdict},
                         {"evidence", r.evidence},
                         {"dio_begin", r.counts.dio_begin},
                         {"dio_nowait", r.counts.dio_nowait},
                         {"cache_adds", r.counts.cache_adds},
                         {"dirtied", r.counts.dirtied}}));
}

void Context::metric(const std::string& name, double value, const std::string& unit) {
  emit(event::metric(name, value, unit));
}

void Context::note(const std::string& msg) {
  log_line("NOTE: " + msg);
  emit(event::note(msg));
}

void Context::trace_start(std::initializer_list<int> fds) { tracer_.start(fds); }

void Context::trace_stop(PathReport* r, int fd, uint64_t off, uint64_t len) { tracer_.stop(r, fd, off, len); }

void Context::log_line(const std::string& line) {
  if (log_fd_ < 0) return;
  std::string l = line + "\n";
  (void)!::write(log_fd_, l.data(), l.size());
}

void Context::emit(const std::string& event_line) {
  if (event_fd_ >= 0) write_all(event_fd_, event_line);
}

bool skip_if_unsupported(Context& ctx, const std::string& what, int err) {
  if (err != EINVAL && err != EOPNOTSUPP && err != ENOSYS) return false;
  ctx.skip(what, fmt::format("the kernel answered {}", errno_name(err)));
  return true;
}

}  // namespace dt
