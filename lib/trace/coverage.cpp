#include "lib/trace/coverage.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "lib/io/iopath.hpp"
#include "lib/sys/sys.hpp"

namespace dt {

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string_view first_word(std::string_view l) {
  const auto b = l.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  l.remove_prefix(b);
  return l.substr(0, l.find_first_of(" \t"));
}

// Appends names to a filter file in one write: the kernel applies a filter
// file's change when it is closed, so one code update for the whole batch.
void append_filter(const std::string& file, const std::vector<std::string>& names) {
  if (names.empty()) return;
  Fd fd(::open(file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  if (!fd) throw_errno("open " + file);
  std::string text;
  for (const auto& n : names) text += n + "\n";
  write_all(fd.get(), text);
  if (::close(fd.release()) != 0) throw_errno("apply " + file);
}

}  // namespace

std::string coverage_area(std::string_view line, bool btrfs_builtin) {
  const std::string_view name = first_word(line);
  if (name.empty()) return "";
  const auto m = line.find('[');
  const std::string_view mod = m == std::string_view::npos ? std::string_view() : line.substr(m);
  if (mod.rfind("[btrfs]", 0) == 0) return "btrfs";
  if (!mod.empty()) return "";  // another module's (xfs_iomap_*, ...)
  if (btrfs_builtin && name.rfind("btrfs_", 0) == 0) return "btrfs";
  if (name.find("iomap") != std::string_view::npos) return "iomap";
  return "";
}

std::map<std::string, std::set<std::string>> functions_present(std::string_view text) {
  const bool builtin = text.find("[btrfs]") == std::string_view::npos;
  std::map<std::string, std::set<std::string>> out;
  for (const std::string& l : split(text, '\n')) {
    const std::string_view line = l;
    const std::string area = coverage_area(line, builtin);
    if (!area.empty()) out[area].insert(std::string(first_word(line)));
  }
  return out;
}

std::vector<std::string> traced_functions(std::string_view text) {
  std::vector<std::string> out;
  for (const std::string& l : split(text, '\n')) {
    std::string_view line = l;
    if (line.empty() || line.front() == '#') continue;
    // "... 123.456789: func <-parent": the function follows the timestamp's ": ".
    const auto parent = line.find(" <-");
    if (parent != std::string_view::npos) line = line.substr(0, parent);
    const auto colon = line.rfind(": ");
    if (colon == std::string_view::npos) continue;
    const std::string_view fn = first_word(line.substr(colon + 2));
    if (!fn.empty()) out.emplace_back(fn);
  }
  return out;
}

std::set<std::string> parse_coverage_list(std::string_view text) {
  std::set<std::string> out;
  for (const std::string& l : split(text, '\n')) {
    std::string_view line = l;
    const std::string_view w = first_word(line);
    if (w.empty() || w.front() == '#') continue;
    bool is_area = false;
    for (const char* a : kCoverageAreas) is_area |= w == a;
    if (is_area) {
      line.remove_prefix(line.find(w) + w.size());
      const std::string_view fn = first_word(line);
      if (!fn.empty()) out.emplace(fn);
    } else {
      out.emplace(w);
    }
  }
  return out;
}

KernelCoverage::KernelCoverage() {
  t0_ = now_s();
  const std::string root = ensure_tracefs();
  if (root.empty()) {
    why_ = "tracefs is not mounted and could not be mounted";
    return;
  }
  if (read_file_or_empty(root + "/available_tracers").find("function") == std::string::npos) {
    why_ = "the kernel has no function tracer (CONFIG_FUNCTION_TRACER)";
    return;
  }
  std::string text;
  Fd probe(::open((root + "/available_filter_functions").c_str(), O_RDONLY | O_CLOEXEC));
  if (!probe) {
    why_ = fmt::format("{}/available_filter_functions: {} (the kernel refuses the function tracer's filter files)",
                       root, std::strerror(errno));
    return;
  }
  probe.reset();
  try {
    text = read_file(root + "/available_filter_functions");
  } catch (const std::exception& e) {
    why_ = fmt::format("{} (the kernel refuses the function tracer's filter files)", e.what());
    return;
  }
  present_ = functions_present(text);
  for (const auto& [area, fns] : present_)
    for (const auto& f : fns) area_of_[f] = area;
  if (present_.empty()) {
    why_ = "no btrfs or iomap function is traceable (available_filter_functions names none)";
    return;
  }
  std::string dir = create_trace_instance(root, "cov", &why_);
  if (dir.empty()) return;
  try {
    if (::access((dir + "/set_ftrace_filter").c_str(), F_OK) != 0)
      throw std::runtime_error("this kernel's trace instances have no set_ftrace_filter");
    write_proc(dir + "/tracing_on", "0");
    write_proc(dir + "/buffer_size_kb", "4096");
    const bool builtin = text.find("[btrfs]") == std::string::npos;
    write_proc(dir + "/set_ftrace_filter", builtin ? "btrfs_*" : ":mod:btrfs");
    append_filter(dir + "/set_ftrace_filter", {"*iomap*"});
    write_proc(dir + "/current_tracer", "function");
    write_proc(dir + "/tracing_on", "1");
  } catch (const std::exception& e) {
    why_ = std::string("the function tracer could not be set up in our instance: ") + e.what();
    ::rmdir(dir.c_str());
    return;
  }
  dir_ = dir;
  poller_ = std::thread([this] {
    std::unique_lock<std::mutex> l(mu_);
    while (!cv_.wait_for(l, std::chrono::seconds(1), [this] { return stopping_; })) {
      l.unlock();
      poll();
      l.lock();
    }
  });
}

KernelCoverage::~KernelCoverage() { stop(); }

std::string KernelCoverage::description() const {
  if (!available()) return "not recorded: " + why_;
  std::vector<std::string> parts;
  for (const char* a : kCoverageAreas)
    if (auto it = present_.find(a); it != present_.end()) parts.push_back(fmt::format("{} {}", it->second.size(), a));
  return fmt::format("function tracer in {} on {} traceable functions; each moved to set_ftrace_notrace once hit",
                     dir_.substr(dir_.rfind('/') + 1), fmt::join(parts, " and "));
}

void KernelCoverage::poll() {
  if (!available()) return;
  const double t = now_s() - t0_;
  std::vector<std::string> fresh;
  std::lock_guard<std::mutex> l(poll_mu_);
  // Bounded: the hot functions fill the buffer faster than a TCG guest reads
  // it until they are in set_ftrace_notrace; what is left is read next time.
  for (auto& fn : traced_functions(drain_trace_pipe(dir_, 8u << 20))) {
    std::lock_guard<std::mutex> m(mu_);
    if (!area_of_.count(fn) || hit_.count(fn)) continue;  // a match of the globs outside our areas, or known
    hit_.emplace(fn, t);
    fresh.push_back(fn);
  }
  {
    std::lock_guard<std::mutex> m(mu_);
    ++polls_;
  }
  try {
    append_filter(dir_ + "/set_ftrace_notrace", fresh);
  } catch (const std::exception&) {
    // Only a cost: the function stays traced.
  }
}

void KernelCoverage::stop() {
  if (!available()) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (poller_.joinable()) poller_.join();
  try {
    poll();
    write_proc(dir_ + "/tracing_on", "0");
    write_proc(dir_ + "/current_tracer", "nop");
  } catch (const std::exception&) {
  }
  ::rmdir(dir_.c_str());
  dir_.clear();
  why_ = "stopped";
}

nlohmann::json KernelCoverage::to_json(const std::set<std::string>* baseline) const {
  if (present_.empty() || (!available() && hit_.empty() && why_ != "stopped"))
    return {{"available", false}, {"why", why_}};
  nlohmann::json j = {{"available", true}, {"polls", polls_}};
  for (const char* a : kCoverageAreas) {
    uint64_t hit = 0, fresh = 0;
    for (const auto& [fn, t] : hit_)
      if (area_of_.at(fn) == a) {
        ++hit;
        fresh += baseline && !baseline->count(fn);
      }
    auto it = present_.find(a);
    j[a] = {{"hit", hit}, {"present", it == present_.end() ? 0 : it->second.size()}};
    if (baseline) j[a]["new"] = fresh;
  }
  if (baseline) {
    std::vector<std::string> fresh;
    for (const auto& [fn, t] : hit_)
      if (!baseline->count(fn)) fresh.push_back(fn);
    j["new_against_baseline"] = fresh;
  }
  return j;
}

std::string KernelCoverage::listing() const {
  std::vector<std::pair<double, std::string>> by_time;
  for (const auto& [fn, t] : hit_) by_time.emplace_back(t, fn);
  std::sort(by_time.begin(), by_time.end());
  std::string out = "# area function seconds-when-first-seen\n";
  for (const auto& [t, fn] : by_time) out += fmt::format("{} {} {:.1f}\n", area_of_.at(fn), fn, t);
  return out;
}

std::string KernelCoverage::summary_line(const std::set<std::string>* baseline) const {
  if (present_.empty() || (!available() && hit_.empty() && why_ != "stopped")) return "COVERAGE  -- " + description() + "\n";
  const nlohmann::json j = to_json(baseline);
  std::vector<std::string> parts;
  for (const char* a : kCoverageAreas)
    parts.push_back(fmt::format("{} {} of {}{}", a, j[a]["hit"].get<uint64_t>(), j[a]["present"].get<uint64_t>(),
                                baseline ? fmt::format(" ({} new)", j[a]["new"].get<uint64_t>()) : ""));
  return fmt::format("COVERAGE  -- functions reached: {}\n", fmt::join(parts, ", "));
}

}  // namespace dt
