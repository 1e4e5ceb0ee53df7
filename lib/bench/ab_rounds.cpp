#include "lib/bench/ab_rounds.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "lib/bench/ab.hpp"
#include "lib/sys/interrupt.hpp"
#include "lib/sys/sys.hpp"

namespace dt {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// The cell a bench is on, from its --progress-lines output ("" before the first).
std::string current_cell(const std::string& text) {
  const std::string tag = "diotorture-bench: ";
  const size_t at = text.rfind(tag);
  if (at == std::string::npos) return "";
  const size_t end = text.find_first_of("\r\n", at);
  return text.substr(at + tag.size(), end == std::string::npos ? std::string::npos : end - at - tag.size());
}

std::string duration(double s) {
  const long t = static_cast<long>(s + 0.5);
  return t >= 60 ? fmt::format("{}m{:02}s", t / 60, t % 60) : fmt::format("{}s", t);
}

class Progress {
 public:
  Progress(std::ostream& out, bool live, size_t total) : out_(out), live_(live), total_(total) {}
  void start_round(size_t index, const AbSide& side) {
    index_ = index;
    what_ = fmt::format("round {} of {}: {} ({})", index + 1, total_, side.label,
                        side.host() ? "host kernel " + side.release : side.release);
    started_ = Clock::now();
    if (!live_) out_ << what_ << "..." << std::flush;
    update("");
  }
  void update(const std::string& text) {
    if (!live_) return;
    const std::string cell = current_cell(text);
    const std::string line = what_ + (cell.empty() ? ": starting" : ": " + cell) + " -- " + left();
    if (line == shown_) return;  // polled every 200 ms: redraw only on change
    shown_ = line;
    out_ << "\r\033[K" << line << std::flush;
  }
  void end_round() {
    const double s = std::chrono::duration<double>(Clock::now() - started_).count();
    done_.push_back(s);
    if (live_) out_ << "\r\033[K" << std::flush;
    else out_ << fmt::format(" done in {}\n", duration(s)) << std::flush;
  }
  void clear() {
    if (live_) out_ << "\r\033[K" << std::flush;
  }

 private:
  std::string left() const {
    if (done_.empty()) return "time left: after the first round";
    double mean = 0;
    for (double d : done_) mean += d;
    mean /= static_cast<double>(done_.size());
    const double now = std::chrono::duration<double>(Clock::now() - started_).count();
    const double rest = mean * static_cast<double>(total_ - index_) - std::min(now, mean);
    return "about " + duration(std::max(0.0, rest)) + " left";
  }
  std::ostream& out_;
  bool live_;
  size_t total_, index_ = 0;
  std::string what_, shown_;
  Clock::time_point started_;
  std::vector<double> done_;
};

// `bench` on this machine in a child process, its output in `log`; returns
// its exit status. An interrupt is passed on (SIGTERM) and the child given a
// minute to clean up its scratch filesystem before SIGKILL.
int run_host_bench(const std::vector<std::string>& args, const fs::path& log, Progress& progress) {
  const std::string self = fs::canonical("/proc/self/exe").string();
  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    ::setpgid(0, 0);
    unblock_interrupts_in_child();
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int null = ::open("/dev/null", O_RDONLY);
    if (fd < 0 || null < 0) ::_exit(127);
    ::dup2(null, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv = {const_cast<char*>(self.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  for (;;) {
    if (::waitpid(pid, &status, WNOHANG) == pid) break;
    if (interrupted()) {
      ::kill(-pid, SIGTERM);
      for (int i = 0; i < 600 && ::waitpid(pid, &status, WNOHANG) != pid; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      throw Interrupted();
    }
    progress.update(read_file_or_empty(log));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

AbRoundsResult run_ab_rounds(const AbOptions& o, std::ostream& out) {
  AbRoundsResult r;
  const auto order = abba_order(o.rounds);
  Progress progress(out, o.progress, order.size());
  VmOptions vm = o.vm;
  for (size_t i = 0; i < order.size(); ++i) {
    const unsigned s = order[i];
    const AbSide& side = o.sides[s];
    const fs::path dir = o.dir / fmt::format("round-{:02}-{}", i + 1, s == 0 ? 'A' : 'B');
    fs::create_directories(dir);
    r.round_dirs.push_back(dir.filename().string());
    std::vector<std::string> args = {"bench"};
    args.insert(args.end(), o.bench_args.begin(), o.bench_args.end());
    // Our own label per side, and progress lines we can follow from outside.
    args.insert(args.end(), {"--label", side.label, "--no-progress", "--progress-lines"});
    progress.start_round(i, side);
    int rc = 0;
    if (side.host()) {
      args.insert(args.end(), {"--results", dir.string()});
      rc = run_host_bench(args, dir / "output.txt", progress);
    } else {
      vm.kernel = side.kernel;
      vm.modules = side.modules;
      vm.results_root = dir;
      vm.args = args;
      vm.on_console = [&](const std::string& console) { progress.update(console); };
      std::ostringstream log;
      VmOutcome outcome;
      try {
        rc = run_vm(vm, log, &outcome);
      } catch (...) {
        progress.clear();
        write_file_atomic(dir / "output.txt", log.str());
        throw;
      }
      write_file_atomic(dir / "output.txt", log.str());
      // The accelerator is the machine's, not the kernel's: probe KVM once.
      if (r.accel.empty()) r.accel = outcome.accel;
      vm.machine.settle_accel(outcome.accel);
    }
    progress.end_round();
    const fs::path json = dir / "latest" / "bench.json";
    if (rc != 0 || !fs::exists(json)) {
      r.failed_rc = rc != 0 ? rc : 3;
      r.failure = fmt::format("round {} ({}) {}; its output is in {}", i + 1, side.label,
                              rc != 0 ? fmt::format("exited {}", rc) : "wrote no bench.json",
                              (dir / "output.txt").string());
      return r;
    }
    auto j = nlohmann::json::parse(read_file(json), nullptr, false);
    if (j.is_discarded()) throw SetupError(json.string() + " is not JSON");
    r.runs[s].push_back(bench_from_json(j, json.string()));
  }
  return r;
}

}  // namespace dt
