#include "lib/torture/op.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "lib/sys/spellcheck.hpp"
#include "lib/sys/sys.hpp"
#include "lib/torture/oplog_check.hpp"
#include "lib/torture/prng.hpp"
#include "lib/torture/states.hpp"

namespace dt {
namespace {

constexpr uint32_t kDioRead = kCapRead | kCapDirect | kCapBuffer | kCapNowait;
constexpr uint32_t kDioWrite = kCapWrite | kCapDirect | kCapBuffer | kCapNowait | kCapAppend | kCapDsync;
constexpr uint32_t kUring = kCapUring | kCapAsync | kCapBatch;

const std::vector<OpInfo> kOps = {
    {"pread", "dio", kDioRead, 6, OpKind::Read},
    {"preadv", "dio", kDioRead | kCapVectored, 4, OpKind::Read},
    {"pwrite", "dio", kDioWrite, 6, OpKind::Write},
    {"pwritev", "dio", kDioWrite | kCapVectored, 4, OpKind::Write},
    {"uring-read", "uring", kDioRead | kUring, 5, OpKind::Read},
    {"uring-readv", "uring", kDioRead | kUring | kCapVectored, 4, OpKind::Read},
    {"uring-read-fixed", "uring", (kDioRead | kUring | kCapFixed) & ~kCapBuffer, 3, OpKind::Read},
    {"uring-write", "uring", kDioWrite | kUring, 5, OpKind::Write},
    {"uring-writev", "uring", kDioWrite | kUring | kCapVectored, 4, OpKind::Write},
    {"uring-write-fixed", "uring", (kDioWrite | kUring | kCapFixed) & ~kCapBuffer, 3, OpKind::Write},
    {"buf-read", "buffered", kCapRead | kCapBuffer, 3, OpKind::Read},
    {"buf-write", "buffered", kCapWrite | kCapBuffer | kCapAppend | kCapDsync, 3, OpKind::Write},
    {"mmap-read", "mmap", kCapRead | kCapMmap, 2, OpKind::MmapRead},
    {"mmap-write", "mmap", kCapWrite | kCapMmap, 2, OpKind::MmapWrite},
    {"fsync", "meta", kCapMeta, 1, OpKind::Fsync},
    {"fdatasync", "meta", kCapMeta, 1, OpKind::Fdatasync},
    {"fallocate", "meta", kCapMeta, 2, OpKind::Fallocate},
    {"punch", "meta", kCapMeta, 2, OpKind::Punch},
    {"zero-range", "meta", kCapMeta, 1, OpKind::ZeroRange},
    {"truncate", "meta", kCapMeta, 2, OpKind::Truncate},
    {"reflink", "meta", kCapMeta, 2, OpKind::Reflink},
};

const std::vector<EventInfo> kEvents = {
    {"scrub", "read-only scrub of every device (BTRFS_IOC_SCRUB)", false},
    {"balance", "balance with filters, -dconvert/-mconvert and back, pause/resume, cancel (BTRFS_IOC_BALANCE_V2)",
     false},
    {"defrag", "defragment a file range (BTRFS_IOC_DEFRAG_RANGE)", false},
    {"snapshot", "snapshot the torture subvolume, then delete the snapshot", false},
    {"sync", "syncfs of the filesystem", false},
    {"drop-caches", "echo 3 > /proc/sys/vm/drop_caches", false},
    {"device",
     "add a spare device, remove a device, or replace one with the spare; the device set restored after each "
     "(BTRFS_IOC_ADD_DEV, BTRFS_IOC_RM_DEV_V2, BTRFS_IOC_DEV_REPLACE)",
     false, true},
    {"state",
     "hold a filesystem state (balance paused, replace running, quota rescan, read-only snapshot, nearly full, ...) "
     "for a window of steps, confirmed by the kernel's answer (docs/torture-states.md)",
     false},
};

const char* const kBalanceArgs[] = {"data-usage", "metadata", "dconvert", "mconvert", "pause-resume", "cancel"};
const char* const kDeviceArgs[] = {"add", "remove", "replace"};

uint64_t mix64(uint64_t x) {
  Prng p(x);
  return p.next();
}

}  // namespace

const std::vector<OpInfo>& op_table() { return kOps; }
const OpInfo* find_op(const std::string& name) {
  for (const auto& o : kOps)
    if (name == o.name) return &o;
  return nullptr;
}
const std::vector<EventInfo>& event_table() { return kEvents; }
const EventInfo* find_event(const std::string& name) {
  for (const auto& e : kEvents)
    if (name == e.name) return &e;
  return nullptr;
}

const OpInfo& Step::info() const {
  const OpInfo* o = find_op(op);
  if (!o) throw std::runtime_error("unknown op '" + op + "'");
  return *o;
}

namespace {
const char* const kFlagNames[] = {"nowait", "async", "append", "dsync", "keep-size", "mutate"};
const char* const kSourceNames[] = {"heap", "anon", "mmap", "memfd", "huge", "uffd", "registered"};
const char* const kFaultNames[] = {"none", "at-once", "delay", "never", "after-completion"};
}  // namespace

std::vector<std::string> flag_names(uint32_t flags) {
  std::vector<std::string> out;
  for (unsigned i = 0; i < std::size(kFlagNames); ++i)
    if (flags & (1u << i)) out.push_back(kFlagNames[i]);
  return out;
}
const char* buf_source_name(BufSource s) { return kSourceNames[static_cast<unsigned>(s)]; }
std::optional<BufSource> parse_buf_source(const std::string& s) {
  for (unsigned i = 0; i < std::size(kSourceNames); ++i)
    if (s == kSourceNames[i]) return static_cast<BufSource>(i);
  return std::nullopt;
}
const char* fault_name(Fault f) { return kFaultNames[static_cast<unsigned>(f)]; }

bool holds_fault(Fault f, size_t page, unsigned hold_page, bool held_already) {
  return f == Fault::AfterCompletion && !held_already && page >= hold_page;
}

void fit_hold_page(Step& s) {
  const uint64_t pages = (s.len * s.qd + s.buf_misalign + 4095) / 4096;
  if (s.fault == Fault::AfterCompletion && s.hold_page >= pages)
    s.hold_page = pages ? static_cast<unsigned>(pages - 1) : 0;
}

bool read_landed(const unsigned char* pages, size_t n, unsigned char fill) {
  for (size_t i = 0; i < n; ++i)
    if (pages[i] != fill) return true;
  return false;
}

nlohmann::json step_to_json(const Step& s) {
  nlohmann::json j;
  j["seq"] = s.seq;
  if (s.is_event()) {
    j["event"] = s.event;
    if (!s.arg.empty()) j["arg"] = s.arg;
    if (s.file) j["file"] = s.file;
    if (s.event == "state") j["window"] = s.len;
  } else {
    j["op"] = s.op;
    j["file"] = s.file;
    j["off"] = s.off;
    j["len"] = s.len;
    if (s.iovs != 1) j["iovs"] = s.iovs;
    if (s.qd != 1) j["qd"] = s.qd;
    if (s.flags) j["flags"] = flag_names(s.flags);
    if (s.data_seed) j["data_seed"] = s.data_seed;
    const uint32_t caps = s.info().caps;
    if (caps & (kCapBuffer | kCapFixed)) j["buf"] = buf_source_name(s.buf);
    if (s.buf_misalign) j["misalign"] = s.buf_misalign;
    if (s.buf == BufSource::Anon) j["touch"] = s.touch_mask;
    if (s.buf == BufSource::Mmap || s.op == "reflink") {
      j["src_file"] = s.src_file;
      j["src_off"] = s.src_off;
    }
    if (s.buf == BufSource::Uffd) {
      j["fault"] = fault_name(s.fault);
      if (s.fault == Fault::Delay) j["fault_ms"] = s.fault_ms;
      if (s.fault == Fault::AfterCompletion) j["hold_page"] = s.hold_page;
    }
    if (s.inject_page >= 0) j["inject_page"] = s.inject_page;
  }
  if (!s.res.empty()) j["res"] = s.res;
  if (!s.note.empty()) j["note"] = s.note;
  if (!s.fault_seen.empty()) j["fault_seen"] = s.fault_seen;
  if (s.t_us) j["t_us"] = s.t_us;
  if (s.dur_us) j["dur_us"] = s.dur_us;
  if (s.end_seq) j["end_seq"] = s.end_seq;
  if (!s.states.empty()) j["states"] = s.states;
  return j;
}

Step step_from_json(const nlohmann::json& j) {
  Step s;
  auto get_u = [&](const char* k, uint64_t def) -> uint64_t {
    if (!j.contains(k)) return def;
    if (!j[k].is_number_unsigned() && !j[k].is_number_integer()) throw std::runtime_error(fmt::format("'{}' is not a number", k));
    if (!j[k].is_number_unsigned() && j[k].get<int64_t>() < 0) throw std::runtime_error(fmt::format("'{}' is negative", k));
    return j[k].get<uint64_t>();
  };
  s.seq = get_u("seq", 0);
  if (j.contains("event")) {
    s.event = j["event"].get<std::string>();
    if (!find_event(s.event)) throw std::runtime_error(fmt::format("unknown event '{}'", s.event));
    s.arg = j.value("arg", "");
    s.file = static_cast<unsigned>(get_u("file", 0));
    if (s.event == "state") {
      if (!find_state(s.arg)) throw std::runtime_error(fmt::format("unknown state '{}'", s.arg));
      s.len = get_u("window", 0);
    }
  } else {
    if (!j.contains("op")) throw std::runtime_error("neither 'op' nor 'event'");
    s.op = j["op"].get<std::string>();
    if (!find_op(s.op)) throw std::runtime_error(fmt::format("unknown op '{}'", s.op));
    s.file = static_cast<unsigned>(get_u("file", 0));
    s.off = get_u("off", 0);
    s.len = get_u("len", 0);
    s.iovs = static_cast<unsigned>(get_u("iovs", 1));
    s.qd = static_cast<unsigned>(get_u("qd", 1));
    if (s.iovs < 1 || s.iovs > 64 || s.qd < 1 || s.qd > 64) throw std::runtime_error("iovs/qd out of range");
    for (const auto& f : j.value("flags", std::vector<std::string>{})) {
      bool known = false;
      for (unsigned i = 0; i < std::size(kFlagNames); ++i)
        if (f == kFlagNames[i]) s.flags |= 1u << i, known = true;
      if (!known) throw std::runtime_error(fmt::format("unknown flag '{}'", f));
    }
    s.data_seed = get_u("data_seed", 0);
    if (j.contains("buf")) {
      auto b = parse_buf_source(j["buf"].get<std::string>());
      if (!b) throw std::runtime_error(fmt::format("unknown buffer source '{}'", j["buf"].get<std::string>()));
      s.buf = *b;
    }
    s.buf_misalign = static_cast<unsigned>(get_u("misalign", 0));
    s.touch_mask = get_u("touch", 0);
    s.src_file = static_cast<unsigned>(get_u("src_file", 0));
    s.src_off = get_u("src_off", 0);
    if (j.contains("fault")) {
      std::string f = j["fault"].get<std::string>();
      bool known = false;
      for (unsigned i = 0; i < std::size(kFaultNames); ++i)
        if (f == kFaultNames[i]) s.fault = static_cast<Fault>(i), known = true;
      if (!known) throw std::runtime_error(fmt::format("unknown fault schedule '{}'", f));
    }
    s.fault_ms = static_cast<unsigned>(get_u("fault_ms", 0));
    s.hold_page = static_cast<unsigned>(get_u("hold_page", 0));
    if (s.hold_page >= std::max<uint64_t>(1, (s.len * s.qd + s.buf_misalign + 4095) / 4096))
      throw std::runtime_error("hold_page beyond the buffer");
    s.inject_page = static_cast<int>(j.value("inject_page", -1));
  }
  if (j.contains("res")) s.res = j["res"].get<std::vector<int64_t>>();
  s.note = j.value("note", "");
  s.fault_seen = j.value("fault_seen", "");
  s.t_us = get_u("t_us", 0);
  s.dur_us = get_u("dur_us", 0);
  s.end_seq = get_u("end_seq", 0);
  if (j.contains("states")) s.states = j["states"].get<std::vector<std::string>>();
  return s;
}

std::string step_to_line(const Step& s) { return step_to_json(s).dump(); }

nlohmann::json header_to_json(const LogHeader& h) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : h.files)
    files.push_back({{"name", f.name}, {"nocow", f.nocow}, {"layout", f.layout}, {"piece_size", f.piece_size},
                     {"layout_seed", f.layout_seed}});
  return {{"type", "header"}, {"seed", h.seed}, {"max_file_size", h.max_file_size}, {"files", files},
          {"kernel", h.kernel}};
}

