// diotorture list [-g GROUP]: id, groups, description, requirements, parameters.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <iostream>
#include <memory>

#include "cmd/command.hpp"
#include "lib/harness/registry.hpp"

namespace dt {

Action setup_list(CLI::App& sub) {
  auto groups = std::make_shared<std::vector<std::string>>();
  auto verbose = std::make_shared<bool>(false);
  sub.add_option("-g,--group", *groups, "Only cases in this group (repeatable)");
  sub.add_flag("-v,--verbose", *verbose, "Also list each case's parameters and defaults");
  return [groups, verbose] {
    SelectionRequest req;
    req.groups = *groups;
    if (req.groups.empty()) {
      // Everything, including the selftest group that `run` leaves out by default.
      for (const auto& c : all_cases()) req.ids.push_back(c.id);
    }
    for (const CaseInfo* c : select_cases(all_cases(), req)) {
      std::cout << fmt::format("{:<28} {}\n    groups: {}; requires: {}; timeout {}s\n", c->id, c->description,
                               fmt::join(c->groups, ","), describe_requirements(c->requires_mask), c->timeout_s);
      if (*verbose)
        for (const auto& p : c->params)
          std::cout << fmt::format("    -p {}={}  {}\n", p.name, p.default_value, p.help);
    }
    return 0;
  };
}

}  // namespace dt
