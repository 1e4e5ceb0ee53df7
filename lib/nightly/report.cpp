#include "lib/nightly/report.hpp"

#include <fmt/format.h>

#include "lib/sys/sys.hpp"

namespace dt {

std::string subject_line(const BugReport& r) {
  std::string what = r.happened.empty() ? r.what : r.happened;
  if (what.size() > 90) what = what.substr(0, 87) + "...";
  return fmt::format("[BUG] btrfs: direct I/O: {}: {} ({})", r.what.size() > 60 ? r.what.substr(0, 57) + "..." : r.what,
                     what, r.kernel);
}

std::string render_report(const BugReport& r) {
  std::string s = "Subject: " + subject_line(r) + "\n\n";
  s += fmt::format("Hi,\n\ndiotorture ({}) finds this on {}:\n\n", r.tool_version, r.kernel);
  s += fmt::format("## Kernel\n\n    {}\n\n{}\n\n", r.kernel, r.config_hints.empty() ? "(no config hints)" : r.config_hints);
  s += fmt::format("## Filesystem\n\n{}\n\n", r.filesystem);
  if (!r.description.empty()) s += fmt::format("## What is checked\n\n{}\n\n", r.description);
  s += fmt::format("## Expected\n\n{}\n\n## What happened\n\n    {}\n\n", r.expected, r.happened);
  s += "## Reproduce\n\n```\n";
  for (const auto& c : r.reproduce) s += c + "\n";
  s += "```\n\n";
  if (!r.parameters.empty()) s += fmt::format("## Parameters\n\n{}\n\n", r.parameters);
  if (!r.repro_c.empty()) s += fmt::format("## repro.c\n\n```c\n{}{}```\n\n", r.repro_c, r.repro_c.back() == '\n' ? "" : "\n");
  s += fmt::format("## Kernel log\n\n```\n{}{}```\n\n", r.kernel_log.empty() ? "(nothing from the kernel)\n" : r.kernel_log,
                   !r.kernel_log.empty() && r.kernel_log.back() != '\n' ? "\n" : "");
  s += fmt::format("## Suspected fix\n\n{}\n\n", r.suspected_fix.empty() ? "No fix is catalogued for this failure." : r.suspected_fix);
  s += "## Passed on\n\n";
  if (r.passed_on.empty()) s += "No other results were given (report --passed-in DIR names them).\n";
  for (const auto& k : r.passed_on) s += "- " + k + "\n";
  if (!r.notes.empty()) {
    s += "\n## Notes\n\n";
    for (const auto& n : r.notes) s += "- " + n + "\n";
  }
  return s;
}

std::string combination_params(const std::string& combination) {
  std::string s, rest = combination;
  if (size_t slash = rest.find('/'); slash != std::string::npos) {
    s = "-p variant=" + rest.substr(0, slash);
    rest = rest.substr(slash + 1);
  }
  for (const auto& kv : split(rest, ','))
    if (kv.find('=') != std::string::npos) s += (s.empty() ? "" : " ") + std::string("-p ") + kv;
  return s;
}

std::string config_hints(const std::string& config_text) {
  static const char* kKeys[] = {"CONFIG_BTRFS_FS=", "CONFIG_BTRFS_ASSERT", "CONFIG_BTRFS_DEBUG",
                                "CONFIG_BTRFS_FS_CHECK_INTEGRITY", "CONFIG_BTRFS_FS_REF_VERIFY", "CONFIG_IO_URING",
                                "CONFIG_USERFAULTFD", "CONFIG_PREEMPT", "CONFIG_KASAN=", "CONFIG_PROVE_LOCKING",
                                "CONFIG_DEBUG_VM=", "CONFIG_TRANSPARENT_HUGEPAGE="};
  std::string out;
  for (const auto& line : split(config_text, '\n'))
    for (const char* k : kKeys)
      if (line.rfind(k, 0) == 0 || line.rfind(std::string("# ") + k, 0) == 0) {
        out += "    " + line + "\n";
        break;
      }
  return out;
}

}  // namespace dt
