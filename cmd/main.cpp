// diotorture: direct-I/O torture and benchmarks for btrfs. One table drives
// help, dispatch and "did you mean"; errors are printed here, once, as one
// line, with exit status 2.
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <system_error>

#include "cmd/command.hpp"
#include "lib/harness/registry.hpp"
#include "lib/sys/interrupt.hpp"
#include "lib/sys/spellcheck.hpp"
#include "lib/sys/sys.hpp"
#include "lib/sys/version.hpp"

namespace dt {
Action setup_help(CLI::App& sub);  // cmd/help.cpp
}  // namespace dt

namespace {

const dt::Command kCommands[] = {
    {"list", "List the cases with their groups, description and requirements", dt::setup_list},
    {"run", "Run cases (default: the quick group) on a btrfs, fstests style", dt::setup_run},
    {"bench", "Measure sequential direct-I/O throughput (seed 002's table) and save it under results/", dt::setup_bench},
    {"compare", "Compare bench results: the seed 002 table with a significance verdict per cell", dt::setup_compare},
    {"clean", "Remove what killed runs left behind (mounts, loop devices, images, tracefs instances), and only that",
     dt::setup_clean},
    {"torture", "Random direct I/O against a model, with faults, concurrent events, replay, shrinking, repro.c",
     dt::setup_torture},
    {"vm", "Run a subcommand against another kernel under qemu (KVM or TCG), results back on the host", dt::setup_vm},
    {"ab", "Benchmark kernel A against kernel B in interleaved boots (ABBA) and judge each cell across rounds",
     dt::setup_ab},
    {"crash", "Power-cut testing under qemu: every write the kernel said was durable must survive a crash at any flush",
     dt::setup_crash},
    {"exec", "Run a program (a torture repro.c, built) on a fresh btrfs under the watchdog; in vm, on that kernel",
     dt::setup_exec},
    {"help", "Print a page of the reference (docs/): a command's, or cases, known-bugs, runner, ...", dt::setup_help},
    {"crash-record", "(guest half of crash) run the durability workloads on the logged disk", dt::setup_crash_record,
     true},
    {"crash-check", "(guest half of crash) mount and check crash states", dt::setup_crash_check, true},
};

}  // namespace

std::vector<std::string>& dt::passthrough_args() {
  static std::vector<std::string> args;
  return args;
}

namespace {

int fail_usage(const std::string& msg) {
  std::cerr << "diotorture: " << msg << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    dt::install_interrupt_handling();
  } catch (const std::exception& e) {
    return fail_usage(e.what());
  }
  CLI::App app{"diotorture: direct I/O torture and benchmarking for btrfs"};
  app.name("diotorture");
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("diotorture ") + dt::tool_version(), "Print the version and exit");
  std::map<std::string, dt::Action> actions;
  std::vector<std::string> names;
  for (const auto& c : kCommands) {
    CLI::App* sub = app.add_subcommand(c.name, c.description);
    actions[c.name] = c.setup(*sub);
    if (c.guest_only) sub->group("");  // hidden from --help
    else names.push_back(c.name);
  }
  if (argc > 1 && argv[1][0] != '-' && !actions.count(argv[1])) {
    std::string hint = dt::did_you_mean(argv[1], names);
    return fail_usage(fmt::format("unknown command '{}'{}; 'diotorture --help' lists them", argv[1],
                                  hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  // Commands that run another command get everything after "--" untouched:
  // ab hands it to bench in every round.
  if (!args.empty() && args[0] == "ab") {
    auto dd = std::find(args.begin() + 1, args.end(), "--");
    if (dd != args.end()) {
      for (auto it = dd + 1; it != args.end(); ++it) dt::passthrough_args().push_back(*it);
      args.erase(dd, args.end());
    }
  }
  // A command that passes the rest of the line on (vm) takes it with or
  // without a `--` in front; CLI11 would otherwise reject the words after it.
  if (!args.empty() && actions.count(args[0]) && app.get_subcommand(args[0])->get_prefix_command()) {
    auto sep = std::find(args.begin(), args.end(), "--");
    if (sep != args.end()) args.erase(sep);
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes them last-first
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    for (auto& ch : msg)
      if (ch == '\n') ch = ' ';
    return fail_usage(fmt::format("{}; see 'diotorture {} --help'", msg,
                                  app.get_subcommands().empty() ? "" : app.get_subcommands().front()->get_name()));
  }
  try {
    for (const auto* sub : app.get_subcommands()) return actions.at(sub->get_name())();
  } catch (const dt::SetupError& e) {
    return fail_usage(e.what());
  } catch (const dt::Interrupted&) {
    std::cerr << "diotorture: interrupted; everything it created has been removed\n";
    return 128 + (dt::interrupt_signal() ? dt::interrupt_signal() : 2);
  } catch (const std::system_error& e) {
    return fail_usage(e.what());
  } catch (const std::exception& e) {
    return fail_usage(fmt::format("internal error: {}", e.what()));
  }
  return 2;
}
