// The torture engine's vocabulary, fio style: one table of operations with
// capability flags, one table of environment events, and the op log entry
// (a Step) that records what was asked and what the kernel answered. A step
// is generated from the seed alone — never from the file state — so the
// same seed gives the same steps on any kernel, a replay reruns exactly
// them, and the shrinker may drop any subset of them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dt {

enum OpCap : uint32_t {
  kCapRead = 1u << 0,      // reads file data into a buffer
  kCapWrite = 1u << 1,     // writes file data from a buffer
  kCapDirect = 1u << 2,    // on the O_DIRECT descriptor
  kCapUring = 1u << 3,     // needs io_uring
  kCapVectored = 1u << 4,  // several iovecs
  kCapFixed = 1u << 5,     // registered buffer (READ_FIXED/WRITE_FIXED)
  kCapNowait = 1u << 6,    // may carry RWF_NOWAIT
  kCapAsync = 1u << 7,     // may carry IOSQE_ASYNC
  kCapAppend = 1u << 8,    // may carry RWF_APPEND
  kCapDsync = 1u << 9,     // may carry RWF_DSYNC
  kCapBuffer = 1u << 10,   // takes a buffer source
  kCapMmap = 1u << 11,     // through a shared mapping of the file
  kCapMeta = 1u << 12,     // changes size/allocation, no buffer
  kCapBatch = 1u << 13,    // queue depth > 1 (a batch of requests)
};

// What an op does. The engine's dispatch and meta-op execution, the
// generator's special cases and the repro's C emission switch over it with
// no default, so a kind one of them forgets does not compile (-Wswitch
// under -Werror) instead of silently doing nothing or something else; the
// reads and writes are told apart further by their capabilities.
enum class OpKind : uint8_t {
  Read, Write,           // a buffer: sync calls, io_uring, buffered (caps say which)
  MmapRead, MmapWrite,   // through a shared mapping of the file
  Fsync, Fdatasync, Fallocate, Punch, ZeroRange, Truncate, Reflink,
};

struct OpInfo {
  const char* name;
  const char* group;  // dio, uring, buffered, mmap, meta
  uint32_t caps;
  unsigned weight;    // relative frequency in the default mix
  OpKind kind;
};
const std::vector<OpInfo>& op_table();
const OpInfo* find_op(const std::string& name);

struct EventInfo {
  const char* name;
  const char* description;
  bool needs_copies;  // only on a profile with more than one copy or parity
  bool needs_spare = false;  // a spare device of the tool's own (device add/remove/replace)
};
const std::vector<EventInfo>& event_table();
const EventInfo* find_event(const std::string& name);

// Step flags.
enum StepFlag : uint32_t {
  kFlagNowait = 1u << 0,
  kFlagAsync = 1u << 1,
  kFlagAppend = 1u << 2,
  kFlagDsync = 1u << 3,
  kFlagKeepSize = 1u << 4,
  kFlagMutate = 1u << 5,  // another thread rewrites the buffer during the write (seed 002)
};
std::vector<std::string> flag_names(uint32_t flags);

// Where an op's buffer comes from.
enum class BufSource : uint8_t { Heap, Anon, Mmap, Memfd, Huge, Uffd, Registered };
const char* buf_source_name(BufSource s);
std::optional<BufSource> parse_buf_source(const std::string& s);

// When a userfaultfd buffer's faults are resolved.
//  AtOnce: every fault answered as it comes.
//  Delay: the op's first fault answered after fault_ms.
//  Never: the first fault held (opt-in, uffd-never): the op must block.
//  AfterCompletion: "release after the first completion of the same request
//    is observed". One op is one request of len*qd bytes that the kernel
//    splits (into bios, and for io_uring qd > 1 into qd SQEs); userspace can
//    see two kinds of partial completion of it, and these are what count:
//    - io_uring, qd > 1: the first CQE reaped for any of the op's SQEs;
//    - a read: file bytes landing in buffer pages that were already there
//      (btrfs does direct I/O with page faults disabled: it submits the
//      part whose pages are present, waits for it, then faults the rest in
//      - the seed 000 window; a write's progress is not visible this way).
//    Pages [0, hold_page) of the buffer are populated before the op; the
//    first fault on a page at or after hold_page is held until one of those
//    is seen, or kAfterCompletionBoundMs passed (nothing was observable:
//    the op faulted before any part of it was issued). The generator puts
//    hold_page where one can be seen (a read: after a populated page; qd >
//    1: after request 0); a qd 1 write has neither and gets Delay instead.
//    The schedule changes timing only: the model expects what it expects
//    with AtOnce (the whole request, or for NOWAIT EAGAIN or a prefix).
enum class Fault : uint8_t { None, AtOnce, Delay, Never, AfterCompletion };
const char* fault_name(Fault f);
inline constexpr unsigned kAfterCompletionBoundMs = 200;

