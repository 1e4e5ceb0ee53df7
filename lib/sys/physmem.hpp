// Where a buffer's pages lie in physical memory. A direct I/O maps the user
// buffer's pages into the bio; physically consecutive pages merge into one
// segment, so a buffer in few runs makes few segments, and one in many runs
// can need more than the device takes (a loop device: 128), so every bio is
// split. Measured on a 1 MiB psync read: a buffer in 222 runs split every
// bio and cost 0.037 CPU s/GiB; one that split none cost 0.029 (fio's
// buffer, which split none, lay in 34 runs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace dt {

// The physical frame number of every page of [p, p + len), from
// /proc/self/pagemap; nullopt when the kernel hides frame numbers (without
// CAP_SYS_ADMIN they read as 0) or a page is not present (touch it first).
std::optional<std::vector<uint64_t>> physical_frames(const void* p, size_t len);

// How many runs of consecutive frames, in order, the pages form: 1 for a
// physically contiguous buffer, one per page for a scattered one.
size_t contiguous_runs(const std::vector<uint64_t>& frames);

}  // namespace dt
