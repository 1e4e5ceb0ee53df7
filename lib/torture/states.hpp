// Held filesystem states: the "state" event puts the filesystem into a state
// (a balance paused mid-convert, a device replace running, quota rescanning,
// a read-only snapshot of the subvolume, nearly no free space, ...) and keeps
// it there for a seeded window of steps while the ops run. Whether the state
// holds is the kernel's answer (BTRFS_IOC_BALANCE_PROGRESS, _SCRUB_PROGRESS,
// _DEV_REPLACE status, _QUOTA_RESCAN_STATUS, the exclusive_operation sysfs
// file, ...), asked again when each op starts and when it ends: an op is
// logged with the states the kernel confirmed at both moments, never with a
// state that was only meant to be there.
// The pure parts (the table of states, the choice of a state and its window,
// the op × state table of a run) are here beside the live holders.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/torture/op.hpp"
#include "lib/torture/prng.hpp"

namespace dt {

struct StateInfo {
  const char* name;
  const char* description;
  const char* confirmed_by;  // the kernel's answer that the state holds
  bool needs_spare = false;  // a spare device of the tool's own
};
// Every state the "state" event can hold, in the order the table shows them.
const std::vector<StateInfo>& state_table();
const StateInfo* find_state(const std::string& name);

// Generation: the state a "state" event holds (s.arg) and its window in
// steps (s.len), from the step's own random stream.
void choose_state(Prng& r, Step& s);

// Pure: the states an op ran in — confirmed when it started and still when it ended.
std::vector<std::string> held_through(const std::vector<std::string>& at_start, const std::vector<std::string>& at_end);

// Pure: the op kind × state table of a run, from its op log.
struct StateCell {
  uint64_t ops = 0, failures = 0;
};
struct HoldCount {
  uint64_t tried = 0, held = 0;
  std::string last_refusal;  // why the last try was not held
};
struct StateReport {
  std::vector<std::string> ops;     // the op kinds the run could choose
  std::vector<std::string> states;  // the states the run could hold
  std::map<std::string, std::map<std::string, StateCell>> cells;  // state ("" = none) -> op -> cell
  std::map<std::string, HoldCount> holds;
  size_t visited() const;  // cells (op, held state) with at least one op
  size_t total() const { return ops.size() * states.size(); }
  nlohmann::json to_json() const;
  std::string format() const;  // the console lines
};
// failed_seq: the step that failed (0: none); spares: device states could be held.
StateReport state_report(const OpLog& log, uint64_t failed_seq, const Mix& mix, bool spares);

// The table of a finished run: summary["states"] and the console lines.
// A log that cannot be read back is said so; nothing fails.
void report_states(const std::filesystem::path& oplog, uint64_t failed_seq, const Mix& mix, bool spares,
                   nlohmann::json* summary, std::ostream& out);

// What a live holder works on (filled by the EventRunner).
struct HoldTargets {
  std::filesystem::path fs_root, subvol, snap_dir;
  std::vector<std::filesystem::path> files;
  std::vector<std::string> spares;
  // Puts the filesystem's devices back as they were at the start; appends what it did to s.
  std::function<void(Step& s)> restore_devices;
};

// A state being held. establish() and release() run in the event thread,
// keep() there between them; confirm() may be called from any thread while
// the state is held.
class StateHold {
 public:
  virtual ~StateHold() = default;
  // "" when the kernel confirmed the state; otherwise why it is not held
  // (whatever was started is undone).
  virtual std::string establish(Step& s) = 0;
  // The kernel says now that the state holds.
  virtual bool confirm() = 0;
  // Called every few milliseconds while held: restarts what ended by itself
  // (a balance or scrub that finished, a quota rescan that completed).
  virtual void keep() {}
  // Ends the state; appends the kernel's answers to s.res and words to s.note.
  virtual void release(Step& s) = 0;
  // Damage the held work reported (scrub errors), "" if none.
  virtual std::string failure() { return ""; }
};
// nullptr for an unknown state name.
std::unique_ptr<StateHold> make_hold(const std::string& state, const HoldTargets& t);

}  // namespace dt
