// diotorture exec [filesystem options as for run] [--timeout S] [--results DIR] -- PROGRAM [ARGS...]
// Runs a program (a torture run's repro.c, built) with a fresh btrfs directory
// as its first argument, under the watchdog; in `vm` it runs on the guest's kernel.
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

#include "cmd/command.hpp"
#include "lib/btrfs/workspace.hpp"
#include "lib/run/program.hpp"
#include "lib/run/results_dir.hpp"
#include "lib/sys/sys.hpp"

namespace dt {
namespace {

struct ExecCli {
  FilesystemRequest fs;
  unsigned timeout = 600;
  std::string results = "results";
  std::vector<std::string> argv;
};

// The disk under the loop images when it is (nearly) full: a program that
// filled it makes the loop devices fail writes, and btrfs then aborts its
// transaction; that is the set-up's problem, not a kernel bug. "" otherwise.
std::string full_disk_under(const std::vector<std::string>& loops) {
  for (const auto& dev : loops) {
    const std::string name = std::filesystem::path(dev).filename().string();
    std::string backing = trim(read_file_or_empty("/sys/block/" + name + "/loop/backing_file"));
    if (backing.empty()) continue;
    const std::string dir = std::filesystem::path(backing).parent_path().string();
    struct statvfs sv {};
    if (::statvfs(dir.c_str(), &sv) == 0 && uint64_t(sv.f_bavail) * sv.f_frsize < (16ull << 20))
      return fmt::format("the disk under the loop images ({}) is full ({} KiB free): the write errors come from "
                         "there, not from a kernel bug; free space there or set TMPDIR to a larger disk",
                         dir, uint64_t(sv.f_bavail) * sv.f_frsize >> 10);
  }
  return {};
}

int exec_program(const ExecCli& c) {
  if (c.argv.empty()) throw SetupError("no program to run; give it after --, e.g. -- ./repro");
  // Before anything is made: a program that cannot start is bad input, not
  // a failure of the program on the filesystem.
  if (c.argv[0].find('/') == std::string::npos) {
    if (program_path(c.argv[0]).empty())
      throw SetupError(fmt::format("{}: no such program in PATH; give its path (./{}) or install it", c.argv[0],
                                   c.argv[0]));
  } else {
    struct stat st {};
    if (::stat(c.argv[0].c_str(), &st) != 0 || !S_ISREG(st.st_mode) || ::access(c.argv[0].c_str(), X_OK) != 0)
      throw SetupError(fmt::format("{} is not an executable file; build the reproducer first (cc repro.c -luring)",
                                   c.argv[0]));
  }
  Workspace ws(choose_filesystem(c.fs));
  const std::string id = make_run_dir(c.results);
  const std::filesystem::path run_dir = std::filesystem::path(c.results) / id;
  std::cout << fmt::format("EXEC      -- {} (kernel {}, {})\n", fmt::join(c.argv, " "), kernel_release(),
                           ws.provisioning())
            << std::flush;
  const ProgramRun r = run_program(c.argv, ws.dir(), c.timeout,
                                   ws.scratch() ? ws.scratch()->devices() : std::vector<std::string>{});
  std::cout << r.output;
  const auto& o = r.outcome;
  const bool hung = o.end == ChildOutcome::End::Hung;
  std::string verdict = hung ? "HANG: " + o.hang_reason
                        : o.end == ChildOutcome::End::Signaled ? fmt::format("killed by signal {}", o.signal)
                                                               : fmt::format("exit status {}", o.exit_code);
  nlohmann::json j = {{"argv", c.argv},       {"kernel", kernel_release()}, {"provisioning", ws.provisioning()},
                      {"verdict", verdict},   {"exit_code", o.exit_code},   {"hung", hung},
                      {"seconds", o.seconds}, {"kernel_findings", r.kernel_findings},
                      {"kernel_notes", r.kernel_notes}, {"survivors", r.survivors}};
  for (const auto& n : r.kernel_notes) std::cout << "note: " << n << "\n";
  if (!r.survivors.empty())
    std::cout << fmt::format("exec: the program left {} process{} running after it ended, killed before the "
                             "filesystem was taken down: {}\n",
                             r.survivors.size(), r.survivors.size() == 1 ? "" : "es", fmt::join(r.survivors, ", "));
  for (const auto& f : r.kernel_findings) std::cout << "kernel log: " << f << "\n";
  std::cout << fmt::format("exec: {} after {:.1f} s{}\n", verdict, o.seconds,
                           o.end == ChildOutcome::End::Exited && o.exit_code == 0 ? "" : " (the program reports a failure)")
            << std::flush;
  // The verdict is said first: a full or read-only results disk must not
  // swallow it (the error names the file and what to do).
  try {
    write_file_atomic(run_dir / "exec.json", j.dump(2) + "\n");
    write_file_atomic(run_dir / "output.txt", r.output);
    if (hung) write_file_atomic(run_dir / "stacks.txt", o.stacks);
  } catch (const std::exception& e) {
    std::cerr << "diotorture: the results were not saved: " << e.what() << "\n";
  }
  if (hung) return 3;
  const bool failed = !(o.end == ChildOutcome::End::Exited && o.exit_code == 0 && r.kernel_findings.empty());
  if (const std::string full = ws.scratch() && failed ? full_disk_under(ws.scratch()->devices()) : ""; !full.empty()) {
    std::cerr << "diotorture: " << full << "\n";
    return 2;
  }
  return o.end == ChildOutcome::End::Exited && o.exit_code == 0 && r.kernel_findings.empty() ? 0 : 1;
}

}  // namespace

Action setup_exec(CLI::App& sub) {
  auto o = std::make_shared<ExecCli>();
  add_filesystem_options(sub, &o->fs);
  sub.add_option("--timeout", o->timeout, "Seconds before the program is a hang and is killed")
      ->transform(Bounded("a number of seconds", 1, 7 * 86400))
      ->capture_default_str();
  add_results_option(sub, &o->results);
  sub.prefix_command();
  sub.footer("After the options: the program and its arguments (the filesystem's directory is inserted as its first "
             "argument)");
  return [o, app = &sub] {
    o->argv = app->remaining();
    if (!o->argv.empty() && o->argv.front() == "--") o->argv.erase(o->argv.begin());
    return exec_program(*o);
  };
}

}  // namespace dt
