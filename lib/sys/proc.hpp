// The process tree as /proc shows it.
#pragma once

#include <string>
#include <vector>

namespace dt {

// The parent of task `pid` (PPid in /proc/<pid>/status), -1 if it is gone.
int parent_pid(int pid);

// The processes whose parent is this process now (with PR_SET_CHILD_SUBREAPER
// set, every orphaned descendant ends up here).
std::vector<int> child_pids();

// Kills every descendant that outlived its parent (needs the subreaper flag
// set before they were started): SIGKILL, reaped, and again for those that
// came to us through a killed one. Returns "pid N (comm)" of each, with
// " (stuck in D state)" for one that could not be reaped within 2 s.
std::vector<std::string> kill_orphaned_descendants();

}  // namespace dt
