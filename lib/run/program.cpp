#include "lib/run/program.hpp"

#include <sys/prctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "lib/run/kmsg.hpp"
#include "lib/sys/proc.hpp"
#include "lib/sys/sys.hpp"

namespace dt {

ProgramRun run_program(const std::vector<std::string>& argv, const std::filesystem::path& dir, unsigned timeout_s,
                       const std::vector<std::string>& devices) {
  ProgramRun r;
  // Descendants that escape the program's process group (setsid, a daemon)
  // come back to us when their parent goes, to be killed before the
  // filesystem is taken down: one left running would keep it busy.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
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
  r.survivors = kill_orphaned_descendants();
  // The program may start others under any name: a report is another
  // process's only when its task still runs outside our tree.
  OwnTasks own = tool_tasks(devices);
  own.comms.push_back(std::filesystem::path(argv[0]).filename().string().substr(0, 15));  // TASK_COMM_LEN - 1
  own.comms_complete = false;
  auto attributed = attribute_kernel_log(kmsg.collect(), own, alive_outside_our_tree);
  r.kernel_log = std::move(attributed.ours);
  r.kernel_notes = std::move(attributed.notes);
  for (const auto& f : scan_kernel_log(r.kernel_log)) r.kernel_findings.push_back(f.signature + ": " + f.line);
  return r;
}

}  // namespace dt
