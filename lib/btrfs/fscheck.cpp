#include "lib/btrfs/fscheck.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "lib/btrfs/copies.hpp"
#include "lib/btrfs/fsinfo.hpp"
#include "lib/sys/sys.hpp"

namespace dt {

FsCheck check_filesystem(const std::filesystem::path& mount_point, ScratchFs* scratch) {
  FsCheck r;
  if (mount_info_for(mount_point).fstype != "btrfs") {
    r.summary = "not btrfs: no check";
    return r;
  }
  {
    Fd root = open_or_throw(mount_point, O_RDONLY | O_DIRECTORY);
    ::syncfs(root.get());
    try {
      ScrubTotals scrub = scrub_readonly(root.get(), btrfs_devices(root.get()));
      r.summary = scrub.errors() ? "scrub found errors (" + scrub.summary() + ")" : "scrub clean";
      r.output += "read-only scrub: " + scrub.summary() + "\n";
      if (scrub.errors()) r.ok = false;
    } catch (const std::exception& e) {
      // EOPNOTSUPP and the like: the check could not run, which is not a finding.
      r.summary = fmt::format("scrub not run ({})", e.what());
      r.output += r.summary + "\n";
    }
  }
  if (!scratch) {
    r.summary += "; btrfs check not run (a --test-dir is not ours to unmount)";
    return r;
  }
  std::string out;
  int rc = -1;
  scratch->while_unmounted(
      [&] { rc = run_command({"btrfs", "check", "--readonly", scratch->devices().front()}, &out); });
  r.output += fmt::format("btrfs check --readonly {} (exit {}):\n{}\n", scratch->devices().front(), rc, out);
  if (rc == 127) {
    // No btrfs-progs here (a `vm` guest has none): the check did not run, which is no finding.
    r.summary += "; btrfs check not run (no btrfs-progs here)";
  } else if (rc == 0) {
    r.summary += "; btrfs check --readonly clean";
  } else {
    r.ok = false;
    // The first line that names a problem, for the one-line summary.
    std::string first;
    for (const auto& line : split(out, '\n'))
      if (line.find("ERROR") != std::string::npos || line.find("error") != std::string::npos) {
        first = trim(line);
        break;
      }
    r.summary += fmt::format("; btrfs check --readonly found errors (exit {}{})", rc, first.empty() ? "" : ": " + first);
  }
  return r;
}

}  // namespace dt
