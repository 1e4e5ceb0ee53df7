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

namespace {

const dt::Command kCommands[] = {
    {"list", "List the cases with their groups, description and requirements", dt::setup_list},
    {"run", "Run cases (default: the quick group) on a btrfs, fstests style", dt::setup_run},
    {"bench", "Measure sequential direct-I/O throughput (seed 002's table) and save it under results/", dt::setup_bench},
    {"compare", "Compare bench results: the seed 002 table with a significance verdict per cell", dt::setup_compare},
    {"vm", "Run a subcommand against another kernel under qemu (KVM or TCG), results back on the host", dt::setup_vm},
    {"ab", "Benchmark kernel A against kernel B in interleaved boots (ABBA) and judge each cell across rounds",
     dt::setup_ab},
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
  app.require_subcommand(1);
  std::map<std::string, dt::Action> actions;
  std::vector<std::string> names;
  for (const auto& c : kCommands) {
    CLI::App* sub = app.add_subcommand(c.name, c.description);
    actions[c.name] = c.setup(*sub);
    names.push_back(c.name);
  }
  if (argc > 1 && argv[1][0] != '-' && !actions.count(argv[1])) {
    std::string hint = dt::did_you_mean(argv[1], names);
    return fail_usage(fmt::format("unknown command '{}'{}; 'diotorture --help' lists them", argv[1],
                                  hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
  }
  // Commands that run another command get everything after "--" untouched.
  std::vector<char*> args(argv, argv + argc);
  if (argc > 1 && std::string(argv[1]) == "ab") {
    auto dd = std::find_if(args.begin() + 2, args.end(), [](const char* a) { return std::string(a) == "--"; });
    if (dd != args.end()) {
      for (auto it = dd + 1; it != args.end(); ++it) dt::passthrough_args().push_back(*it);
      args.erase(dd, args.end());
    }
  }
  try {
    app.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
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
    return fail_usage(fmt::format("{} (run as root on a btrfs; see README.md)", e.what()));
  } catch (const std::exception& e) {
    return fail_usage(fmt::format("internal error: {}", e.what()));
  }
  return 2;
}