LogHeader header_from_json(const nlohmann::json& j) {
  LogHeader h;
  h.seed = j.at("seed").get<uint64_t>();
  h.max_file_size = j.at("max_file_size").get<uint64_t>();
  h.kernel = j.value("kernel", "");
  for (const auto& f : j.at("files")) {
    FileSetup fs;
    fs.name = f.at("name").get<std::string>();
    fs.nocow = f.at("nocow").get<bool>();
    fs.layout = f.at("layout").get<std::string>();
    fs.piece_size = f.at("piece_size").get<uint64_t>();
    fs.layout_seed = f.at("layout_seed").get<uint64_t>();
    h.files.push_back(fs);
  }
  if (h.files.empty()) throw std::runtime_error("the header names no file");
  check_header(h);
  return h;
}

OpLog parse_oplog(const std::string& text) {
  OpLog log;
  bool have_header = false;
  size_t lineno = 0;
  for (const auto& line : split(text, '\n')) {
    ++lineno;
    if (trim(line).empty()) continue;
    try {
      auto j = nlohmann::json::parse(line);
      const std::string type = j.value("type", "");
      if (type == "header") {
        log.header = header_from_json(j);
        have_header = true;
      } else if (type.empty()) {
        if (!have_header) throw std::runtime_error("a step before the header line");
        Step s = step_from_json(j);
        if (!s.is_event() && (s.file >= log.header.files.size() || s.src_file >= log.header.files.size()))
          throw std::runtime_error(fmt::format("file index out of range ({} files)", log.header.files.size()));
        check_step(s, log.header);
        log.steps.push_back(std::move(s));
      }
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("line {}: {}", lineno, e.what()));
    }
  }
  if (!have_header) throw std::runtime_error("no header line (is this an oplog.jsonl?)");
  // Events are logged when they end, so the file is not in seq order.
  std::stable_sort(log.steps.begin(), log.steps.end(), [](const Step& a, const Step& b) { return a.seq < b.seq; });
  for (size_t i = 1; i < log.steps.size(); ++i)
    if (log.steps[i].seq == log.steps[i - 1].seq)
      throw std::runtime_error(fmt::format("seq {} appears twice", log.steps[i].seq));
  return log;
}

