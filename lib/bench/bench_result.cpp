#include "lib/bench/bench_result.hpp"

#include <fmt/format.h>

#include <cmath>
#include <algorithm>

#include "lib/bench/stats.hpp"
#include "lib/sys/sys.hpp"

namespace dt {

using nlohmann::json;

namespace {
constexpr double kMiB = 1024.0 * 1024.0, kGiB = kMiB * 1024.0;

template <typename T>
void push_unique(std::vector<T>* v, const T& x) {
  if (std::find(v->begin(), v->end(), x) == v->end()) v->push_back(x);
}
}  // namespace

std::vector<double> BenchCell::mib_per_s() const {
  std::vector<double> v;
  for (double s : seconds) v.push_back(s > 0 ? static_cast<double>(bytes) / kMiB / s : 0);
  return v;
}

std::vector<double> BenchCell::rate() const {
  if (!iops) return mib_per_s();
  std::vector<double> v;
  const double ios = static_cast<double>(bytes) / static_cast<double>(block_size ? block_size : 1);
  for (double s : seconds) v.push_back(s > 0 ? ios / s : 0);
  return v;
}

std::vector<double> BenchCell::cpu_s_per_gib() const {
  std::vector<double> v;
  for (double s : cpu_seconds) v.push_back(bytes ? s / (static_cast<double>(bytes) / kGiB) : 0);
  return v;
}

const BenchCell* BenchRun::find(const std::string& target, const std::string& engine, const std::string& op) const {
  for (const auto& c : cells)
    if (c.target == target && c.engine == engine && c.op == op) return &c;
  return nullptr;
}

std::vector<std::string> BenchRun::targets() const {
  std::vector<std::string> v;
  for (const auto& c : cells) push_unique(&v, c.target);
  return v;
}

std::vector<std::string> BenchRun::engines() const {
  std::vector<std::string> v;
  for (const auto& c : cells) push_unique(&v, c.engine);
  return v;
}

json bench_to_json(const BenchRun& run) {
  json cells = json::array();
  for (const auto& c : run.cells) {
    Summary s = summarize(c.mib_per_s());
    Summary cpu = summarize(c.cpu_s_per_gib());
    json clat = json::array();
    for (const auto& l : c.clat_us) clat.push_back({{"p50", l.p50}, {"p99", l.p99}, {"p99.9", l.p999}, {"max", l.max}});
    cells.push_back({{"target", c.target},
                     {"engine", c.engine},
                     {"op", c.op},
                     {"bytes", c.bytes},
                     {"block_size", c.block_size},
                     {"iops", c.iops},
                     {"iodepth", c.iodepth},
                     {"jobs", c.jobs},
                     {"clat_us", clat},
                     {"seconds", c.seconds},
                     {"cpu_seconds", c.cpu_seconds},
                     {"thread_cpu_seconds", c.thread_cpu_seconds},
                     {"buffer_runs", c.buffer_runs},
                     {"path", c.path},
                     {"path_detail", c.path_detail},
                     {"mib_per_s", {{"median", s.median}, {"min", s.min}, {"max", s.max}, {"cv", s.cv}}},
                     {"cpu_s_per_gib_median", cpu.median}});
  }
  return {{"kind", "diotorture-bench"}, {"version", 1},       {"label", run.label},
          {"run_id", run.run_id},       {"started", run.started}, {"hostname", run.hostname},
          {"kernel", run.kernel},       {"tool_version", run.tool_version}, {"config", run.config},
          {"filesystem", run.filesystem}, {"layouts", run.layouts}, {"sample", run.sample},
          {"cells", cells}};
}

BenchRun bench_from_json(const json& j, const std::string& source) {
  auto bad = [&](const std::string& what) {
    return SetupError(fmt::format("{} is not a diotorture bench result ({}); give a bench.json written by "
                                  "'diotorture bench'",
                                  source, what));
  };
  if (!j.is_object() || j.value("kind", "") != "diotorture-bench") throw bad("no \"kind\": \"diotorture-bench\"");
  if (j.value("version", 0) != 1) throw bad(fmt::format("version {}, this tool reads 1", j.value("version", 0)));
  BenchRun r;
  try {
    r.label = j.at("label").get<std::string>();
    r.run_id = j.value("run_id", "");
    r.started = j.value("started", "");
    r.hostname = j.value("hostname", "");
    r.kernel = j.value("kernel", "");
    r.tool_version = j.value("tool_version", "");
    r.config = j.value("config", json::object());
    r.filesystem = j.value("filesystem", json::object());
    r.layouts = j.value("layouts", json::object());
    r.sample = j.value("sample", "repetition");
    for (const auto& c : j.at("cells")) {
      BenchCell b;
      b.target = c.at("target").get<std::string>();
      b.engine = c.at("engine").get<std::string>();
      b.op = c.at("op").get<std::string>();
      b.bytes = c.at("bytes").get<uint64_t>();
      b.seconds = c.at("seconds").get<std::vector<double>>();
      b.cpu_seconds = c.value("cpu_seconds", std::vector<double>{});
      b.thread_cpu_seconds = c.value("thread_cpu_seconds", std::vector<double>{});
      b.path = c.value("path", "");
      b.path_detail = c.value("path_detail", "");
      b.block_size = c.value("block_size", r.config.value("block_size", uint64_t{0}));
      b.iops = c.value("iops", false);
      b.iodepth = c.value("iodepth", r.config.value("iodepth", 1u));
      b.jobs = c.value("jobs", 1u);
      b.buffer_runs = c.value("buffer_runs", size_t{0});
      for (const auto& l : c.value("clat_us", json::array()))
        b.clat_us.push_back({l.at("p50").get<double>(), l.at("p99").get<double>(), l.at("p99.9").get<double>(),
                             l.at("max").get<double>()});
      if (b.seconds.empty()) throw bad(fmt::format("cell {} {} {} has no repetitions", b.target, b.engine, b.op));
      // A time that is not positive would make a throughput and a verdict out of nothing.
      for (double s : b.seconds)
        if (!(s > 0) || !std::isfinite(s))
          throw bad(fmt::format("cell {} {} {} has a repetition of {} s", b.target, b.engine, b.op, s));
      if (b.bytes == 0) throw bad(fmt::format("cell {} {} {} moved 0 bytes", b.target, b.engine, b.op));
      r.cells.push_back(std::move(b));
    }
    if (r.cells.empty()) throw bad("it has no cells");
  } catch (const json::exception& e) {
    throw bad(e.what());
  }
  return r;
}

}  // namespace dt
