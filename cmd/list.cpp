// diotorture list [-g GROUP] [-v] [--format text|markdown]: the registry.
#include <iostream>
#include <memory>

#include "cmd/command.hpp"
#include "lib/harness/case_list.hpp"
#include "lib/harness/registry.hpp"

namespace dt {

Action setup_list(CLI::App& sub) {
  auto groups = std::make_shared<std::vector<std::string>>();
  auto verbose = std::make_shared<bool>(false);
  auto format = std::make_shared<std::string>("text");
  sub.add_option("-g,--group", *groups, "Only cases in this group (repeatable)");
  sub.add_flag("-v,--verbose", *verbose, "Also list each case's fix, fstests tests, filesystem and parameters");
  sub.add_option("--format", *format, "text, or markdown (the case reference in docs/cases.md)")
      ->check(CLI::IsMember({"text", "markdown"}));
  return [groups, verbose, format] {
    SelectionRequest req;
    req.groups = *groups;
    if (req.groups.empty()) {
      // Everything, including the selftest group that `run` leaves out by default.
      for (const auto& c : all_cases()) req.ids.push_back(c.id);
    }
    const auto cases = select_cases(all_cases(), req);
    std::cout << (*format == "markdown" ? case_list_markdown(cases) : case_list_text(cases, *verbose));
    return 0;
  };
}

}  // namespace dt
