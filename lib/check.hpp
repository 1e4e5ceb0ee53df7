// Verdicts shared by cases and their self-tests, so that a self-test that
// feeds a real bad outcome proves the very code the case relies on.
#pragma once

#include <cstdint>
#include <string>

#include "lib/context.hpp"

namespace dt {

// A read's result and buffer: a short transfer inside i_size is a FAIL
// (never retried), wrong data names the first bad offset. Returns true if good.
bool check_read(Context& ctx, const std::string& what, int64_t res, const char* got, const char* want, uint64_t len,
                uint64_t off, uint64_t isize);

// Reads [off, off+len) back with O_DIRECT and compares it with `want`;
// every zero-filled or wrong range and every hole (SEEK_HOLE) is a FAIL.
bool verify_file_range(Context& ctx, const std::string& what, int fd_direct, uint64_t off, const char* want,
                       uint64_t len, bool holes_are_errors = true);

// The written range's layout (FIEMAP extents, SEEK_HOLE holes) reported,
// then verify_file_range(): what every write case checks after its writes.
bool check_written_range(Context& ctx, const std::string& what, int fd_direct, uint64_t off, const char* want,
                         uint64_t len);

// pwrite()/pread() with its path traced, judged and reported under `key`
// ("nocow write"); returns bytes or -errno. *counts gets the evidence.
int64_t traced_pwrite(Context& ctx, const std::string& key, const std::string& op, int fd, const void* buf,
                      uint64_t len, uint64_t off, PathCounts* counts = nullptr);
int64_t traced_pread(Context& ctx, const std::string& key, const std::string& op, int fd, void* buf, uint64_t len,
                     uint64_t off);

}  // namespace dt
