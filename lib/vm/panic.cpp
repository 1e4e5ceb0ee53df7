#include "lib/vm/panic.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace dt {

namespace {

// "[   13.1] RIP: 0010:__schedule+0x2f/0x90" or "[   13.1]  ? tracepoint_probe_unregister+0x1a/0x2c0 [mod]":
// the function before "+0x", or "".
std::string frame_function(std::string_view line) {
  const auto plus = line.find("+0x");
  if (plus == std::string_view::npos) return "";
  size_t b = line.find_last_of(" :", plus);
  b = b == std::string_view::npos ? 0 : b + 1;
  std::string fn(line.substr(b, plus - b));
  const auto mod = line.find('[', plus);
  if (mod != std::string_view::npos && line.find(']', mod) != std::string_view::npos)
    fn += " " + std::string(line.substr(mod, line.find(']', mod) - mod + 1));
  return fn;
}

bool starts_report(std::string_view l) {
  for (const char* h : {"BUG:", "Oops:", "general protection fault", "int3:", "invalid opcode:", "WARNING:",
                        "INFO: task", "Kernel BUG", "kernel BUG", "Unable to handle"})
    if (l.find(h) != std::string_view::npos) return true;
  return false;
}

}  // namespace

std::vector<std::string> panic_frames(std::string_view console) {
  const auto panic = console.rfind("Kernel panic");
  if (panic == std::string_view::npos) return {};
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < panic) {
    size_t nl = console.find('\n', pos);
    if (nl == std::string_view::npos || nl > panic) nl = panic;
    lines.push_back(console.substr(pos, nl - pos));
    pos = nl + 1;
  }
  // The report that led to the panic: from the last report header before it.
  size_t from = 0;
  for (size_t i = 0; i < lines.size(); ++i)
    if (starts_report(lines[i])) from = i;
  std::vector<std::string> out;
  bool in_trace = false;
  for (size_t i = from; i < lines.size(); ++i) {
    const std::string_view l = lines[i];
    if (l.find("Call Trace:") != std::string_view::npos) in_trace = true;
    const bool rip = l.find("RIP: ") != std::string_view::npos;
    if (!rip && !in_trace) continue;
    std::string fn = frame_function(l);
    if (!fn.empty()) out.push_back(fn);
  }
  return out;
}

bool filesystem_frame(std::string_view frame) {
  return frame.find("[btrfs]") != std::string_view::npos || frame.rfind("btrfs_", 0) == 0 ||
         frame.find("iomap") != std::string_view::npos;
}

std::string panic_outside_filesystem(std::string_view console) {
  const auto frames = panic_frames(console);
  if (frames.empty()) return "";
  if (std::any_of(frames.begin(), frames.end(), [](const std::string& f) { return filesystem_frame(f); })) return "";
  std::vector<std::string> from(frames.begin() + 1, frames.begin() + static_cast<long>(std::min<size_t>(frames.size(), 6)));
  return fmt::format("the guest kernel panicked outside btrfs and iomap code (in {}{}{})", frames.front(),
                     from.empty() ? "" : ", from ", fmt::join(from, " <- "));
}

}  // namespace dt
