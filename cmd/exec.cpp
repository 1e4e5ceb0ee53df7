// diotorture exec [filesystem options as for run] [--timeout S] [--results DIR] -- PROGRAM [ARGS...]
// Runs a program (a torture run's repro.c, built) with a fresh btrfs directory
// as its first argument, under the watchdog; in `vm` it runs on the guest's kernel.
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

int exec_program(const ExecCli& c) {
  if (c.argv.empty()) throw SetupError("no program to run; give it after --, e.g. -- ./repro");
  if (c.argv[0].find('/') != std::string::npos && ::access(c.argv[0].c_str(), X_OK) != 0)
    throw SetupError(fmt::format("{} is not an executable file; build the reproducer first (cc repro.c -luring)",
                                 c.argv[0]));
  if (::geteuid() != 0) throw SetupError("diotorture exec needs root (it makes a btrfs); rerun it as root");
  Workspace ws(choose_filesystem(c.fs));
  const std::string id = make_run_dir(c.results);
  const std::filesystem::path run_dir = std::filesystem::path(c.results) / id;
  std::cout << fmt::format("EXEC      -- {} (kernel {}, {})\n", fmt::join(c.argv, " "), kernel_release(),
                           ws.provisioning())
            << std::flush;
  const ProgramRun r = run_program(c.argv, ws.dir(), c.timeout);
  std::cout << r.output;
  const auto& o = r.outcome;
  const bool hung = o.end == ChildOutcome::End::Hung;
  std::string verdict = hung ? "HANG: " + o.hang_reason
                        : o.end == ChildOutcome::End::Signaled ? fmt::format("killed by signal {}", o.signal)
                                                               : fmt::format("exit status {}", o.exit_code);
  nlohmann::json j = {{"argv", c.argv},       {"kernel", kernel_release()}, {"provisioning", ws.provisioning()},
                      {"verdict", verdict},   {"exit_code", o.exit_code},   {"hung", hung},
                      {"seconds", o.seconds}, {"kernel_findings", r.kernel_findings}};
  write_file_atomic(run_dir / "exec.json", j.dump(2) + "\n");
  write_file_atomic(run_dir / "output.txt", r.output);
  if (hung) write_file_atomic(run_dir / "stacks.txt", o.stacks);
  for (const auto& f : r.kernel_findings) std::cout << "kernel log: " << f << "\n";
  std::cout << fmt::format("exec: {} after {:.1f} s{}\n", verdict, o.seconds,
                           o.end == ChildOutcome::End::Exited && o.exit_code == 0 ? "" : " (the program reports a failure)");
  if (hung) return 3;
  return o.end == ChildOutcome::End::Exited && o.exit_code == 0 && r.kernel_findings.empty() ? 0 : 1;
}

}  // namespace

Action setup_exec(CLI::App& sub) {
  auto o = std::make_shared<ExecCli>();
  add_filesystem_options(sub, &o->fs);
  sub.add_option("--timeout", o->timeout, "Seconds before the program is a hang and is killed")
      ->transform(Bounded("a number of seconds", 1, 7 * 86400))
      ->capture_default_str();
  sub.add_option("--results", o->results, "Results root")->check(WritablePath(true))->capture_default_str();
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
