// A subcommand: its name and one-line description (shown by help and used for
// "did you mean"), and a setup function that declares its options on the
// CLI11 subcommand and returns the action to run once they are parsed.
#pragma once

#include <CLI/CLI.hpp>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>

#include "lib/btrfs/workspace.hpp"
#include "lib/sys/spellcheck.hpp"
#include "lib/sys/sys.hpp"
#include "lib/vm/vm.hpp"

namespace dt {

using Action = std::function<int()>;

struct Command {
  const char* name;
  const char* description;
  Action (*setup)(CLI::App& sub);
  bool guest_only = false;  // started by another command inside a VM: not in help, not suggested
  // Why the command needs root ("it mounts ..."), or nullptr: main checks it
  // once the options parsed, before the action runs ("diotorture X needs
  // root (WHY); rerun it as root"). Listing (--list) never needs it.
  const char* needs_root = nullptr;
};

// Typed options: CLI11 checks the value while parsing, so a bad one is a
// usage error (exit 2, one line naming the flag) before anything runs.
//
// A whole number or size ("4096", "4G", "1T", "0x10") within [lo, hi]. The
// value is rewritten to decimal, so the option can store it in an integer.
inline CLI::Validator Bounded(const char* what, uint64_t lo, uint64_t hi, bool size = false) {
  auto show = [size](uint64_t v) { return size ? format_size(v) : std::to_string(v); };
  return CLI::Validator(
      [=](std::string& value) -> std::string {
        uint64_t v = 0;
        if (!parse_size(value, &v) || v < lo || v > hi)
          return fmt::format("'{}' is not {} from {} to {}", value, what, show(lo), show(hi));
        value = std::to_string(v);
        return {};
      },
      fmt::format("{}..{}", show(lo), show(hi)));
}

// A decimal number within [lo, hi].
inline CLI::Validator DecimalRange(const char* what, double lo, double hi) {
  return CLI::Validator(
      [=](std::string& value) -> std::string {
        size_t used = 0;
        double x = 0;
        try {
          x = std::stod(value, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != value.size() || !(x >= lo && x <= hi))
          return fmt::format("'{}' is not {} from {} to {}", value, what, lo, hi);
        return {};
      },
      fmt::format("{}..{}", lo, hi));
}

// One of a fixed set of words, with a "did you mean".
inline CLI::Validator OneOf(std::vector<std::string> words) {
  return CLI::Validator(
      [words](std::string& value) -> std::string {
        if (std::find(words.begin(), words.end(), value) != words.end()) return {};
        std::string hint = did_you_mean(value, words);
        return fmt::format("'{}' is not one of {}{}", value, fmt::join(words, ", "),
                           hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint));
      },
      fmt::format("{}", fmt::join(words, "|")));
}

// A path the command writes: a file (its directory must be writable) or a
// directory it creates (its nearest existing parent must be writable).
inline CLI::Validator WritablePath(bool directory) {
  return CLI::Validator(
      [directory](std::string& value) -> std::string {
        const std::string why = why_not_writable(value, directory);
        return why.empty() ? std::string() : fmt::format("cannot write {} ({}); give a writable path", value, why);
      },
      directory ? "DIR" : "FILE");
}

// A repeatable option takes one value per use, so positional ids after it
// stay positional: `run -g mmap dsync-dio-write` is one group and one id.
inline CLI::Option* repeatable(CLI::Option* o) { return o->allow_extra_args(false); }

// The option groups the commands share, each declared once.

// --results DIR: the root every run writes its directory under; checked to
// be writable before anything runs.
inline CLI::Option* add_results_option(CLI::App& sub, std::string* root,
                                       const char* help = "Results root; each run writes a new directory in it") {
  return sub.add_option("--results", *root, help)->check(WritablePath(true))->capture_default_str();
}

// --no-progress. `instead`: what is shown without the live line, if anything.
inline void add_progress_option(CLI::App& sub, bool* no_progress, const char* instead = nullptr) {
  sub.add_flag("--no-progress", *no_progress,
               instead ? fmt::format("No live progress line, even on a terminal: {}", instead)
                       : std::string("No live progress line, even on a terminal"));
}
// The live progress line is for a terminal, and not with --no-progress.
inline bool live_progress(bool no_progress) { return !no_progress && ::isatty(STDOUT_FILENO); }

// How compare and ab judge a change and print the table.
struct VerdictOptions {
  double threshold = 5, latency_threshold = 10, alpha = 0.05;
  std::string format = "text", chart;
};
// `across`: what the samples are, for the help ("" or " across rounds");
// `chart_help`: where the chart goes without --chart.
inline void add_verdict_options(CLI::App& sub, VerdictOptions* v, const char* across, const char* chart_help) {
  sub.add_option("--threshold", v->threshold,
                 fmt::format("Percent slowdown that fails (exit 1) when significant{}", across))
      ->check(DecimalRange("a percentage", 0, 1000))
      ->capture_default_str();
  sub.add_option("--latency-threshold", v->latency_threshold,
                 fmt::format("Percent rise of p99 completion latency that fails (exit 1) when significant{}", across))
      ->check(DecimalRange("a percentage", 0, 100000))
      ->capture_default_str();
  sub.add_option("--alpha", v->alpha, "Significance level of the Mann-Whitney U test")
      ->check(DecimalRange("a significance level", 1e-9, 0.5))
      ->capture_default_str();
  sub.add_option("--format", v->format, "text, markdown (for a CI job summary) or json")
      ->check(OneOf({"text", "markdown", "json"}))
      ->capture_default_str();
  sub.add_option("--chart", v->chart, chart_help)->check(WritablePath(false));
}

// The options that say where to work, shared by run, bench, torture and exec.
inline void add_filesystem_options(CLI::App& sub, FilesystemRequest* fs) {
  sub.add_option("--test-dir", fs->test_dir,
                 "Use this existing btrfs directory instead of a self-provisioned loop btrfs "
                 "(default: TEST_DIR from local.config or the environment)");
  sub.add_option("--profile", fs->profile,
                 "Format the scratch filesystem with this data profile: single, dup, raid0, raid1, raid1c3, raid1c4, "
                 "raid10, raid5, raid6 (loop images: as many as it needs)");
  sub.add_option("--scratch-dev-pool", fs->scratch_pool,
                 "Format these block devices (space separated) instead of loop images (default: SCRATCH_DEV_POOL)");
  sub.add_flag("--force-mkfs", fs->force_mkfs,
               "Format scratch pool devices even if they hold a filesystem (never a device in use)");
  sub.add_option("--scratch-mnt", fs->scratch_mnt, "Mount the scratch pool here (default: SCRATCH_MNT, else private)");
  repeatable(sub.add_option("--allow-fs", fs->allow_fs,
                             "Accept a --test-dir of this non-btrfs type, as a control (repeatable)"));
  sub.add_option("--scratch-size", fs->scratch_size, "Size of each self-provisioned sparse image (default 4G)")
      ->transform(Bounded("an image size", kMinScratchSize, kMaxScratchSize, true));
  sub.add_option("--mkfs-options", fs->mkfs_options, "Extra mkfs.btrfs arguments for the scratch filesystem");
  sub.add_option("--mount-options", fs->mount_options, "Mount options for the scratch filesystem");
}

// The machine of every command that boots kernels under qemu (vm, crash, ab):
// its size, patience and accelerator.
inline void add_machine_options(CLI::App& sub, GuestMachine* m, const char* timeout_help) {
  sub.add_option("--mem", m->mem, fmt::format("Guest memory (default {})", format_size(m->mem)))
      ->transform(Bounded("a memory size", 512ull << 20, 1ull << 40, true));
  sub.add_option("--cpus", m->cpus, "Guest CPUs")->transform(Bounded("a CPU count", 1, 64))->capture_default_str();
  sub.add_option("--timeout", m->timeout_s, timeout_help)
      ->transform(Bounded("a number of seconds", 10, 7 * 86400))
      ->capture_default_str();
  sub.add_option("--accel", m->accel, "auto (KVM if it boots, probed once; else TCG), kvm or tcg")
      ->check(OneOf({"auto", "kvm", "tcg"}))
      ->capture_default_str();
}

// A command that boots one kernel (vm, crash): the kernel, its modules and
// the machine. ab boots two kernels and declares those itself.
struct GuestOptions {
  std::string kernel, modules;
  GuestMachine machine;
};
inline void add_guest_options(CLI::App& sub, GuestOptions* g, const char* timeout_help) {
  sub.add_option("--kernel", g->kernel, "Kernel image (bzImage/vmlinuz) to boot");
  sub.add_option("--modules", g->modules, "The kernel's lib/modules/VERSION directory (btrfs, virtio, loop)");
  add_machine_options(sub, &g->machine, timeout_help);
}

// What followed the first "--" of a command that runs another command (ab),
// cut off before CLI11 parses: CLI11 would take options it knows from there
// (`ab ... --results R -- bench --label x` gave --label to ab).
std::vector<std::string>& passthrough_args();

Action setup_list(CLI::App& sub);
Action setup_run(CLI::App& sub);
Action setup_bench(CLI::App& sub);
Action setup_compare(CLI::App& sub);
Action setup_vm(CLI::App& sub);
Action setup_clean(CLI::App& sub);
Action setup_torture(CLI::App& sub);
Action setup_ab(CLI::App& sub);
Action setup_crash(CLI::App& sub);
Action setup_exec(CLI::App& sub);
Action setup_crash_record(CLI::App& sub);
Action setup_crash_check(CLI::App& sub);
Action setup_merge(CLI::App& sub);
Action setup_kcidb_check(CLI::App& sub);
Action setup_report(CLI::App& sub);

}  // namespace dt
