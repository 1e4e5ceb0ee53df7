// What a case sees: its scratch directories, parameters, a log, and the
// reporting calls whose results the runner collects. A case records failures
// and keeps going (so one run lists every bad range); the runner owns
// timeouts, the kernel-log check and the verdict.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/btrfs/layout.hpp"
#include "lib/harness/registry.hpp"
#include "lib/io/iopath.hpp"
#include "lib/harness/shard.hpp"

namespace dt {

// Thrown by Context::notrun(); the runner turns it into status notrun.
struct NotRun {
  std::string reason;
};

// A directory the scenario runs in: the default (checksummed) one, and a
// NOCOW one, since on current kernels only NOCOW files take the true direct path.
struct Variant {
  std::string name;  // "datasum" or "nocow"
  std::filesystem::path dir;
  bool checksummed = true;  // what the file flags and mount options really give
};

struct RunParams {
  uint64_t seed = 1;
  unsigned iterations = 0;  // 0: the case's own default
  unsigned timeout_s = 0;   // the watchdog's limit for this case (set by the runner)
  std::map<std::string, std::string> overrides;  // -p key=value
  Shard shard;  // run --shard: the part of a shards_combinations case's combinations to run
};

// One combination of a case's declared list parameters, named as kselftest
// names a FIXTURE_VARIANT: "nocow/size=64K,op=write,engine=io_uring".
class Combination {
 public:
  Combination(std::string name, std::vector<std::pair<std::string, std::string>> values)
      : name_(std::move(name)), values_(std::move(values)) {}
  const std::string& name() const { return name_; }
  // The value of a parameter in this combination, as the user gave it.
  const std::string& operator[](std::string_view param) const;
  // ... read as a size or count ("64k" -> 65536).
  uint64_t size(std::string_view param) const;

 private:
  std::string name_;
  std::vector<std::pair<std::string, std::string>> values_;
};

class Context {
 public:
  Context(const CaseInfo& info, RunParams params, std::filesystem::path work_dir, int log_fd, int event_fd);

  const std::string& id() const { return info_.id; }
  const std::filesystem::path& work_dir() const { return work_dir_; }
  uint64_t seed() const { return params_.seed; }
  unsigned timeout_s() const { return params_.timeout_s; }
  unsigned iterations(unsigned case_default) const {
    return params_.iterations ? params_.iterations : case_default;
  }

  // Declared parameters; the value is the -p override or the default.
  std::string param(const std::string& name) const;
  std::vector<std::string> param_list(const std::string& name) const;   // comma separated
  std::vector<uint64_t> param_sizes(const std::string& name) const;     // "4k,64k,1m"
  uint64_t param_u64(const std::string& name) const;

  // Creates <work>/datasum and <work>/nocow (chattr +C) and reports what each
  // really is; -p variant=NAME keeps one of them.
  std::vector<Variant> variants();

  // Runs body once per combination of the listed (comma-list) parameters,
  // the first varying slowest. Each combination is reported on its own in
  // the results, as pass or fail; `prefix` (e.g. the variant) leads its name.
  void for_each_combination(const std::vector<std::string>& params, const std::string& prefix,
                            const std::function<void(const Combination&)>& body);

  template <typename... A>
  void log(fmt::format_string<A...> f, A&&... a) {
    log_line(fmt::format(f, std::forward<A>(a)...));
  }
  template <typename... A>
  void fail(fmt::format_string<A...> f, A&&... a) {
    record_failure(fmt::format(f, std::forward<A>(a)...));
  }
  void record_failure(const std::string& msg);
  size_t failures() const { return failures_; }

  [[noreturn]] void notrun(const std::string& reason);
  // A sub-variant the kernel does not support (EINVAL/EOPNOTSUPP/ENOSYS from a
  // feature probe): logged and counted, the rest of the case goes on.
  void skip(const std::string& what, const std::string& reason);

  // Logs and records the layout; a layout that is not as specified fails the
  // case, because the scenario it was built for did not happen.
  bool report_layout(const std::string& file, const LayoutCheck& check, const std::vector<Extent>& extents);
  // Judges, logs and records the path one I/O took.
  void report_path(const std::string& key, PathReport r);
  void metric(const std::string& name, double value, const std::string& unit);
  // A fact the reader of the summary must see even when the case passes, e.g.
  // "every write fell back to buffered I/O: the race was not exercised".
  void note(const std::string& msg);

  PathTracer& tracer() { return tracer_; }

  // Starts path tracing on the given file descriptors' inodes.
  void trace_start(std::initializer_list<int> fds);
  // Stops tracing and fills r->counts/traced/residency for fd's [off, off+len).
  void trace_stop(PathReport* r, int fd, uint64_t off, uint64_t len);

 private:
  void log_line(const std::string& line);
  void emit(const std::string& event_line);  // one line of lib/harness/case_events

  const CaseInfo& info_;
  RunParams params_;
  std::filesystem::path work_dir_;
  int log_fd_;
  int event_fd_;
  size_t failures_ = 0;
  size_t combinations_seen_ = 0;  // across the case, for the shard of each
  PathTracer tracer_;
};

// The shared rule that EINVAL/EOPNOTSUPP/ENOSYS from a feature (an io_uring
// opcode, a flag) mean "this kernel lacks it": true, and the sub-variant is
// recorded as skipped, never a case failure. err is a positive errno.
bool skip_if_unsupported(Context& ctx, const std::string& what, int err);

}  // namespace dt