std::string format_oplog(const OpLog& log) {
  std::string out = header_to_json(log.header).dump() + "\n";
  for (const auto& s : log.steps) out += step_to_line(s) + "\n";
  return out;
}

Mix parse_mix(const std::string& ops_mix, const std::string& events) {
  Mix m;
  std::vector<std::string> names;
  for (const auto& o : kOps) names.push_back(o.name);
  for (const char* g : {"dio", "uring", "buffered", "mmap", "meta", "all", "uffd-never", "no-mutate", "no-mmap-buffers"}) names.push_back(g);
  bool chose_ops = false;
  for (const auto& raw : split(ops_mix, ',')) {
    const std::string item = trim(raw);
    if (item.empty()) continue;
    if (item == "uffd-never") {
      m.uffd_never = true;
      continue;
    }
    if (item == "no-mutate") {
      m.mutate = false;
      continue;
    }
    if (item == "no-mmap-buffers") {
      m.mmap_buffers = false;
      continue;
    }
    bool matched = false;
    for (const auto& o : kOps)
      if (item == o.name || item == o.group || item == "all") {
        if (std::find(m.ops.begin(), m.ops.end(), &o) == m.ops.end()) m.ops.push_back(&o);
        matched = true;
      }
    if (!matched) {
      std::string hint = did_you_mean(item, names);
      throw SetupError(fmt::format("--ops-mix: '{}' is not an op or group{}; give op names or dio, uring, buffered, "
                                   "mmap, meta, all (plus uffd-never, no-mutate, no-mmap-buffers)",
                                   item, hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
    chose_ops = true;
  }
  if (!chose_ops)
    for (const auto& o : kOps) m.ops.push_back(&o);
  std::vector<std::string> enames = {"all", "none"};
  for (const auto& e : kEvents) enames.push_back(e.name);
  for (const auto& raw : split(events, ',')) {
    const std::string item = trim(raw);
    if (item.empty() || item == "none") continue;
    if (item == "all") {
      for (const auto& e : kEvents)
        if (std::find(m.events.begin(), m.events.end(), &e) == m.events.end()) m.events.push_back(&e);
      continue;
    }
    const EventInfo* e = find_event(item);
    if (!e) {
      std::string hint = did_you_mean(item, enames);
      throw SetupError(fmt::format("--events: '{}' is not an event{}; give all, none or some of scrub, balance, "
                                   "defrag, snapshot, sync, drop-caches, device, state",
                                   item, hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
    if (std::find(m.events.begin(), m.events.end(), e) == m.events.end()) m.events.push_back(e);
  }
  return m;
}

LogHeader make_header(uint64_t seed, unsigned files, const std::string& kinds) {
  if (kinds != "both" && kinds != "nocow" && kinds != "datasum")
    throw SetupError(fmt::format("--file-kinds '{}' is not both, nocow or datasum", kinds));
  LogHeader h;
  h.seed = seed;
  h.max_file_size = 4ull << 20;
  Prng r(mix64(seed ^ 0x68656164));
  for (unsigned i = 0; i < files; ++i) {
    FileSetup f;
    f.nocow = kinds == "both" ? i % 2 == 1 : kinds == "nocow";
    f.name = fmt::format("{}/f{}", f.nocow ? "nocow" : "datasum", i);
    f.piece_size = 65536;
    const unsigned pieces = static_cast<unsigned>(r.between(3, 10));
    for (unsigned p = 0; p < pieces; ++p) {
      uint64_t k = r.below(6);
      f.layout += k < 3 ? 'D' : k < 5 ? 'H' : 'P';
    }
    f.layout_seed = r.next();
    h.files.push_back(f);
  }
  return h;
}

StepGenerator::StepGenerator(uint64_t seed, const Mix& mix, const LogHeader& header)
    : seed_(seed), mix_(mix), header_(header) {
  if (!mix_.uring)
    std::erase_if(mix_.ops, [](const OpInfo* o) { return (o->caps & kCapUring) != 0; });
  for (const OpInfo* o : mix_.ops) total_weight_ += o->weight;
  if (!total_weight_) throw SetupError("--ops-mix leaves no op to run (io_uring ops need io_uring)");
}

Step StepGenerator::next() {
  Step s;
  s.seq = ++seq_;
  // Each step from its own stream: step n depends on (seed, n) only.
  Prng r(mix64(seed_ * 0x100000001b3ULL + s.seq));
  const uint64_t max = header_.max_file_size;
  const unsigned nfiles = static_cast<unsigned>(header_.files.size());
  s.file = static_cast<unsigned>(r.below(nfiles));
  if (!mix_.events.empty() && r.chance(1, 40)) {
    const EventInfo* e = mix_.events[r.below(mix_.events.size())];
    s.event = e->name;
    if (s.event == "balance") s.arg = kBalanceArgs[r.below(std::size(kBalanceArgs))];
    if (s.event == "scrub" && r.chance(1, 2)) s.arg = "pause-resume";
    if (s.event == "device") s.arg = kDeviceArgs[r.below(std::size(kDeviceArgs))];
    if (s.event == "state") choose_state(r, s);
    return s;
  }
  uint64_t pick = r.below(total_weight_);
  const OpInfo* op = mix_.ops.front();
  for (const OpInfo* o : mix_.ops) {
    if (pick < o->weight) {
      op = o;
      break;
    }
    pick -= o->weight;
  }
  s.op = op->name;
  const uint32_t caps = op->caps;
  // Offsets and sizes: mostly block aligned, sometimes sector aligned or
  // arbitrary (O_DIRECT must then give EINVAL or be correct).
  const unsigned align_kind = static_cast<unsigned>(r.below(8));
  if (align_kind < 6) {
    s.off = r.below(max * 3 / 4 / 4096) * 4096;
    s.len = 4096 * (r.chance(1, 10) ? r.between(64, 256) : r.between(1, 32));
  } else if (align_kind == 6) {
    s.off = r.below(max * 3 / 4 / 512) * 512;
    s.len = 512 * r.between(1, 128);
  } else {
    s.off = r.below(max * 3 / 4);
    s.len = r.between(1, 65536);
  }
  s.data_seed = (caps & kCapWrite) ? r.next() | 1 : 0;
  if (caps & kCapVectored) s.iovs = static_cast<unsigned>(std::min<uint64_t>(r.between(2, 8), s.len));
  if ((caps & kCapBatch) && r.chance(1, 2)) s.qd = static_cast<unsigned>(r.between(2, 8));
  if ((caps & kCapNowait) && r.chance(1, 4)) s.flags |= kFlagNowait;
  if ((caps & kCapAsync) && r.chance(1, 4)) s.flags |= kFlagAsync;
  if ((caps & kCapDsync) && r.chance(1, 8)) s.flags |= kFlagDsync;
  if ((caps & kCapAppend) && r.chance(1, 10)) {
    s.flags |= kFlagAppend;
    s.qd = 1;  // where concurrent appends land is not defined
  }
  if (caps & kCapFixed) s.buf = BufSource::Registered;
  if (caps & kCapBuffer) {
    const uint64_t k = r.below(13);
    s.buf = k < 4 ? BufSource::Heap : k < 7 ? BufSource::Anon : k < 9 ? BufSource::Mmap : k < 10 ? BufSource::Memfd
            : k < 11 ? BufSource::Huge : BufSource::Uffd;
    if (s.buf == BufSource::Mmap && !mix_.mmap_buffers) s.buf = BufSource::Heap;
    if (s.buf == BufSource::Anon) s.touch_mask = r.next();
    if (s.buf == BufSource::Mmap) {
      s.src_file = static_cast<unsigned>(r.below(nfiles));
      const uint64_t span = (s.len * s.qd + 4095) & ~4095ull;
      if (s.src_file == s.file && r.chance(1, 2)) {
        s.src_off = s.off & ~4095ull;  // the same range: the seed 003 pattern
        s.buf_misalign = static_cast<unsigned>(s.off & 4095);
      } else if (s.src_file == s.file) {
        s.src_off = ((s.off + s.len * s.qd + 4095) & ~4095ull) + 4096 * r.below(16);
      } else {
        s.src_off = r.below((max - span) / 2 / 4096) * 4096;
      }
    }
    if (s.buf == BufSource::Uffd) {
      const uint64_t f = r.below(mix_.uffd_never ? 6 : 5);
      s.fault = f < 2 ? Fault::AtOnce : f < 4 ? Fault::Delay : f == 4 ? Fault::AfterCompletion : Fault::Never;
      if (s.fault == Fault::AfterCompletion) {
        // The held page where a completion can be seen before it: a read
        // needs one populated page before it to land in; otherwise request 0
        // must lie wholly before it (whatever the misalignment, below 4096)
        // for its CQE to come. Where neither can be, the op gets a delay.
        const uint64_t pages = (s.len * s.qd + 4095) / 4096;
        const uint64_t first = (caps & kCapRead) ? 1 : (s.len + 4095 + 4095) / 4096;
        if (first < pages)
          s.hold_page = static_cast<unsigned>(r.between(first, pages - 1));
        else
          s.fault = Fault::Delay;
      }
      if (s.fault == Fault::Delay) s.fault_ms = static_cast<unsigned>(r.between(1, 20));
    }
    if (s.buf != BufSource::Mmap && r.chance(1, 8))
      s.buf_misalign = r.chance(1, 2) ? 512 : static_cast<unsigned>(r.between(1, 4095));
    if ((caps & kCapWrite) && mix_.mutate && (s.buf == BufSource::Heap || s.buf == BufSource::Anon) && r.chance(1, 8))
      s.flags |= kFlagMutate;
  }
  // The draws above are the same for every op (step n of a seed stays step
  // n whatever the mix); what each kind takes from them, or draws next:
  switch (op->kind) {
    case OpKind::Read:
    case OpKind::Write:
    case OpKind::MmapRead:
    case OpKind::MmapWrite:
    case OpKind::Punch:
      break;
    case OpKind::Fallocate:
    case OpKind::ZeroRange:
      if (r.chance(1, 2)) s.flags |= kFlagKeepSize;
      break;
    case OpKind::Truncate:
      s.len = 0;
      s.off = r.chance(2, 3) ? r.below(max / 4096) * 4096 : r.below(max);
      break;
    case OpKind::Reflink:
      s.src_file = static_cast<unsigned>(r.below(nfiles));
      s.off &= ~4095ull;
      s.len = 4096 * r.between(1, 32);
      s.src_off = r.below(max / 2 / 4096) * 4096;
      break;
    case OpKind::Fsync:
    case OpKind::Fdatasync:
      s.off = s.len = 0;
      break;
  }
  return s;
}

}  // namespace dt
