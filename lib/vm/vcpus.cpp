#include "lib/vm/vcpus.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
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
    if (register_value(line, "CPL", &v)) cpus.back().cpl = static_cast<unsigned>(v);
    if (register_value(line, "HLT", &v)) cpus.back().halted = v != 0;
  }
  // A block without a RIP line is not a state.
  cpus.erase(std::remove_if(cpus.begin(), cpus.end(), [](const VcpuState& c) { return c.rip == 0; }), cpus.end());
  return cpus;
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
    unsigned halted = 0, n = 0;
  };
  std::map<unsigned, Seen> cpus;
  for (const auto& sample : samples)
    for (const auto& c : sample) {
      Seen& s = cpus[c.cpu];
      const std::string where = c.cpl == 0 ? symbols.describe(c.rip) : fmt::format("user {:#x}", c.rip);
      if (std::find(s.where.begin(), s.where.end(), where) == s.where.end()) s.where.push_back(where);
      s.halted += c.halted;
      ++s.n;
    }
  std::vector<std::string> lines;
  for (const auto& [cpu, s] : cpus) {
    const std::string state = s.halted == s.n ? "halted" : s.halted == 0 ? "running" : fmt::format("halted in {} of {} samples,", s.halted, s.n);
    std::vector<std::string> shown(s.where.begin(), s.where.begin() + std::min<size_t>(s.where.size(), 4));
    lines.push_back(fmt::format("CPU{}: {} at {}{} ({} sample{}{})", cpu, state, fmt::join(shown, ", "),
                                s.where.size() > shown.size() ? fmt::format(" and {} more", s.where.size() - shown.size()) : "",
                                s.n, s.n == 1 ? "" : "s",
                                s.where.size() == 1 && s.n > 1 ? ", the same place every time" : ""));
  }
  return lines;
}

namespace {

// Reads JSON lines until one satisfies `want`; skips events. Null on timeout.
nlohmann::json read_until(int fd, std::string& buf, std::chrono::steady_clock::time_point deadline,
                          bool (*want)(const nlohmann::json&)) {
  for (;;) {
    for (size_t nl; (nl = buf.find('\n')) != std::string::npos;) {
      auto j = nlohmann::json::parse(buf.substr(0, nl), nullptr, false);
      buf.erase(0, nl + 1);
      if (!j.is_discarded() && want(j)) return j;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return nullptr;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return nullptr;
    char chunk[65536];
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) return nullptr;
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

}  // namespace

bool qmp_socket_fits(const fs::path& socket) { return socket.native().size() < sizeof(sockaddr_un::sun_path); }

std::string qmp_human_command(const fs::path& socket, const std::string& command, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  if (!qmp_socket_fits(socket)) return "";
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (!fd) return "";
  std::strncpy(addr.sun_path, socket.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return "";
  std::string buf;
  // The greeting, then capabilities negotiation, then the command.
  if (read_until(fd.get(), buf, deadline, [](const nlohmann::json& j) { return j.contains("QMP"); }).is_null()) return "";
  if (!send_all(fd.get(), R"({"execute":"qmp_capabilities"})" "\n")) return "";
  auto is_reply = [](const nlohmann::json& j) { return j.contains("return") || j.contains("error"); };
  if (read_until(fd.get(), buf, deadline, is_reply).is_null()) return "";
  const nlohmann::json cmd = {{"execute", "human-monitor-command"}, {"arguments", {{"command-line", command}}}};
  if (!send_all(fd.get(), cmd.dump() + "\n")) return "";
  auto reply = read_until(fd.get(), buf, deadline, is_reply);
  if (reply.is_null() || !reply.contains("return") || !reply["return"].is_string()) return "";
  return reply["return"].get<std::string>();
}

VcpuSamples sample_vcpus(const fs::path& socket, unsigned samples) {
  VcpuSamples seen;
  for (unsigned i = 0; i < samples; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::seconds(1));
    auto cpus = parse_info_registers(qmp_human_command(socket, "info registers -a"));
    if (!cpus.empty()) seen.push_back(std::move(cpus));
  }
  return seen;
}

}  // namespace dt
