// Where a torture engine's wall time goes (summary.json time_breakdown).
// One clock per engine thread of ops: at any moment exactly one kind of work
// is being done, so the kinds are exclusive and add up to the wall time.
// A Scope switches to a kind and back to the enclosing one when it ends, so a
// check nested in an op is charged to the check, not to the op as well.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dt {

// The kinds, in the order the table prints them. kCostNames has one name each.
enum class Cost : unsigned {
  Other,           // the loop itself, step generation, whatever no scope names
  Setup,           // subvolume, starting files, ring, copy reader
  Op,              // the op's own system calls (and io_uring waits)
  BufHeap,         // buffer set-up and tear-down, by source
  BufAnon,
  BufMmap,
  BufMemfd,
  BufHuge,
  BufUffd,         // userfaultfd region, handler thread, its faults before the op
  BufRegistered,
  Mutator,         // starting and stopping the buffer mutator / fault releaser threads
  CheckResult,     // the op's answer and returned data against the model
  CheckSize,       // fstat: i_size and st_blocks
  CheckDio,        // O_DIRECT read-back
  CheckPageCache,  // page-cache read-back
  CheckHoles,      // SEEK_HOLE walk
  Copies,          // RAID copy comparison
  Scrub,           // the final read-only scrub (shrink candidates)
  KernelLog,       // kernel log scan
  Oplog,           // op-log writing
  Report,          // start and progress lines to the parent
  Events,          // handing events over and waiting for them to end
  Model,           // model bookkeeping (updates, expected bytes, adoption)
  kCount,
};
inline constexpr std::array<const char*, static_cast<size_t>(Cost::kCount)> kCostNames = {
    "other",        "setup",       "op",         "buffer-heap",  "buffer-anon",       "buffer-mmap",
    "buffer-memfd", "buffer-huge", "buffer-uffd", "buffer-registered", "mutator-thread", "check-result",
    "check-size",   "check-dio",   "check-page-cache", "check-holes", "copies",          "scrub",
    "kernel-log",   "oplog",       "report",     "events",       "model"};

class CostClock {
 public:
  // now_ns: a monotonic clock (a fake one in tests).
  explicit CostClock(std::function<uint64_t()> now_ns = steady_ns);
  static uint64_t steady_ns();

  class Scope {
   public:
    Scope(CostClock& c, Cost k) : c_(&c), prev_(c.switch_to(k)) {}
    ~Scope() {
      if (c_) c_->switch_to(prev_);
    }
    Scope(Scope&& o) noexcept : c_(o.c_), prev_(o.prev_) { o.c_ = nullptr; }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    Scope& operator=(Scope&&) = delete;

   private:
    CostClock* c_;
    Cost prev_;
  };
  Scope in(Cost k) { return Scope(*this, k); }

  // Seconds charged to each kind so far (the current kind up to now).
  std::array<double, static_cast<size_t>(Cost::kCount)> seconds();
  double wall() const;  // seconds since the clock was made

 private:
  Cost switch_to(Cost k);  // returns the kind that was current
  std::function<uint64_t()> now_;
  uint64_t t0_, since_;
  Cost current_ = Cost::Other;
  std::array<uint64_t, static_cast<size_t>(Cost::kCount)> ns_{};
};

// {"wall_s": w, "kinds": {name: {"seconds": s, "percent": p}}} for the
// kinds that took any time; the parent adds to it and prints it.
nlohmann::json cost_to_json(const std::array<double, static_cast<size_t>(Cost::kCount)>& s, double wall);
// The console table: one line a kind, largest first, with % of wall.
std::string format_time_breakdown(const nlohmann::json& breakdown);

}  // namespace dt
