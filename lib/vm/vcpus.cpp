#include "lib/vm/vcpus.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "lib/sys/sys.hpp"

namespace dt {
namespace fs = std::filesystem;

namespace {

// The hex value after "KEY=" in a register dump line, or false.
bool register_value(const std::string& line, const std::string& key, uint64_t* value) {
  const auto at = line.find(key + "=");
  if (at == std::string::npos || (at > 0 && line[at - 1] != ' ')) return false;
  try {
    size_t used = 0;
    *value = std::stoull(line.substr(at + key.size() + 1), &used, 16);
    return used > 0;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

std::vector<VcpuState> parse_info_registers(const std::string& text) {
  // `info registers -a` prints "CPU#N" before each CPU's block; the line
  // with the instruction pointer carries CPL and HLT as well.
  std::vector<VcpuState> cpus;
  std::istringstream in(text);
  std::string line;
  bool open = false;
  while (std::getline(in, line)) {
    if (line.rfind("CPU#", 0) == 0) {
      cpus.push_back({});
      cpus.back().cpu = static_cast<unsigned>(std::strtoul(line.c_str() + 4, nullptr, 10));
      open = true;
      continue;
    }
    uint64_t v = 0;
    // RIP in long mode, EIP before it (a guest stuck in its boot code).
    if (!open || !(register_value(line, "RIP", &v) || register_value(line, "EIP", &v))) continue;
    cpus.back().rip = v;
    // RFL in long mode, EFL before it; bit 9 is IF.
    if (register_value(line, "RFL", &v) || register_value(line, "EFL", &v)) cpus.back().interrupts_on = (v & 0x200) != 0;
    if (register_value(line, "CPL", &v)) cpus.back().cpl = static_cast<unsigned>(v);
    if (register_value(line, "HLT", &v)) cpus.back().halted = v != 0;
  }
  // A block without a RIP line is not a state.
  cpus.erase(std::remove_if(cpus.begin(), cpus.end(), [](const VcpuState& c) { return c.rip == 0; }), cpus.end());
  return cpus;
}

bool parse_info_lapic(const std::string& text, VcpuState* cpu) {
  // qemu prints one register a line, "NAME\t value": the vectors of ISR and
  // IRR as decimal numbers ("34(level)" for a level-triggered one) or
  // "(none)", and the priorities on one line, "APR 0x00 TPR 0x10 ... PPR 0x10".
  if (text.find("local APIC state") == std::string::npos) return false;
  std::vector<unsigned> irr, isr;
  unsigned ppr = 0;
  std::string mode;
  bool masked = false, counted = false;
  uint64_t initial = 0, current = 0;
  std::istringstream in(text);
  std::string line;
  auto vectors = [](const std::string& rest) {
    std::vector<unsigned> v;
    std::istringstream words(rest);
    for (std::string w; words >> w;)
      if (!w.empty() && std::isdigit(static_cast<unsigned char>(w[0]))) v.push_back(static_cast<unsigned>(std::strtoul(w.c_str(), nullptr, 10)));
    return v;
  };
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string name;
    words >> name;
    std::string rest;
    std::getline(words, rest);
    if (name == "IRR") irr = vectors(rest);
    else if (name == "ISR") isr = vectors(rest);
    else if (name == "LVTT") {
      for (const char* m : {"tsc-deadline", "periodic", "one-shot"})
        if (rest.find(m) != std::string::npos) mode = m;
      masked = rest.find("masked") != std::string::npos;
    } else if (name == "Timer") {
      const auto at_initial = rest.find("initial_count = "), at_current = rest.find("current_count = ");
      if (at_initial != std::string::npos && at_current != std::string::npos) {
        counted = true;
        initial = std::strtoull(rest.c_str() + at_initial + 16, nullptr, 10);
        current = std::strtoull(rest.c_str() + at_current + 16, nullptr, 10);
      }
    } else if (name == "APR") {
      const auto at = line.find("PPR ");
      if (at != std::string::npos) ppr = static_cast<unsigned>(std::strtoul(line.c_str() + at + 4, nullptr, 16));
    }
  }
  cpu->lapic_read = true;
  cpu->irr = std::move(irr);
  cpu->isr = std::move(isr);
  cpu->ppr = ppr;
  cpu->timer_mode = mode;
  cpu->timer_masked = masked;
  cpu->timer_initial = initial;
  cpu->timer_current = current;
  std::string shown = mode;
  if (masked) shown += shown.empty() ? "masked" : " masked";
  // A TSC-deadline timer does not count down: its counts say nothing.
  cpu->timer = mode == "tsc-deadline" || !counted ? shown : fmt::format("{}, {} of {} counts left", shown, current, initial);
  return true;
}

unsigned deliverable_vector(const VcpuState& cpu) {
  unsigned best = 0;
  for (unsigned v : cpu.irr) best = std::max(best, v);
  // The local APIC hands a vector to the CPU only if its priority class (the
  // high four bits) is above the processor priority's.
  return (best >> 4) > (cpu.ppr >> 4) ? best : 0;
}

SymbolMap SymbolMap::parse(const std::string& kallsyms) {
  SymbolMap m;
  std::istringstream in(kallsyms);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string addr, type, name, module;
    if (!(fields >> addr >> type >> name)) continue;
    // Text symbols only: data symbols between functions would misname a RIP.
    if (type != "T" && type != "t" && type != "W" && type != "w") continue;
    if (fields >> module) name += " " + module;
    try {
      const uint64_t a = std::stoull(addr, nullptr, 16);
      if (a != 0) m.symbols_.emplace_back(a, name);  // zeros: kallsyms hid the addresses
    } catch (const std::exception&) {
    }
  }
  std::sort(m.symbols_.begin(), m.symbols_.end());
  return m;
}

std::string SymbolMap::describe(uint64_t addr) const {
  auto it = std::upper_bound(symbols_.begin(), symbols_.end(), addr,
                             [](uint64_t a, const std::pair<uint64_t, std::string>& s) { return a < s.first; });
  if (it == symbols_.begin()) return fmt::format("{:#x}", addr);
  --it;
  // Far past the last symbol below it is not inside that function.
  if (addr - it->first >= (1u << 20)) return fmt::format("{:#x}", addr);
  const auto space = it->second.find(' ');
  if (space == std::string::npos) return fmt::format("{}+{:#x}", it->second, addr - it->first);
  return fmt::format("{}+{:#x}{}", it->second.substr(0, space), addr - it->first, it->second.substr(space));
}

std::vector<std::string> describe_vcpus(const VcpuSamples& samples, const SymbolMap& symbols) {
  struct Seen {
    std::vector<std::string> where;  // distinct places, in order of first sight
    unsigned halted = 0, interrupts_off = 0, n = 0;
    const VcpuState* lapic = nullptr;  // the last sample that read its local APIC
  };
  std::map<unsigned, Seen> cpus;
  for (const auto& sample : samples)
    for (const auto& c : sample) {
      Seen& s = cpus[c.cpu];
      const std::string where = c.cpl == 0 ? symbols.describe(c.rip) : fmt::format("user {:#x}", c.rip);
      if (std::find(s.where.begin(), s.where.end(), where) == s.where.end()) s.where.push_back(where);
      s.halted += c.halted;
      s.interrupts_off += !c.interrupts_on;
      ++s.n;
      if (c.lapic_read) s.lapic = &c;
    }
  auto vector_list = [](const std::vector<unsigned>& v) { return v.empty() ? std::string("none") : fmt::format("{}", fmt::join(v, " ")); };
  std::vector<std::string> lines;
  for (const auto& [cpu, s] : cpus) {
    const std::string state = s.halted == s.n ? "halted" : s.halted == 0 ? "running" : fmt::format("halted in {} of {} samples,", s.halted, s.n);
    std::vector<std::string> shown(s.where.begin(), s.where.begin() + std::min<size_t>(s.where.size(), 4));
    std::string line = fmt::format("CPU{}: {} at {}{} ({} sample{}{})", cpu, state, fmt::join(shown, ", "),
                                   s.where.size() > shown.size() ? fmt::format(" and {} more", s.where.size() - shown.size()) : "",
                                   s.n, s.n == 1 ? "" : "s",
                                   s.where.size() == 1 && s.n > 1 ? ", the same place every time" : "");
    if (s.interrupts_off == s.n) line += "; interrupts off";
    else if (s.interrupts_off > 0) line += fmt::format("; interrupts off in {} of {} samples", s.interrupts_off, s.n);
    if (s.lapic)
      line += fmt::format("; local APIC: requested {}, in service {}, priority {:#x}, timer {}", vector_list(s.lapic->irr),
                          vector_list(s.lapic->isr), s.lapic->ppr, s.lapic->timer.empty() ? "?" : s.lapic->timer);
    lines.push_back(line);
  }
  return lines;
}

std::string lost_wakeup(const VcpuSamples& samples) {
  if (samples.size() < 2) return "";
  std::map<unsigned, std::vector<const VcpuState*>> by_cpu;
  for (const auto& sample : samples)
    for (const auto& c : sample) by_cpu[c.cpu].push_back(&c);
  for (const auto& [cpu, seen] : by_cpu) {
    if (seen.size() != samples.size()) continue;  // missing from a sample: not "every sample"
    const bool asleep = std::all_of(seen.begin(), seen.end(), [](const VcpuState* c) { return c->halted && c->interrupts_on; });
    if (!asleep) continue;
    std::vector<const VcpuState*> read;
    for (const VcpuState* c : seen)
      if (c->lapic_read) read.push_back(c);
    if (read.size() < 2) continue;
    const VcpuState& before = *read[read.size() - 2];
    const VcpuState& last = *read.back();
    if (deliverable_vector(before) != 0 && deliverable_vector(last) != 0)
      return fmt::format(
          "CPU{} stayed halted with interrupts on in all {} samples while vector {} waited in its local APIC above its "
          "priority ({:#x}): qemu lost that CPU's wakeup (hardware takes such an interrupt at once), so this hang is the "
          "emulator's, not the guest kernel's",
          cpu, seen.size(), deliverable_vector(last), last.ppr);
    auto expired_unraised = [](const VcpuState& c) {
      return c.timer_mode == "one-shot" && !c.timer_masked && c.timer_initial > 0 && c.timer_current == 0 && c.irr.empty() &&
             c.isr.empty();
    };
    if (expired_unraised(before) && expired_unraised(last))
      return fmt::format(
          "CPU{} stayed halted with interrupts on in all {} samples while its local APIC timer had run out (one-shot, 0 of "
          "{} counts left, unmasked) with no interrupt requested or in service: qemu never raised that timer's interrupt "
          "(the guest masks a timer it no longer needs and reprograms one that fired), so this hang is the emulator's, "
          "not the guest kernel's",
          cpu, seen.size(), last.timer_initial);
  }
  return "";
}

std::string parse_vm_status(const std::string& text) {
  const std::string key = "VM status: ";
  const auto at = text.find(key);
  if (at == std::string::npos) return "";
  return trim(text.substr(at + key.size(), text.find('\n', at) - at - key.size()));
}

std::string stopped_by_qemu(const std::string& vm_status) {
  if (vm_status.empty() || vm_status == "running") return "";
  if (vm_status.find("io-error") != std::string::npos)
    return fmt::format(
        "qemu had stopped the guest (VM status: {}): a write to one of its disk images failed on the host, most often "
        "a full file system under $TMPDIR; the guest kernel did not hang, free space and run again",
        vm_status);
  return fmt::format("qemu had stopped the guest (VM status: {}): its CPUs were not running, so this is not a hang of the guest kernel",
                     vm_status);
}

std::vector<HostThread> read_host_threads(pid_t pid) {
  std::vector<HostThread> threads;
  std::error_code ec;
  for (const auto& t : fs::directory_iterator(fmt::format("/proc/{}/task", pid), ec)) {
    TaskStat st;
    if (!read_task_stat(t.path() / "stat", &st)) continue;
    HostThread h;
    h.tid = std::atoi(t.path().filename().c_str());
    h.name = st.comm;
    h.state = st.state;
    h.cpu_ticks = st.cpu_ticks;
    h.wchan = trim(read_file_or_empty(t.path() / "wchan"));
    threads.push_back(std::move(h));
  }
  std::sort(threads.begin(), threads.end(), [](const HostThread& a, const HostThread& b) { return a.tid < b.tid; });
  return threads;
}

std::string describe_host_threads(const std::vector<HostThread>& before, const std::vector<HostThread>& after,
                                  double seconds, long ticks_per_second) {
  if (after.empty()) return "";
  auto used = [&](const HostThread& t) {
    for (const auto& b : before)
      if (b.tid == t.tid) return static_cast<double>(t.cpu_ticks - std::min(t.cpu_ticks, b.cpu_ticks)) / static_cast<double>(ticks_per_second);
    return 0.0;
  };
  auto state = [](const HostThread& t) {
    switch (t.state) {
      case 'R': return std::string("running");
      case 'S': return t.wchan.empty() || t.wchan == "0" ? std::string("sleeping") : "sleeping in " + t.wchan;
      case 'D': return t.wchan.empty() || t.wchan == "0" ? std::string("in D state") : "in D state in " + t.wchan;
      default: return fmt::format("state {}", t.state);
    }
  };
  // The vCPU threads and the main loop (the lowest tid) by name; the
  // I/O and RCU helpers only as a sum.
  std::vector<std::string> parts;
  double others = 0;
  unsigned other_count = 0;
  for (size_t i = 0; i < after.size(); ++i) {
    const HostThread& t = after[i];
    if (i == 0 || t.name.rfind("CPU ", 0) == 0)
      parts.push_back(fmt::format("{}{} {}, {:.2f} s CPU", i == 0 ? "main " : "", t.name, state(t), used(t)));
    else {
      others += used(t);
      ++other_count;
    }
  }
  if (other_count > 0) parts.push_back(fmt::format("{} other thread{} {:.2f} s CPU", other_count, other_count == 1 ? "" : "s", others));
  return fmt::format("qemu's threads on the host, over {:.1f} s: {}", seconds, fmt::join(parts, "; "));
}

namespace {

// Reads JSON lines until one satisfies `want`; skips events. Null, with
// *why set, when the deadline passes or qemu closes the socket.
nlohmann::json read_until(int fd, std::string& buf, std::chrono::steady_clock::time_point deadline,
                          bool (*want)(const nlohmann::json&), std::string* why) {
  for (;;) {
    for (size_t nl; (nl = buf.find('\n')) != std::string::npos;) {
      auto j = nlohmann::json::parse(buf.substr(0, nl), nullptr, false);
      buf.erase(0, nl + 1);
      if (!j.is_discarded() && want(j)) return j;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    pollfd p{fd, POLLIN, 0};
    const int ready = left <= 0 ? 0 : ::poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      *why = ready == 0 ? "no answer in time" : fmt::format("poll: {}", std::strerror(errno));
      return nullptr;
    }
    char chunk[65536];
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *why = n == 0 ? "qemu closed the monitor" : fmt::format("read: {}", std::strerror(errno));
      return nullptr;
    }
    buf.append(chunk, static_cast<size_t>(n));
  }
}

// Not write_all(): qemu may exit while we talk to it, and a write(2) to a
// socket whose peer is gone raises SIGPIPE, which would kill diotorture
// before it brings the results back; send(MSG_NOSIGNAL) answers EPIPE.
bool send_all(int fd, const std::string& s) {
  for (size_t done = 0; done < s.size();) {
    const ssize_t n = ::send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool is_reply(const nlohmann::json& j) { return j.contains("return") || j.contains("error"); }

}  // namespace

bool qmp_socket_fits(const fs::path& socket) { return socket.native().size() < sizeof(sockaddr_un::sun_path); }

QmpClient::QmpClient(const fs::path& socket, int timeout_ms) : timeout_ms_(timeout_ms) {
  if (!qmp_socket_fits(socket)) {
    failure_ = "the monitor socket's path is too long for a unix socket";
    return;
  }
  fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd_) {
    fail(fmt::format("socket: {}", std::strerror(errno)));
    return;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    fail(fmt::format("connect: {}", std::strerror(errno)));
    return;
  }
  // The greeting, then capabilities negotiation; then commands are accepted.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
  std::string why;
  if (read_until(fd_.get(), buf_, deadline, [](const nlohmann::json& j) { return j.contains("QMP"); }, &why).is_null()) {
    fail("greeting: " + why);
    return;
  }
  if (!send_all(fd_.get(), R"({"execute":"qmp_capabilities"})" "\n")) {
    fail(fmt::format("send: {}", std::strerror(errno)));
    return;
  }
  if (read_until(fd_.get(), buf_, deadline, is_reply, &why).is_null()) fail("qmp_capabilities: " + why);
}

bool QmpClient::fail(const std::string& why) {
  failure_ = why;
  fd_.reset();
  return false;
}

bool QmpClient::human(const std::string& command, int cpu_index, std::string* text) {
  if (!fd_) return false;
  nlohmann::json args = {{"command-line", command}};
  if (cpu_index >= 0) args["cpu-index"] = cpu_index;
  const nlohmann::json cmd = {{"execute", "human-monitor-command"}, {"arguments", args}};
  if (!send_all(fd_.get(), cmd.dump() + "\n")) return fail(fmt::format("{}: send: {}", command, std::strerror(errno)));
  std::string why;
  const auto reply = read_until(fd_.get(), buf_, std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_), is_reply, &why);
  if (reply.is_null()) return fail(fmt::format("{}: {} (within {} ms)", command, why, timeout_ms_));
  if (!reply.contains("return") || !reply["return"].is_string()) {
    // An error reply leaves the connection usable.
    failure_ = fmt::format("{}: qemu answered {}", command, reply.dump());
    return false;
  }
  *text = reply["return"].get<std::string>();
  return true;
}

std::string qmp_human_command(const fs::path& socket, const std::string& command, int timeout_ms) {
  QmpClient qmp(socket, timeout_ms);
  std::string text;
  return qmp.human(command, -1, &text) ? text : "";
}

HangEvidence gather_hang_evidence(const fs::path& socket, pid_t qemu, unsigned samples) {
  HangEvidence e;
  e.asked = samples;
  const auto t0 = std::chrono::steady_clock::now();
  e.threads_before = read_host_threads(qemu);
  std::unique_ptr<QmpClient> qmp;
  for (unsigned i = 0; i < samples; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::seconds(1));
    if (!qmp || !qmp->ok()) qmp = std::make_unique<QmpClient>(socket, 3000);
    std::string text;
    // A guest qemu paused (a host I/O error under werror=enospc, the
    // default) looks exactly like a hang from outside.
    if (e.vm_status.empty() && qmp->human("info status", -1, &text)) e.vm_status = parse_vm_status(text);
    if (!qmp->human("info registers -a", -1, &text)) {
      e.monitor_failures.push_back(fmt::format("sample {}: {}", i + 1, qmp->failure()));
      continue;
    }
    std::vector<VcpuState> cpus = parse_info_registers(text);
    if (cpus.empty()) {
      e.monitor_failures.push_back(fmt::format("sample {}: no CPU in the answer to info registers -a: {:.200}", i + 1, text));
      continue;
    }
    for (VcpuState& c : cpus) {
      std::string lapic;
      if (!qmp->human("info lapic", static_cast<int>(c.cpu), &lapic)) {
        e.monitor_failures.push_back(fmt::format("sample {}: CPU{}: {}", i + 1, c.cpu, qmp->failure()));
        if (!qmp->ok()) break;
      } else if (!parse_info_lapic(lapic, &c)) {
        e.monitor_failures.push_back(fmt::format("sample {}: CPU{}: not a local APIC dump: {:.200}", i + 1, c.cpu, lapic));
      }
    }
    e.samples.push_back(std::move(cpus));
  }
  e.threads_after = read_host_threads(qemu);
  e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return e;
}

}  // namespace dt
