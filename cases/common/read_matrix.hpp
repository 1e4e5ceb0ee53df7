// The NOWAIT read cases' inner loop, shared: every read method x buffer touch
// pattern x iteration over one prepared file, each read traced, judged and
// reported. io_uring must return the full length; preadv2(RWF_NOWAIT) may
// answer EAGAIN, which is counted and never retried.
#pragma once

#include <cstdint>
#include <string>

#include "lib/harness/context.hpp"
#include "cases/common/read_methods.hpp"

namespace dt {

struct NowaitReads {
  uint64_t reads = 0, eagain = 0;
};

// Reads [0, len) of fd (O_DIRECT) by each method of the case's "methods"
// parameter into fresh anonymous buffers faulted in as each "touch" value
// says, `iterations` times; `want` holds the file's first `isize` bytes.
// Paths are reported under "<variant> read"; `name` prefixes failures. Drops
// fd's cached pages before each read when `drop_cache` (the fallback must
// not find them). Adds to *tally.
void nowait_read_matrix(Context& ctx, Ring& ring, const std::string& variant, const std::string& name, int fd,
                        uint64_t len, const char* want, uint64_t isize, unsigned iterations, NowaitReads* tally,
                        bool drop_cache = false);

// Logs the tally and records the nowait_eagain metric.
void report_nowait_reads(Context& ctx, const NowaitReads& tally);

}  // namespace dt
