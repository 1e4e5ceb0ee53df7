#include "lib/sys/physmem.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "lib/sys/sys.hpp"

namespace dt {

std::optional<std::vector<uint64_t>> physical_frames(const void* p, size_t len) {
  const auto page = static_cast<uintptr_t>(page_size());
  const auto first = reinterpret_cast<uintptr_t>(p) / page;
  const auto end = (reinterpret_cast<uintptr_t>(p) + len + page - 1) / page;
  Fd fd(::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::vector<uint64_t> entries(end - first);
  const auto bytes = static_cast<ssize_t>(entries.size() * sizeof(uint64_t));
  if (::pread(fd.get(), entries.data(), static_cast<size_t>(bytes), static_cast<off_t>(first * sizeof(uint64_t))) != bytes)
    return std::nullopt;
  constexpr uint64_t kPresent = 1ull << 63, kFrameMask = (1ull << 55) - 1;  // Documentation/admin-guide/mm/pagemap.rst
  for (auto& e : entries) {
    if (!(e & kPresent) || (e & kFrameMask) == 0) return std::nullopt;
    e &= kFrameMask;
  }
  return entries;
}

size_t contiguous_runs(const std::vector<uint64_t>& frames) {
  size_t runs = frames.empty() ? 0 : 1;
  for (size_t i = 1; i < frames.size(); ++i) runs += frames[i] != frames[i - 1] + 1;
  return runs;
}

}  // namespace dt
