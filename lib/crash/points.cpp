#include "lib/crash/points.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "lib/torture/prng.hpp"

namespace dt {
namespace {

uint64_t acked_before(const std::vector<uint64_t>& markers, uint64_t cut) {
  return static_cast<uint64_t>(std::lower_bound(markers.begin(), markers.end(), cut) - markers.begin());
}

// n items of v, evenly spread, the last always included.
std::vector<uint64_t> spread(const std::vector<uint64_t>& v, size_t n) {
  if (n >= v.size()) return v;
  std::vector<uint64_t> out;
  for (size_t i = 0; i < n; ++i) out.push_back(v[(v.size() - 1) - (n - 1 - i) * (v.size() - 1) / std::max<size_t>(n - 1, 1)]);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

std::vector<CrashPoint> choose_crash_points(const WriteLog& wl, const std::vector<uint64_t>& markers,
                                            const PointChoice& choice) {
  std::vector<CrashPoint> out;
  if (markers.empty()) return out;
  std::vector<uint64_t> flushes;
  for (const auto& e : wl.entries)
    if (e.flush() && e.index > markers.front()) flushes.push_back(e.index);
  // The first flush after each marker.
  std::vector<uint64_t> after_ack, others;
  {
    std::set<uint64_t> firsts;
    for (uint64_t m : markers) {
      auto it = std::upper_bound(flushes.begin(), flushes.end(), m);
      if (it != flushes.end()) firsts.insert(*it);
    }
    after_ack.assign(firsts.begin(), firsts.end());
    for (uint64_t f : flushes)
      if (!firsts.count(f)) others.push_back(f);
  }
  std::vector<uint64_t> chosen;
  if (choice.points == 0) {
    chosen = flushes;
  } else {
    chosen = spread(after_ack, choice.points);
    if (chosen.size() < choice.points) {
      auto more = spread(others, choice.points - chosen.size());
      chosen.insert(chosen.end(), more.begin(), more.end());
    }
    std::sort(chosen.begin(), chosen.end());
  }
  Prng rng(choice.seed);
  unsigned id = 0;
  for (uint64_t f : chosen) {
    CrashPoint p;
    p.id = id++;
    p.cut = p.applied_upto = f + 1;
    p.acked = acked_before(markers, p.cut);
    p.what = fmt::format("after flush at log entry {}", f);
    out.push_back(p);
    // The next flush bounds what a disk cache could still have been holding.
    auto next = std::upper_bound(flushes.begin(), flushes.end(), f);
    const uint64_t end = next == flushes.end() ? wl.entries.size() : *next;
    std::vector<uint64_t> pending;
    for (uint64_t i = f + 1; i < end; ++i)
      if (wl.entries[i].write()) pending.push_back(i);
    for (unsigned s = 0; s < choice.subsets && !pending.empty(); ++s) {
      CrashPoint q;
      q.id = id++;
      q.applied_upto = f + 1;
      q.cut = end;
      for (uint64_t i : pending)
        if (rng.chance(1, 2)) q.extra.push_back(i);
      q.acked = acked_before(markers, q.cut);
      q.what = fmt::format("after flush at log entry {}, then {} of the {} writes before entry {}", f, q.extra.size(),
                           pending.size(), end);
      out.push_back(q);
    }
  }
  CrashPoint last;
  last.id = id++;
  last.cut = last.applied_upto = wl.entries.size();
  last.acked = acked_before(markers, last.cut);
  last.what = fmt::format("end of the log ({} entries: the guest's clean shutdown)", wl.entries.size());
  out.push_back(last);
  return out;
}

}  // namespace dt
