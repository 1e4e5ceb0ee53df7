#include "lib/sys/proc.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "lib/sys/sys.hpp"

namespace dt {

int parent_pid(int pid) {
  const std::string status = read_file_or_empty(fmt::format("/proc/{}/status", pid));
  const auto p = status.find("PPid:\t");
  return p == std::string::npos ? -1 : std::atoi(status.c_str() + p + 6);
}

std::vector<int> child_pids() {
  std::vector<int> out;
  std::error_code ec;
  const int me = ::getpid();
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const int pid = std::atoi(name.c_str());
    if (parent_pid(pid) == me) out.push_back(pid);
  }
  return out;
}

std::vector<std::string> kill_orphaned_descendants() {
  std::vector<std::string> killed;
  for (int round = 0; round < 16; ++round) {
    const auto kids = child_pids();
    if (kids.empty()) break;
    for (int pid : kids) {
      const std::string comm = trim(read_file_or_empty(fmt::format("/proc/{}/comm", pid)));
      ::kill(pid, SIGKILL);
      bool reaped = false;
      for (int i = 0; i < 200 && !reaped; ++i) {
        reaped = ::waitpid(pid, nullptr, WNOHANG) == pid;
        if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      killed.push_back(fmt::format("pid {} ({}){}", pid, comm, reaped ? "" : " (stuck in D state)"));
      if (!reaped) return killed;  // it keeps its place in the tree: do not count it again
    }
  }
  return killed;
}

}  // namespace dt
