#include "lib/vm/vm.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "lib/btrfs/scratch.hpp"
#include "lib/run/results_dir.hpp"
#include "lib/sys/interrupt.hpp"
#include "lib/sys/owned.hpp"
#include "lib/sys/sys.hpp"
#include "lib/vm/initramfs.hpp"
#include "lib/vm/panic.hpp"
#include "lib/vm/vcpus.hpp"

namespace dt {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

unsigned stack_dump_time(unsigned timeout_s) { return timeout_s > 60 ? timeout_s - 30 : timeout_s / 2; }

std::string guest_init_script(const std::vector<std::string>& args, unsigned disks, unsigned stack_dump_after_s) {
  // The subcommand writes its results on the results disk; everything it
  // prints goes to the console and to output.txt beside the results.
  std::string cmd = "/bin/diotorture " + shell_quote(args.at(0));
  if (args[0] != "list") cmd += " --results /results/runs";
  for (size_t i = 1; i < args.size(); ++i) cmd += " " + shell_quote(args[i]);
  // Disks are found by their serial: qemu enumerates -device disks (crash's)
  // before -drive ones, so a name like /dev/vda says nothing.
  std::string pool;
  for (unsigned i = 0; i < disks; ++i) pool += fmt::format(" dt-scratch{}", i);
  // sysrq's own header goes out at the console's level, but the task dumps
  // at KERN_INFO: raise the console to everything first.
  const std::string stack_dump =
      stack_dump_after_s == 0
          ? std::string()
          : fmt::format("(sleep {0}; echo \"diotorture-vm: still running after {0} s; the blocked tasks follow (sysrq w)\"; "
                        "echo 8 >/proc/sys/kernel/printk; echo w >/proc/sysrq-trigger) &\n",
                        stack_dump_after_s);
  return fmt::format(R"SH(#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /var/tmp
{}if [ -f /etc/modules-order ]; then
  for m in $(cat /etc/modules-order); do insmod /lib/modules/$m || echo "diotorture-vm: insmod $m failed"; done
fi
echo "diotorture-vm: guest up, kernel $(uname -r)"
by_serial() {{
  for b in /sys/block/vd*; do [ "$(cat $b/serial 2>/dev/null)" = "$1" ] && echo /dev/${{b##*/}} && return; done
}}
i=0
while [ -z "$(by_serial dt-results)" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
RESULTS_DEV=$(by_serial dt-results)
POOL=""
for s in{}; do POOL="$POOL $(by_serial $s)"; done
if [ -n "$RESULTS_DEV" ] && mkfs.btrfs -q -f -L dt-results $RESULTS_DEV >/dev/null 2>&1 && mount $RESULTS_DEV /results; then
  export SCRATCH_DEV_POOL="${{POOL# }}"
  export TMPDIR=/var/tmp
  # The host names a hung guest's instruction pointers with these (vcpus.hpp).
  grep ' [tTwW] ' /proc/kallsyms >/results/kallsyms; sync
  cd /results
  ({}; echo $? >/results/exit-status) 2>&1 | tee /results/output.txt
  sync
  cd /
  umount /results
else
  echo "diotorture-vm: the results disk could not be formatted and mounted"
fi
echo "diotorture-vm: done"
poweroff -f
)SH",
                     stack_dump, pool, cmd);
}

namespace {

struct Qemu {
  pid_t pid = -1;
  fs::path console, stderr_file;
};

Qemu start_qemu(const std::vector<std::string>& argv, const fs::path& console, const fs::path& err) {
  Qemu q{-1, console, err};
  std::error_code ec;
  fs::remove(console, ec);
  const pid_t parent = ::getpid();
  q.pid = ::fork();
  if (q.pid < 0) throw_errno("fork");
  if (q.pid == 0) {
    ::setpgid(0, 0);
    // A guest outlives nothing: if diotorture is killed, so is qemu (a TCG
    // guest would otherwise run on for up to --timeout, on images that the
    // next run's reclaim removes).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    int devnull = ::open("/dev/null", O_RDWR);
    int efd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(efd, 2);
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    ::execvp(a[0], a.data());
    ::_exit(127);
  }
  return q;
}

// Waits for exit, the deadline, or `until` (polled every 200 ms); returns
// true if qemu exited (and *status has its wait status).
template <typename F>
bool wait_qemu(const Qemu& q, Clock::time_point deadline, int* status, F until) {
  while (Clock::now() < deadline) {
    pid_t r = ::waitpid(q.pid, status, WNOHANG);
    if (r == q.pid) return true;
    if (until()) return false;
    throw_if_interrupted();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

void kill_qemu(const Qemu& q) {
  ::kill(-q.pid, SIGKILL);
  ::kill(q.pid, SIGKILL);
  int st = 0;
  ::waitpid(q.pid, &st, 0);
}

bool kvm_usable() {
  Fd fd(::open("/dev/kvm", O_RDWR | O_CLOEXEC));
  return static_cast<bool>(fd);
}

// The case that was running when the guest stopped: selected but not reported.
std::string running_case(const fs::path& run_dir) {
  auto j = nlohmann::json::parse(read_file_or_empty(run_dir / "summary.json"), nullptr, false);
  if (j.is_discarded()) return "";
  std::set<std::string> done;
  for (const auto& c : j.value("cases", nlohmann::json::array())) done.insert(c.value("id", ""));
  for (const auto& id : j.value("selected", nlohmann::json::array()))
    if (!done.count(id.get<std::string>())) return id.get<std::string>();
  return "";
}

}  // namespace

bool guest_subcommand_allowed(const std::string& name) {
  for (const char* n : {"run", "bench", "torture", "list", "exec", "crash-record", "crash-check"})
    if (name == n) return true;
  return false;
}

namespace {

// One boot of the guest, as run_vm's comment says; a fault is set
// (*fault_out) when the host proved the hang qemu's. `earlier_faults` go into vm.json.
int boot_guest(const VmOptions& o, std::ostream& out, VmOutcome* outcome, std::string* fault_out,
               const std::vector<std::string>& earlier_faults) {
  if (o.args.empty()) throw SetupError("no subcommand for the guest; add one after --, e.g. -- run -g quick");
  if (!guest_subcommand_allowed(o.args[0]))
    throw SetupError(fmt::format("the guest runs run, bench, torture, exec or list, not '{}'", o.args[0]));
  if (!fs::is_regular_file(o.kernel))
    throw SetupError(fmt::format("--kernel {} is not a file; give a bzImage/vmlinuz", o.kernel.string()));
  const std::string release = bzimage_release(o.kernel);
  if (release.empty()) throw SetupError(fmt::format("--kernel {} is not a bzImage (no HdrS header)", o.kernel.string()));
  if (!o.modules.empty() && o.modules.filename() != release)
    out << fmt::format("warning: --modules is for {}, the kernel says {}\n", o.modules.filename().string(), release);
  std::string qemu_bin = "qemu-system-x86_64";
  if (std::string v; run_command({qemu_bin, "--version"}, &v) != 0)
    throw SetupError("qemu-system-x86_64 not found; install it (apt-get install -y qemu-system-x86)");
  if (!fs::exists("/bin/busybox"))
    throw SetupError("/bin/busybox not found; install busybox-static (apt-get install -y busybox-static)");

  const TempDir work_dir("diotorture-vm");
  const fs::path& work = work_dir.path();

  // The initramfs: busybox, this binary, mkfs.btrfs, blkid, and modules.
  InitramfsSpec spec;
  spec.binaries = {"/bin/busybox"};
  spec.binaries.insert(spec.binaries.end(), o.extra_binaries.begin(), o.extra_binaries.end());
  spec.extra_files = o.extra_files;
  spec.placed_binaries = {{fs::canonical("/proc/self/exe").string(), "/bin/diotorture"}};
  spec.placed_binaries.insert(spec.placed_binaries.end(), o.extra_placed.begin(), o.extra_placed.end());
  for (const char* tool : {"mkfs.btrfs", "blkid"})
    if (std::string path = program_path(tool); !path.empty()) spec.binaries.push_back(path);
  spec.modules_dir = o.modules;
  spec.modules = {"virtio_pci", "virtio_blk", "btrfs", "loop"};
  spec.modules.insert(spec.modules.end(), o.extra_modules.begin(), o.extra_modules.end());
  spec.init_script = guest_init_script(o.args, o.disks, stack_dump_time(o.machine.timeout_s));
  std::vector<std::string> order;
  std::string img = build_initramfs(spec, &order);
  write_file_atomic(work / "initramfs.cpio", img);

  const fs::path results_img = work / "results.img";
  make_sparse_file(results_img, 1ull << 30);
  std::vector<std::string> drives = {"-drive", fmt::format("file={},format=raw,if=none,id=dt-results", results_img.string()),
                                     "-device", "virtio-blk-pci,drive=dt-results,serial=dt-results"};
  for (unsigned i = 0; i < o.disks; ++i) {
    const fs::path d = work / fmt::format("scratch{}.img", i);
    make_sparse_file(d, o.disk_size);
    drives.insert(drives.end(), {"-drive", fmt::format("file={},format=raw,if=none,id=dt-scratch{},cache=unsafe", d.string(), i),
                                 "-device", fmt::format("virtio-blk-pci,drive=dt-scratch{},serial=dt-scratch{}", i, i)});
  }
  // The monitor lets the host see where a hung guest's CPUs are (vcpus.hpp);
  // a unix socket path has a limit, and a long TMPDIR only costs that view.
  const fs::path qmp_socket = work / "qmp.sock";
  const bool qmp_fits = qmp_socket_fits(qmp_socket);
  auto qemu_argv = [&](const std::string& accel) {
    std::vector<std::string> a = {qemu_bin,  "-accel",     accel,       "-m",         fmt::format("{}M", o.machine.mem >> 20),
                                  "-smp",    std::to_string(o.machine.cpus),    "-kernel",    o.kernel.string(),
                                  "-initrd", (work / "initramfs.cpio").string(),      "-append",
                                  "console=ttyS0 panic=-1 rdinit=/init loglevel=4 dt.accel=" + accel +
                                      (o.extra_kernel_args.empty() ? "" : " " + o.extra_kernel_args),   "-display", "none",
                                  "-serial", "file:" + (work / "console.log").string(), "-monitor", "none",
                                  "-no-reboot",
                                  // Names qemu's threads after what they do ("CPU 0/TCG"),
                                  // so the host's view of a hang can tell vCPUs apart.
                                  "-name", "diotorture,debug-threads=on"};
    if (qmp_fits) {
      a.push_back("-qmp");
      a.push_back("unix:" + qmp_socket.string() + ",server=on,wait=off");
    }
    if (accel == "tcg") a.insert(a.end(), {"-cpu", "max"});
    else a.insert(a.end(), {"-cpu", "host"});
    a.insert(a.end(), drives.begin(), drives.end());
    a.insert(a.end(), o.extra_qemu_args.begin(), o.extra_qemu_args.end());
    return a;
  };
  auto console = [&] { return read_file_or_empty(work / "console.log"); };

  // KVM only if it really boots: a nested PVM host fails with an emulation
  // error early in boot, so probe and fall back to TCG.
  std::string accel = o.machine.accel == "auto" ? (kvm_usable() ? "kvm" : "tcg") : o.machine.accel;
  std::string accel_why = o.machine.accel == "auto" && accel == "tcg" ? "no usable /dev/kvm" : "asked for";
  Qemu q;
  int status = 0;
  bool exited = false;
  auto t0 = Clock::now();
  if (accel == "kvm") {
    q = start_qemu(qemu_argv("kvm"), work / "console.log", work / "qemu.err");
    // A working KVM guest prints its first console line well within a second.
    exited = wait_qemu(q, Clock::now() + std::chrono::seconds(10), &status, [&] {
      return console().find("diotorture-vm: guest up") != std::string::npos ||
             read_file_or_empty(q.stderr_file).find("KVM internal error") != std::string::npos;
    });
    const bool up = console().find("diotorture-vm: guest up") != std::string::npos;
    if (!up && o.machine.accel == "auto") {
      std::string err = trim(read_file_or_empty(q.stderr_file));
      if (!exited) kill_qemu(q);
      accel = "tcg";
      accel_why = fmt::format("KVM did not boot the guest ({})", err.empty() ? "no console output in 10 s"
                                                                              : err.substr(0, err.find('\n')));
      exited = false;
    } else {
      accel_why = up ? "KVM boots the guest" : "asked for; the guest has not printed its first line yet";
    }
  }
  if (accel == "tcg" && q.pid < 0) t0 = Clock::now();
  out << fmt::format("VM        -- {} on qemu, accelerator {} ({}){}\n", release, accel == "kvm" ? "KVM" : "TCG",
                     accel_why, accel == "tcg" ? "; TCG timings are not comparable with the host's" : "");
  out << fmt::format("MODULES   -- {}\n", order.empty() ? "none (all built in)" : fmt::format("{}", fmt::join(order, " ")));
  out << fmt::format("GUEST     -- diotorture {}\n", fmt::join(o.args, " ")) << std::flush;
  if (accel == "tcg") {
    q = start_qemu(qemu_argv("tcg"), work / "console.log", work / "qemu.err");
    t0 = Clock::now();
  }
  const auto deadline = t0 + std::chrono::seconds(o.machine.timeout_s);
  bool timed_out = false;
  HangEvidence hang;  // what the host saw of a guest it killed
  if (!exited) {
    try {
      exited = wait_qemu(q, deadline, &status, [&] {
        if (o.on_console) o.on_console(console());
        return false;
      });
    } catch (...) {
      kill_qemu(q);
      throw;
    }
    if (!exited) {
      timed_out = true;
      hang = gather_hang_evidence(qmp_socket, q.pid);
      kill_qemu(q);
    }
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const std::string con = console();

  // Bring the results disk back: mount it (rw: a killed guest may leave a
  // log to replay) and copy every run directory into our results root.
  fs::create_directories(o.results_root);
  std::vector<std::string> run_dirs;
  std::string output, exit_status;
  SymbolMap guest_symbols;
  {
    LoopDevice loop(results_img);
    const fs::path mnt = work / "results-mnt";
    fs::create_directories(mnt);
    Owned mount_record({"mount", mnt.string(), loop.path()});
    if (::mount(loop.path().c_str(), mnt.c_str(), "btrfs", 0, nullptr) == 0) {
      const uint64_t mount_id = mount_id_of(mnt);  // unmount this mount, not whatever is at the path later
      mount_record.update({"mount", mnt.string(), loop.path(), mount_id});
      std::error_code ec;
      for (const auto& d : fs::directory_iterator(mnt / "runs", ec)) {
        if (!d.is_directory() || d.is_symlink()) continue;
        std::string name = d.path().filename().string();
        fs::path dst = o.results_root / name;
        for (int n = 2; fs::exists(dst); ++n) dst = o.results_root / fmt::format("{}-{}", name, n);
        fs::copy(d.path(), dst, fs::copy_options::recursive);
        run_dirs.push_back(dst.filename().string());
      }
      output = read_file_or_empty(mnt / "output.txt");
      if (!hang.samples.empty()) guest_symbols = SymbolMap::parse(read_file_or_empty(mnt / "kallsyms"));
      exit_status = trim(read_file_or_empty(mnt / "exit-status"));
      if (mount_id_of(mnt) == mount_id) ::umount2(mnt.c_str(), 0);
    }
    loop.detach();
  }
  std::sort(run_dirs.begin(), run_dirs.end());
  fs::path keep_dir;
  if (!run_dirs.empty()) {
    keep_dir = o.results_root / run_dirs.back();
  } else {
    keep_dir = o.results_root / ("vm-" + make_run_id(o.results_root));
    fs::create_directories(keep_dir);
    run_dirs.push_back(keep_dir.filename().string());
  }
  point_latest(o.results_root, keep_dir.filename().string());
  // The host's view of a hung guest's CPUs goes after its console, marked
  // as ours: that file is what a hang report quotes.
  const std::vector<std::string> vcpus = describe_vcpus(hang.samples, guest_symbols);
  const std::string qemu_threads = describe_host_threads(hang.threads_before, hang.threads_after, hang.seconds, ::sysconf(_SC_CLK_TCK));
  // A guest qemu had stopped has no wakeup to lose: its CPUs say nothing.
  const std::string stopped = stopped_by_qemu(hang.vm_status);
  const std::string emulator_fault = stopped.empty() ? lost_wakeup(hang.samples) : "";
  std::string vcpu_block;
  if (timed_out) {
    vcpu_block = fmt::format("--- diotorture (host): where the guest's CPUs were before the kill (qemu monitor, {} of {} samples a second apart; {}):\n",
                             hang.samples.size(), hang.asked,
                             guest_symbols.empty() ? "bare addresses: the guest saved no /proc/kallsyms" : "names from the guest's /proc/kallsyms");
    if (!hang.vm_status.empty()) vcpu_block += "qemu: VM status " + hang.vm_status + "\n";
    for (const auto& l : vcpus) vcpu_block += l + "\n";
    for (const auto& l : hang.monitor_failures) vcpu_block += "monitor: " + l + "\n";
    if (!qemu_threads.empty()) vcpu_block += qemu_threads + "\n";
    if (!stopped.empty()) vcpu_block += "verdict: " + stopped + "\n";
    if (!emulator_fault.empty()) vcpu_block += "verdict: " + emulator_fault + "\n";
  }
  write_file_atomic(keep_dir / "console.log", con + vcpu_block);
  const bool panicked = con.find("Kernel panic") != std::string::npos;
  // A panic far from the filesystem is treated like an emulator fault: said, and the guest booted once more.
  const std::string foreign_panic = panicked ? panic_outside_filesystem(con) : "";
  const bool finished = con.find("diotorture-vm: done") != std::string::npos;
  nlohmann::json vm = {{"kernel", release},
                       {"kernel_image", fs::absolute(o.kernel).string()},
                       {"modules", order},
                       {"accelerator", accel},
                       {"accelerator_reason", accel_why},
                       {"seconds", secs},
                       {"timed_out", timed_out},
                       {"kernel_panic", panicked},
                       {"finished", finished},
                       {"guest_args", o.args},
                       {"vm_status_at_kill", hang.vm_status},
                       {"stopped_by_qemu", stopped},
                       {"vcpus_at_kill", vcpus},
                       {"monitor_failures", hang.monitor_failures},
                       {"qemu_threads_at_kill", qemu_threads},
                       {"emulator_fault", emulator_fault},
                       {"panic_outside_filesystem", foreign_panic},
                       {"after_emulator_faults", earlier_faults},
                       {"qemu_stderr", read_file_or_empty(work / "qemu.err")}};
  write_file_atomic(keep_dir / "vm.json", vm.dump(2) + "\n");

  if (outcome) *outcome = {accel, run_dirs, secs};
  *fault_out = !emulator_fault.empty() ? emulator_fault : foreign_panic;
  out << "\n" << output;
  if (!finished || timed_out || panicked || exit_status.empty()) {
    std::string why = timed_out ? fmt::format("the guest did not finish within {} s and was killed", o.machine.timeout_s)
                      : panicked ? "the guest kernel panicked"
                                 : "the guest stopped without finishing";
    std::string running = running_case(keep_dir);
    const bool dumped = con.find("the blocked tasks follow (sysrq w)") != std::string::npos;
    out << fmt::format("\nVM: {}{}; serial console saved in {}{}\n", why,
                       running.empty() ? "" : fmt::format(" while case {} was running", running),
                       (keep_dir / "console.log").string(),
                       dumped ? " (with the blocked tasks' stacks before the kill)" : "");
    if (!vcpus.empty()) out << "VM: its CPUs before the kill: " << fmt::format("{}", fmt::join(vcpus, "; ")) << "\n";
    if (!stopped.empty()) out << "VM: " << stopped << "\n";
    if (!emulator_fault.empty()) out << "VM: " << emulator_fault << "\n";
    if (!foreign_panic.empty()) out << "VM: " << foreign_panic << "\n";
    return 3;
  }
  out << fmt::format("\nVM: guest finished in {:.0f} s ({}); console in {}\n", secs, accel == "kvm" ? "KVM" : "TCG",
                     (keep_dir / "console.log").string());
  int rc = 3;
  try {
    rc = std::stoi(exit_status);
  } catch (const std::exception&) {
  }
  return rc;
}

}  // namespace

int retry_emulator_faults(unsigned retries, const std::function<int(const std::vector<std::string>&, std::string*)>& boot,
                          const std::function<void(unsigned, const std::string&)>& before_retry) {
  std::vector<std::string> faults;
  for (unsigned attempt = 0;; ++attempt) {
    std::string fault;
    const int rc = boot(faults, &fault);
    if (fault.empty() || attempt >= retries) return rc;
    faults.push_back(fault);
    before_retry(attempt + 2, fault);
  }
}

int run_vm(const VmOptions& o, std::ostream& out, VmOutcome* outcome) {
  VmOutcome all;
  VmOptions again = o;
  const int rc = retry_emulator_faults(
      o.emulator_retries,
      [&](const std::vector<std::string>& earlier, std::string* fault) {
        VmOutcome one;
        const int boot_rc = boot_guest(again, out, &one, fault, earlier);
        all.accel = one.accel;
        all.seconds += one.seconds;
        all.run_dirs.insert(all.run_dirs.end(), one.run_dirs.begin(), one.run_dirs.end());
        again.machine.settle_accel(one.accel);
        return boot_rc;
      },
      [&](unsigned attempt, const std::string& fault) {
        const bool panic = fault.rfind("the guest kernel panicked outside", 0) == 0;
        out << fmt::format("VM: booting the guest again (attempt {} of {}): {}; that attempt's results stay in {}\n\n",
                           attempt, o.emulator_retries + 1,
                           panic ? "the panic above was not in the filesystem's code, so it says nothing about it"
                                 : "the hang above was qemu's, so it says nothing about the kernel",
                           all.run_dirs.empty() ? o.results_root.string() : (o.results_root / all.run_dirs.back()).string());
      });
  if (outcome) *outcome = all;
  return rc;
}

}  // namespace dt