// The pure part of AfterCompletion, for the handler thread: whether the
// fault on `page` is the one to hold (held_already: one was held before), and
// whether a read's data has landed in the populated pages (some byte of
// pages[0, n) differs from the fill they were populated with).
bool holds_fault(Fault f, size_t page, unsigned hold_page, bool held_already);
bool read_landed(const unsigned char* pages, size_t n, unsigned char fill);

struct Step {
  uint64_t seq = 0;
  std::string op;     // an op_table() name, or
  std::string event;  // an event_table() name (exactly one of the two is set)
  std::string arg;    // event argument (balance filter, convert target, ...)
  unsigned file = 0;
  uint64_t off = 0, len = 0;
  unsigned iovs = 1, qd = 1;
  uint32_t flags = 0;
  uint64_t data_seed = 0;  // the pattern a write writes
  BufSource buf = BufSource::Heap;
  unsigned buf_misalign = 0;  // bytes the buffer start is moved from page alignment
  uint64_t touch_mask = 0;    // Anon: pages touched before the op (bit i = page i, mod 64)
  unsigned src_file = 0;      // Mmap buffer / reflink source
  uint64_t src_off = 0;
  Fault fault = Fault::None;
  unsigned fault_ms = 0;
  unsigned hold_page = 0;     // AfterCompletion: buffer pages before it are populated first
  int inject_page = -1;       // test-only: the uffd handler serves this page wrong

  // What happened (not generated; excluded from the determinism comparison
  // except for res, which is the kernel's answer).
  std::vector<int64_t> res;
  std::string note;
  std::string fault_seen;     // AfterCompletion: what released the held fault, and when (timing)
  uint64_t t_us = 0, dur_us = 0;
  uint64_t end_seq = 0;       // events: the op being executed when it ended
  // Ops: the held states (states.hpp) the kernel confirmed when the op
  // started and still when it ended. Events "state": the window is len (steps).
  std::vector<std::string> states;

  bool is_event() const { return !event.empty(); }
  const OpInfo& info() const;  // only for ops
};

// After a step's len, qd or misalignment shrank: its hold page inside the
// buffer again (the last page), so the step stays one a replay accepts.
void fit_hold_page(Step& s);

nlohmann::json step_to_json(const Step& s);
// Throws std::runtime_error naming the field on a malformed entry.
Step step_from_json(const nlohmann::json& j);
std::string step_to_line(const Step& s);  // one JSON line, no newline

// The first line of an op log: everything needed to rebuild the starting state.
struct FileSetup {
  std::string name;     // "nocow/f1"
  bool nocow = false;
  std::string layout;   // LayoutSpec letters, "" = empty file
  uint64_t piece_size = 65536;
  uint64_t layout_seed = 0;
};
struct LogHeader {
  uint64_t seed = 0;
  std::vector<FileSetup> files;
  uint64_t max_file_size = 0;
  std::string kernel;
};
nlohmann::json header_to_json(const LogHeader& h);
LogHeader header_from_json(const nlohmann::json& j);

struct OpLog {
  LogHeader header;
  std::vector<Step> steps;
};
// Parses a whole oplog.jsonl text (header line, then one line a step; lines
// of other types such as "fail" are ignored). Throws std::runtime_error with
// the line number.
OpLog parse_oplog(const std::string& text);
std::string format_oplog(const OpLog& log);

// Which ops, buffer sources and events a run may choose. Built from
// --ops-mix and --events; throws SetupError for unknown names.
struct Mix {
  std::vector<const OpInfo*> ops;
  std::vector<const EventInfo*> events;
  bool uffd_never = false;  // opt-in: a fault never served (the op is expected to block)
  bool mutate = true;
  bool mmap_buffers = true; // false: no buffer is an mmap of a file under test
  bool uring = true;        // false when io_uring is unavailable
};
Mix parse_mix(const std::string& ops_mix, const std::string& events);

// The generator: step n of a run is a function of (seed, n) and the mix.
class StepGenerator {
 public:
  StepGenerator(uint64_t seed, const Mix& mix, const LogHeader& header);
  Step next();

 private:
  uint64_t seed_;
  Mix mix_;
  LogHeader header_;
  uint64_t seq_ = 0;
  unsigned total_weight_ = 0;
};

// The starting files for a seed: alternating checksummed and NOCOW (or only
// one kind: kinds "both", "nocow", "datasum"), each with its own multi-extent
// layout of data, holes and prealloc. Throws SetupError for another kinds.
LogHeader make_header(uint64_t seed, unsigned files, const std::string& kinds = "both");

}  // namespace dt
