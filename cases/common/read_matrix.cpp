#include "cases/common/read_matrix.hpp"

#include <fcntl.h>

#include "cases/common/check.hpp"

namespace dt {

void nowait_read_matrix(Context& ctx, Ring& ring, const std::string& variant, const std::string& name, int fd,
                        uint64_t len, const char* want, uint64_t isize, unsigned iterations, NowaitReads* tally,
                        bool drop_cache) {
  for (const std::string& method : ctx.param_list("methods")) {
    bool unsupported = false;
    for (const std::string& how : ctx.param_list("touch")) {
      for (unsigned it = 0; it < iterations && !unsupported; ++it) {
        if (drop_cache) ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        Mapping buf = Mapping::anonymous(len);
        touch_pages(buf, how, ctx.seed() + it);
        const std::string what = fmt::format("{} {} touch={} #{}", name, method, how, it);
        PathReport pr{.op = method + " " + format_size(len)};
        ctx.trace_start({fd});
        int64_t res = read_by_method(method, ring, fd, buf.data(), len, 0);
        ctx.trace_stop(&pr, fd, 0, len);
        ++tally->reads;
        if (res < 0 && skip_if_unsupported(ctx, fmt::format("{} on {}", method, variant), static_cast<int>(-res))) {
          unsupported = true;
          break;
        }
        ctx.report_path(variant + " read", pr);
        if (res == -EAGAIN && may_eagain(method)) {
          // Legal: the kernel may refuse a NOWAIT read it cannot do without
          // blocking (ca93e44bfb5f, 79d3d1d12e6f and a4527e1853f8 all answer so).
          ++tally->eagain;
          continue;
        }
        check_read(ctx, what, res, buf.data(), want, isize, 0, isize);
      }
    }
  }
}

void report_nowait_reads(Context& ctx, const NowaitReads& t) {
  ctx.log("{} reads; preadv2(RWF_NOWAIT) returned EAGAIN {} times (legal, reported, not retried)", t.reads, t.eagain);
  ctx.metric("nowait_eagain", static_cast<double>(t.eagain), "reads");
}

}  // namespace dt
