#include "cases/common/race.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "cases/common/check.hpp"
#include "lib/io/pattern.hpp"
#include "lib/io/uring.hpp"
#include "lib/sys/sys.hpp"

namespace dt {

std::string RaceConfig::name() const {
  return fmt::format("{}-{}-qd{}-m{}", engine, format_size(block_size), queue_depth, mutators);
}

std::vector<ParamSpec> race_params(const std::string& default_file_size) {
  return {
      param::choices("engines", "pwrite,uring", "how the direct writes are issued", {"pwrite", "uring"}),
      param::sizes("block-sizes", "4k,64k,1m", "size of each write", 4096, 16 << 20),
      param::counts("queue-depths", "1,8,32", "io_uring writes in flight, each from its own buffer", 1, 256),
      param::counts("mutators", "1", "threads that keep changing the buffers", 1, 64),
      param::size("file-size", default_file_size, "bytes overwritten per configuration", 64 << 10, 1ull << 30),
  };
}

// The parameters were validated against their declarations before the run.
std::vector<RaceConfig> race_matrix(const Context& ctx) {
  std::vector<RaceConfig> out;
  const auto sizes = ctx.param_sizes("block-sizes");
  const auto depths = ctx.param_sizes("queue-depths");
  const auto mutators = ctx.param_sizes("mutators");
  for (const auto& engine : ctx.param_list("engines")) {
    for (uint64_t bs : sizes) {
      for (uint64_t m : mutators) {
        for (uint64_t qd : depths) {
          if (engine == "pwrite" && qd != depths.front()) continue;
          out.push_back({engine, bs, engine == "pwrite" ? 1u : static_cast<unsigned>(qd), static_cast<unsigned>(m)});
        }
      }
    }
  }
  return out;
}

void prefill(int fd, uint64_t file_size, uint64_t seed) {
  const uint64_t chunk = std::min<uint64_t>(file_size, 1 << 20);
  AlignedBuffer buf(chunk);
  for (uint64_t off = 0; off < file_size; off += chunk) {
    const uint64_t n = std::min(chunk, file_size - off);
    fill_pattern(buf.data(), n, off, seed);
    // A short write is retried: the retry says why (ENOSPC), a stale errno would not.
    for (uint64_t done = 0; done < n;) {
      const ssize_t w = ::pwrite(fd, buf.data() + done, n - done, static_cast<off_t>(off + done));
      if (w <= 0) throw_errno("prefill pwrite", w < 0 ? errno : EIO);
      done += static_cast<uint64_t>(w);
    }
  }
  if (::fsync(fd) != 0) throw_errno("prefill fsync");
}

namespace {
// Rewrites one word in every 64-byte line of every buffer, sweep after sweep,
// so that any block the kernel is copying or DMA-ing changes under it.
void mutate(const std::vector<AlignedBuffer>& bufs, const std::atomic<bool>& stop, std::atomic<uint64_t>& sweeps,
            unsigned id) {
  uint64_t v = (uint64_t{id} << 56) | 1;
  while (!stop.load(std::memory_order_relaxed)) {
    for (const auto& b : bufs) {
      auto* w = reinterpret_cast<volatile uint64_t*>(b.data());
      const size_t n = b.size() / 8;
      for (size_t i = id % 8; i < n; i += 8) w[i] = v ^ i;
    }
    ++v;
    sweeps.fetch_add(1, std::memory_order_relaxed);
  }
}
}  // namespace

RaceResult race_writes(Context& ctx, const std::string& path_key, int fd, uint64_t file_size, const RaceConfig& cfg,
                       uint64_t seed) {
  RaceResult r;
  const uint64_t bs = cfg.block_size;
  const unsigned nbuf = cfg.engine == "uring" ? cfg.queue_depth : 1;
  std::vector<AlignedBuffer> bufs;
  for (unsigned i = 0; i < nbuf; ++i) {
    bufs.emplace_back(bs);
    fill_pattern(bufs.back().data(), bs, i * bs, seed);
  }
  const std::string name = cfg.name();
  auto check = [&](uint64_t off, int64_t res) {
    ++r.writes;
    if (!check_write(ctx, fmt::format("{} write at {:#x}", name, off), res, bs, off)) ++r.bad_writes;
  };
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> sweeps{0};
  std::vector<std::jthread> threads;
  for (unsigned t = 0; t < cfg.mutators; ++t)
    threads.emplace_back([&, t] { mutate(bufs, stop, sweeps, t); });
  // Let the mutators get going before the first write.
  while (sweeps.load() == 0) std::this_thread::yield();

  const auto t0 = std::chrono::steady_clock::now();
  r.path = PathReport{.op = name, .write = true};
  ctx.trace_start({fd});
  const uint64_t blocks = file_size / bs;
  if (cfg.engine == "pwrite") {
    for (uint64_t i = 0; i < blocks; ++i) {
      ssize_t n = ::pwrite(fd, bufs[0].data(), bs, static_cast<off_t>(i * bs));
      check(i * bs, n < 0 ? -errno : n);
    }
  } else {
    Ring ring(nbuf);
    for (uint64_t next = 0; next < blocks;) {
      const unsigned batch = static_cast<unsigned>(std::min<uint64_t>(nbuf, blocks - next));
      for (unsigned k = 0; k < batch; ++k, ++next) {
        io_uring_sqe* s = io_uring_get_sqe(ring.get());
        io_uring_prep_write(s, fd, bufs[k].data(), bs, next * bs);
        s->user_data = next * bs;
      }
      ring.submit_and_reap(batch, [&](uint64_t off, int res) { check(off, res); });
    }
  }
  ctx.trace_stop(&r.path, fd, 0, file_size);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stop = true;
  threads.clear();  // joins
  r.mutations = sweeps.load();
  judge_path(&r.path);
  ctx.report_path(path_key, r.path);
  return r;
}

}  // namespace dt
