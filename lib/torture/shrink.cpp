#include "lib/torture/shrink.hpp"

#include <algorithm>

namespace dt {
using Clock = std::chrono::steady_clock;

std::vector<size_t> ddmin(size_t n, const std::function<bool(const std::vector<size_t>&)>& fails,
                          const std::function<bool()>& out_of_time) {
  std::vector<size_t> cur(n);
  for (size_t i = 0; i < n; ++i) cur[i] = i;
  size_t parts = 2;
  while (cur.size() >= 2 && !out_of_time()) {
    const size_t chunk = (cur.size() + parts - 1) / parts;
    bool reduced = false;
    // Each subset alone, then each complement.
    for (int pass = 0; pass < 2 && !reduced; ++pass) {
      for (size_t start = 0; start < cur.size() && !out_of_time(); start += chunk) {
        const size_t end = std::min(cur.size(), start + chunk);
        std::vector<size_t> cand;
        if (pass == 0) {
          cand.assign(cur.begin() + static_cast<long>(start), cur.begin() + static_cast<long>(end));
        } else {
          cand.assign(cur.begin(), cur.begin() + static_cast<long>(start));
          cand.insert(cand.end(), cur.begin() + static_cast<long>(end), cur.end());
        }
        if (cand.empty() || cand.size() == cur.size()) continue;
        if (fails(cand)) {
          cur = std::move(cand);
          parts = pass == 0 ? 2 : std::max<size_t>(parts - 1, 2);
          reduced = true;
          break;
        }
      }
    }
    if (!reduced) {
      if (parts >= cur.size()) break;
      parts = std::min(cur.size(), parts * 2);
    }
  }
  return cur;
}

namespace {

OpLog with_steps(const OpLog& log, const std::vector<Step>& steps) {
  OpLog out;
  out.header = log.header;
  out.steps = steps;
  return out;
}

// Drops the steps after the failing one.
void trim(OpLog* log, uint64_t fail_seq) {
  if (!fail_seq) return;
  std::erase_if(log->steps, [&](const Step& s) { return s.seq > fail_seq; });
}

}  // namespace

OpLog shrink_oplog(const OpLog& log, const std::function<bool(const OpLog&, uint64_t*)>& fails,
                   Clock::time_point deadline, ShrinkStats* stats) {
  const auto t0 = Clock::now();
  auto out_of_time = [&] {
    if (Clock::now() < deadline) return false;
    stats->out_of_time = true;
    return true;
  };
  auto judge = [&](OpLog cand, OpLog* best) {
    if (out_of_time()) return false;
    ++stats->candidates;
    uint64_t fail_seq = 0;
    if (!fails(cand, &fail_seq)) return false;
    ++stats->failing;
    trim(&cand, fail_seq);
    *best = std::move(cand);
    return true;
  };
  OpLog best = log;
  // Coarse cuts first: every event, then every step of one file.
  {
    std::vector<Step> no_events;
    for (const Step& s : best.steps)
      if (!s.is_event()) no_events.push_back(s);
    if (no_events.size() < best.steps.size()) judge(with_steps(best, no_events), &best);
  }
  for (unsigned f = 0; f < best.header.files.size() && !out_of_time(); ++f) {
    std::vector<Step> kept;
    for (const Step& s : best.steps)
      if (s.file != f && s.src_file != f) kept.push_back(s);
    if (!kept.empty() && kept.size() < best.steps.size()) judge(with_steps(best, kept), &best);
  }
  // ddmin over what is left.
  {
    const OpLog base = best;
    auto idx = ddmin(
        base.steps.size(),
        [&](const std::vector<size_t>& keep) {
          std::vector<Step> steps;
          for (size_t i : keep) steps.push_back(base.steps[i]);
          OpLog tmp = best;
          if (!judge(with_steps(base, steps), &tmp)) return false;
          best = tmp;
          return true;
        },
        out_of_time);
    (void)idx;  // `best` already holds the smallest failing candidate (trimmed)
  }
  // Then the sizes and shapes of the steps that remain.
  for (size_t i = 0; i < best.steps.size() && !out_of_time(); ++i) {
    auto attempt = [&](auto change) {
      if (i >= best.steps.size()) return false;
      OpLog cand = best;
      if (!change(cand.steps[i])) return false;
      fit_hold_page(cand.steps[i]);
      return judge(cand, &best);
    };
    attempt([](Step& s) { return !s.is_event() && s.qd > 1 ? (s.qd = 1, true) : false; });
    attempt([](Step& s) { return !s.is_event() && s.iovs > 1 ? (s.iovs = 1, true) : false; });
    attempt([](Step& s) { return s.flags ? (s.flags = 0, true) : false; });
    attempt([](Step& s) { return s.buf_misalign ? (s.buf_misalign = 0, true) : false; });
    attempt([](Step& s) {  // a fault schedule that may not matter: answered at once
      return s.fault != Fault::None && s.fault != Fault::AtOnce && s.inject_page < 0 ? (s.fault = Fault::AtOnce, true) : false;
    });
    for (int k = 0; k < 12; ++k)
      if (!attempt([](Step& s) {
            if (s.is_event() || s.len <= 4096 || s.op == "truncate") return false;
            s.len = std::max<uint64_t>(4096, s.len / 2 / 4096 * 4096);
            return true;
          }))
        break;
  }
  stats->seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return best;
}

}  // namespace dt
