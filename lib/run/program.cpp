#include "lib/run/program.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include "lib/run/kmsg.hpp"
#include "lib/sys/sys.hpp"

namespace dt {

ProgramRun run_program(const std::vector<std::string>& argv, const std::filesystem::path& dir, unsigned timeout_s) {
  ProgramRun r;
  KmsgWatch kmsg(fmt::format("diotorture exec: {} starts", argv.at(0)));
  WatchdogOptions wo;
  wo.total_s = timeout_s;
  wo.stall_s = timeout_s;  // a reproducer may be silent for as long as it likes
  wo.on_line = [&](const std::string& line) { r.output += line + "\n"; };
  r.outcome = run_watched(
      [&](int report_fd) {
        ::dup2(report_fd, STDOUT_FILENO);
        ::dup2(report_fd, STDERR_FILENO);
        std::vector<std::string> args = {argv[0], dir.string()};
        args.insert(args.end(), argv.begin() + 1, argv.end());
        std::vector<char*> a;
        for (auto& s : args) a.push_back(s.data());
        a.push_back(nullptr);
        ::execvp(a[0], a.data());
        std::string msg = fmt::format("exec {}: {}\n", argv[0], std::strerror(errno));
        (void)!::write(STDERR_FILENO, msg.data(), msg.size());
        return 127;
      },
      wo);
  r.kernel_log = kmsg.collect();
  for (const auto& f : scan_kernel_log(r.kernel_log)) r.kernel_findings.push_back(f.signature + ": " + f.line);
  return r;
}

}  // namespace dt
