// Reclaims what runs killed without cleaning up (kill -9, a CI time limit)
// left behind, from their records (lib/sys/owned): their scratch mounts,
// loop devices, sparse images and directories, and tracefs instances. A
// record is used only when its process is gone, and each item only when the
// machine still shows exactly it: a mount with the recorded mount ID, path
// and device; a loop device backed by the recorded image; an image or
// directory at the recorded path. Nothing else is ever touched. Records are
// read only from a state directory only root can write, only when root wrote
// them, and only for items the record shows to be the tool's (check_record);
// anything else is refused with a message, never acted on.
#pragma once

#include <string>
#include <vector>

namespace dt {

struct Reclaimed {
  std::string owner;                 // "<pid>.<start time>" of the dead run
  std::vector<std::string> removed;  // "unmounted /var/tmp/diotorture.x/mnt (/dev/loop3)", ...
  std::vector<std::string> kept;     // items not removed, with the reason
  std::string refused;               // the whole record was not used: "<file>: why"
};

// Reclaims every dead run's record in state_dir(); a record another process
// is reclaiming at the same moment is skipped. Throws SetupError when the
// state directory cannot be trusted.
std::vector<Reclaimed> reclaim_dead_runs();

// One line per dead run: "reclaimed from dead run 1234: unmounted ...; ...".
std::string describe_reclaimed(const std::vector<Reclaimed>& r);

}  // namespace dt
