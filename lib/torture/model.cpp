#include "lib/torture/model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "lib/io/pattern.hpp"

namespace dt {

uint8_t segment_byte(const Segment& s, uint64_t p) {
  switch (s.fill) {
    case Fill::Pattern: {
      char c;
      fill_pattern(&c, 1, static_cast<uint64_t>(static_cast<int64_t>(p) - s.shift), s.seed);
      return static_cast<uint8_t>(c);
    }
    case Fill::Bytes:
      return (*s.bytes)[static_cast<size_t>(static_cast<int64_t>(p) - s.shift)];
    default:
      return 0;
  }
}

void FileModel::split_at(uint64_t pos) {
  if (pos == 0 || pos >= size_) return;
  auto it = segs_.upper_bound(pos);
  --it;  // the segment containing pos
  if (it->first == pos) return;
  Segment tail = it->second;  // position-independent fields: the copy is valid from pos on
  it->second.end = pos;
  segs_.emplace(pos, tail);
}

void FileModel::merge_around(uint64_t off, uint64_t end) {
  auto same = [](const Segment& a, const Segment& b) {
    return a.fill == b.fill && (a.fill == Fill::Zero || a.fill == Fill::Undefined ||
                                (a.seed == b.seed && a.shift == b.shift && a.bytes == b.bytes));
  };
  auto it = segs_.upper_bound(off);
  if (it != segs_.begin()) --it;
  if (it != segs_.begin()) --it;
  while (it != segs_.end() && it->first <= end) {
    auto nx = std::next(it);
    if (nx == segs_.end()) break;
    if (it->second.end == nx->first && same(it->second, nx->second)) {
      it->second.end = nx->second.end;
      segs_.erase(nx);
    } else {
      it = nx;
    }
  }
}

void FileModel::put(uint64_t off, uint64_t len, Segment seg) {
  if (len == 0) return;
  const uint64_t end = off + len;
  if (off > size_) extend_to(off);
  split_at(off);
  split_at(end);
  segs_.erase(segs_.lower_bound(off), segs_.lower_bound(end));
  seg.end = end;
  segs_[off] = seg;
  size_ = std::max(size_, end);
  merge_around(off, end);
}

void FileModel::write_pattern(uint64_t off, uint64_t len, uint64_t seed, int64_t shift) {
  put(off, len, Segment{0, Fill::Pattern, seed, shift, nullptr});
}

void FileModel::write_undefined(uint64_t off, uint64_t len) { put(off, len, Segment{0, Fill::Undefined, 0, 0, nullptr}); }

void FileModel::undefine(uint64_t off, uint64_t len) {
  if (off >= size_) return;
  write_undefined(off, std::min(len, size_ - off));
}

void FileModel::zero(uint64_t off, uint64_t len) {
  if (off >= size_) return;
  len = std::min(len, size_ - off);
  put(off, len, Segment{});
}

void FileModel::extend_to(uint64_t new_size) {
  if (new_size <= size_) return;
  Segment z;
  z.end = new_size;
  const uint64_t old = size_;
  segs_[old] = z;
  size_ = new_size;
  merge_around(old, new_size);
}

void FileModel::truncate(uint64_t new_size) {
  if (new_size >= size_) {
    extend_to(new_size);
    return;
  }
  split_at(new_size);
  segs_.erase(segs_.lower_bound(new_size), segs_.end());
  size_ = new_size;
}

void FileModel::copy_from(const FileModel& src, uint64_t src_off, uint64_t dst_off, uint64_t len) {
  if (src_off >= src.size_) return;
  len = std::min(len, src.size_ - src_off);
  // Collect first: src may be *this.
  std::vector<std::pair<uint64_t, Segment>> pieces;
  auto it = src.segs_.upper_bound(src_off);
  --it;
  const int64_t delta = static_cast<int64_t>(dst_off) - static_cast<int64_t>(src_off);
  for (; it != src.segs_.end() && it->first < src_off + len; ++it) {
    const uint64_t a = std::max(it->first, src_off), b = std::min(it->second.end, src_off + len);
    Segment s = it->second;
    s.shift += delta;
    pieces.emplace_back(a + delta, s);
    pieces.back().second.end = b + delta;
  }
  for (auto& [start, s] : pieces) put(start, s.end - start, s);
}

void FileModel::expect(uint64_t off, uint64_t len, uint8_t* want, uint8_t* undefined) const {
  std::memset(want, 0, len);
  std::memset(undefined, 0, len);
  if (off >= size_) return;
  auto it = segs_.upper_bound(off);
  --it;
  for (; it != segs_.end() && it->first < off + len; ++it) {
    const uint64_t a = std::max(it->first, off), b = std::min(it->second.end, off + len);
    const Segment& s = it->second;
    uint8_t* w = want + (a - off);
    switch (s.fill) {
      case Fill::Zero:
        break;
      case Fill::Pattern:
        fill_pattern(reinterpret_cast<char*>(w), b - a, static_cast<uint64_t>(static_cast<int64_t>(a) - s.shift),
                     s.seed);
        break;
      case Fill::Bytes:
        std::memcpy(w, s.bytes->data() + (static_cast<int64_t>(a) - s.shift), b - a);
        break;
      case Fill::Undefined:
        std::memset(undefined + (a - off), 1, b - a);
        break;
    }
  }
}

void FileModel::adopt(uint64_t off, uint64_t len, const uint8_t* got) {
  if (off >= size_) return;
  len = std::min(len, size_ - off);
  std::vector<std::pair<uint64_t, uint64_t>> undef;
  auto it = segs_.upper_bound(off);
  --it;
  for (; it != segs_.end() && it->first < off + len; ++it)
    if (it->second.fill == Fill::Undefined)
      undef.emplace_back(std::max(it->first, off), std::min(it->second.end, off + len));
  // Block by block: a block seen as zeros may be a hole from now on (a read
  // that wrote nothing into a mapped hole); any other holds what was seen.
  constexpr uint64_t kBlock = 4096;
  for (auto [a, b] : undef) {
    for (uint64_t p = a; p < b;) {
      const uint64_t e = std::min(b, (p / kBlock + 1) * kBlock);
      const uint8_t* g = got + (p - off);
      if (std::all_of(g, g + (e - p), [](uint8_t c) { return c == 0; })) {
        put(p, e - p, Segment{});
      } else {
        auto bytes = std::make_shared<std::vector<uint8_t>>(g, g + (e - p));
        put(p, e - p, Segment{0, Fill::Bytes, 0, static_cast<int64_t>(p), bytes});
      }
      p = e;
    }
  }
}

std::vector<std::pair<uint64_t, uint64_t>> FileModel::data_ranges() const {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const auto& [start, s] : segs_) {
    if (s.fill == Fill::Zero) continue;
    if (!out.empty() && out.back().second == start)
      out.back().second = s.end;
    else
      out.emplace_back(start, s.end);
  }
  return out;
}

bool FileModel::has_undefined() const {
  for (const auto& [start, s] : segs_)
    if (s.fill == Fill::Undefined) return true;
  return false;
}

std::string FileModel::describe() const {
  std::string out = fmt::format("size {:#x}:", size_);
  for (const auto& [start, s] : segs_) {
    const char* k = s.fill == Fill::Zero ? "zero" : s.fill == Fill::Pattern ? "pattern" : s.fill == Fill::Undefined ? "undefined" : "bytes";
    out += fmt::format(" [{:#x},{:#x}) {}", start, s.end, k);
    if (s.fill == Fill::Pattern) out += fmt::format("({:#x}{:+})", s.seed, s.shift);
  }
  return out;
}

}  // namespace dt
