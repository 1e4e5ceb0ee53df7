// The in-memory model of every byte of every file and of its i_size. The
// content is kept as segments whose bytes are a function of the absolute
// position (a write's pattern, zeros), so a model of a 4 MiB file costs a
// few hundred bytes and can tell a repro what a range should hold. Bytes
// written from a buffer that was changing during the write are Undefined:
// any value is allowed, but the first value read is adopted and every later
// read must return it again.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace dt {

enum class Fill : uint8_t {
  Zero,       // reads as zeros: a hole, a preallocated range, or zeroed
  Pattern,    // fill_pattern(seed) at (position - shift)
  Undefined,  // written, value unknown until first read
  Bytes,      // observed values (an Undefined range after it was read)
};

struct Segment {
  uint64_t end = 0;  // the map key is the start
  Fill fill = Fill::Zero;
  uint64_t seed = 0;
  int64_t shift = 0;  // Pattern: value at p is pattern byte (p - shift); Bytes: (*bytes)[p - shift]
  std::shared_ptr<const std::vector<uint8_t>> bytes;
};

class FileModel {
 public:
  uint64_t size() const { return size_; }
  // Write of a pattern: bytes [off, off+len) become pattern(seed) at (p - shift).
  void write_pattern(uint64_t off, uint64_t len, uint64_t seed, int64_t shift = 0);
  void write_undefined(uint64_t off, uint64_t len);
  // Like write_undefined, but only inside the size (stores through a mapping
  // never change it).
  void undefine(uint64_t off, uint64_t len);
  // [off, off+len) reads as zeros (punch, zero-range); never changes the size.
  void zero(uint64_t off, uint64_t len);
  // Size change only (fallocate without keep-size extends with zeros).
  void extend_to(uint64_t new_size);
  void truncate(uint64_t new_size);
  // Copies [src_off, src_off+len) of src (clipped to src's size) to dst_off.
  void copy_from(const FileModel& src, uint64_t src_off, uint64_t dst_off, uint64_t len);

  // Fills want[0..len) with the expected bytes of [off, off+len) (zeros past
  // the size) and undefined[i] = 1 where any value is allowed.
  void expect(uint64_t off, uint64_t len, uint8_t* want, uint8_t* undefined) const;
  // Adopts got[] for the Undefined bytes of [off, off+len) (they become Bytes).
  void adopt(uint64_t off, uint64_t len, const uint8_t* got);
  // Ranges (clipped to the size) whose bytes are not Zero: where the file
  // must have data, never a hole.
  std::vector<std::pair<uint64_t, uint64_t>> data_ranges() const;
  bool has_undefined() const;
  // Every segment, for the repro and for tests: [start, end) fill seed shift.
  const std::map<uint64_t, Segment>& segments() const { return segs_; }
  std::string describe() const;

 private:
  void split_at(uint64_t pos);
  void put(uint64_t off, uint64_t len, Segment seg);  // replaces [off, off+len), extends the size
  void merge_around(uint64_t off, uint64_t end);

  uint64_t size_ = 0;
  std::map<uint64_t, Segment> segs_;  // covers [0, size_) exactly
};

// The expected byte at position p of a segment.
uint8_t segment_byte(const Segment& s, uint64_t p);

}  // namespace dt
