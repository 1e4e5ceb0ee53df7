// A subcommand: its name and one-line description (shown by help and used for
// "did you mean"), and a setup function that declares its options on the
// CLI11 subcommand and returns the action to run once they are parsed.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace dt {

using Action = std::function<int()>;

struct Command {
  const char* name;
  const char* description;
  Action (*setup)(CLI::App& sub);
};

Action setup_list(CLI::App& sub);
Action setup_run(CLI::App& sub);

}  // namespace dt
