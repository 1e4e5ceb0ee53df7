// diotorture clean
// Removes what runs that were killed (kill -9, a CI job's time limit) left
// behind, from their own records; never anything else. `run` and `bench` do
// the same at their start.
#include <iostream>

#include "cmd/command.hpp"
#include "lib/btrfs/reclaim.hpp"
#include "lib/sys/owned.hpp"

namespace dt {

Action setup_clean(CLI::App&) {
  return [] {
    const auto reclaimed = reclaim_dead_runs();
    if (reclaimed.empty()) std::cout << "nothing to clean: no record of a dead run in " << state_dir().string() << "\n";
    std::cout << describe_reclaimed(reclaimed);
    return 0;
  };
}

}  // namespace dt
