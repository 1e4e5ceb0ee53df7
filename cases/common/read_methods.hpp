// The ways the NOWAIT read cases submit one O_DIRECT read, and the buffer
// states they read into. io_uring tries every read with IOCB_NOWAIT first
// and retries in a worker on EAGAIN, so a short count from it is a bug;
// preadv2(RWF_NOWAIT) may legally answer EAGAIN instead.
#pragma once

#include <cstdint>
#include <string>

#include "lib/io/uring.hpp"
#include "lib/sys/sys.hpp"

namespace dt {

// readv, read, read-fixed, readv-async (IOSQE_ASYNC), preadv2-nowait.
inline constexpr const char* kNowaitReadMethods = "readv,read,read-fixed,readv-async,preadv2-nowait";
// none, first, half, alternate, random, all.
inline constexpr const char* kTouchPatterns = "none,first,half,alternate,random,all";

// Faults in the pages of a fresh anonymous buffer that `how` names (writing
// one byte to each), leaving the others unpopulated.
void touch_pages(const Mapping& m, const std::string& how, uint64_t seed);

// One read of [off, off+len) into buf by `method`; bytes or -errno.
int64_t read_by_method(const std::string& method, Ring& ring, int fd, char* buf, size_t len, uint64_t off);

// True for the method that may legally answer EAGAIN.
inline bool may_eagain(const std::string& method) { return method == "preadv2-nowait"; }

}  // namespace dt
