#include "lib/crash/expect.hpp"

#include <fmt/format.h>

namespace dt {

std::map<std::string, FileExpectation> expectations(const std::vector<Ack>& acked) {
  std::map<std::string, FileExpectation> files;
  for (const auto& a : acked) {
    if (a.file.empty()) continue;
    FileExpectation& f = files[a.file];
    f.file = a.file;
    f.file_id = a.file_id;
    f.workload = a.workload;
    f.kind = a.kind;
    f.promises[a.seq] = a.promise;
    if (a.creates && !f.must_exist) {
      f.must_exist = true;
      f.created_by = a.seq;
    }
    if (a.size_at_least > f.size_at_least) {
      f.size_at_least = a.size_at_least;
      f.size_ack = a.seq;
    }
    if (a.prealloc_end > f.prealloc_end) {
      f.prealloc_end = a.prealloc_end;
      f.prealloc_ack = a.seq;
    }
    auto promise = [&](const AckedWrite& w) {
      for (uint64_t s = w.off; s < w.off + w.len; s += kStampSector) {
        auto& p = f.sectors[s];
        // Writes to one sector are issued one after another, so the newest
        // acknowledged one is the one with the highest sequence number.
        if (w.wseq >= p.wseq) p = {w.wseq, a.seq};
      }
    };
    for (const auto& w : a.writes) promise(w);
    for (const auto& r : a.runs)
      for (uint64_t i = 0; i < r.count; ++i) promise({r.wseq + i, r.off + i * r.step, r.step});
  }
  return files;
}

std::string promise_text(const FileExpectation& f, const SectorPromise& p) {
  auto pr = f.promises.find(p.ack_seq);
  return fmt::format("write #{} was acknowledged durable by ack {} ({})", p.wseq, p.ack_seq,
                     pr == f.promises.end() ? "?" : pr->second);
}

std::string judge_sector(const FileExpectation& f, uint64_t off, const StampRead& got) {
  if (got.kind == StampRead::Garbage) return "garbage (" + got.why + ")";
  auto it = f.sectors.find(off);
  if (it == f.sectors.end()) return "";
  const SectorPromise& p = it->second;
  auto promise = [&] { return promise_text(f, p); };
  if (got.kind == StampRead::Zero) return "lost: zeroes, but " + promise();
  if (got.wseq < p.wseq) return fmt::format("lost: holds older write #{}, but {}", got.wseq, promise());
  return "";
}

void ViolationList::add(const std::string& file, uint64_t off, uint64_t len, const std::string& what) {
  if (!v_.empty()) {
    Violation& last = v_.back();
    if (last.file == file && last.what == what && last.off + last.len == off) {
      last.len += len;
      return;
    }
  }
  v_.push_back({file, off, len, what});
}

std::vector<std::string> ViolationList::lines(size_t max) const {
  std::vector<std::string> out;
  for (const auto& v : v_) {
    if (out.size() == max) {
      out.push_back(fmt::format("... and {} more", v_.size() - max));
      break;
    }
    out.push_back(fmt::format("{} [{:#x}, +{}): {}", v.file, v.off, v.len, v.what));
  }
  return out;
}

}  // namespace dt
