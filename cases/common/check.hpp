// Verdicts shared by cases and their self-tests, so that a self-test that
// feeds a real bad outcome proves the very code the case relies on.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "lib/btrfs/copies.hpp"
#include "lib/harness/context.hpp"

namespace dt {

// A read's result and buffer: a short transfer inside i_size is a FAIL
// (never retried), wrong data names the first bad offset. Returns true if good.
bool check_read(Context& ctx, const std::string& what, int64_t res, const char* got, const char* want, uint64_t len,
                uint64_t off, uint64_t isize);

// A write's result: anything but the full length is a FAIL. Returns true if good.
bool check_write(Context& ctx, const std::string& what, int64_t res, uint64_t len, uint64_t off);

// Reads [off, off+len) back with O_DIRECT and compares it with `want`;
// every zero-filled or wrong range and every hole (SEEK_HOLE) is a FAIL.
bool verify_file_range(Context& ctx, const std::string& what, int fd_direct, uint64_t off, const char* want,
                       uint64_t len, bool holes_are_errors = true);

// Reports the layout a write left in [off, off+len): FIEMAP extents, SEEK_HOLE holes.
void report_written_layout(Context& ctx, const std::string& what, int fd, uint64_t off, uint64_t len);

// report_written_layout(), then verify_file_range(): what every write case
// checks after its writes.
bool check_written_range(Context& ctx, const std::string& what, int fd_direct, uint64_t off, const char* want,
                         uint64_t len);

// Logs what a copy comparison covered and FAILs once per mismatching block
// (at most 32 listed, then a count). A comparison that found nothing to
// compare (one copy, no parity) is a FAIL too. Returns the mismatch count.
size_t report_copy_comparison(Context& ctx, const std::string& when, const CopyComparison& cmp);

// pwrite()/pread() with its path traced, judged and reported under `key`
// ("nocow write"); returns bytes or -errno. *counts gets the evidence.
int64_t traced_pwrite(Context& ctx, const std::string& key, const std::string& op, int fd, const void* buf,
                      uint64_t len, uint64_t off, PathCounts* counts = nullptr);
int64_t traced_pread(Context& ctx, const std::string& key, const std::string& op, int fd, void* buf, uint64_t len,
                     uint64_t off);
// Any other I/O on fd (write(2) at the file position, readv, io_uring, ...)
// with its path traced, judged and reported the same way: `io` returns bytes
// or -errno; [off, off+len) is the range it touches, for the residency check.
int64_t traced_io(Context& ctx, const std::string& key, const std::string& op, bool write, int fd, uint64_t off,
                  uint64_t len, const std::function<int64_t()>& io, PathCounts* counts = nullptr);

}  // namespace dt
