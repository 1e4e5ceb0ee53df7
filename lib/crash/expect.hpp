// What a crash state must show, derived from the acks before its crash point
// only: a file whose creation was acknowledged exists; every sector an
// acknowledged write covered holds that write or a later one (which may or
// may not have landed), never an older one, zeroes or garbage; i_size covers
// every acknowledged size; acknowledged preallocation is still allocated.
// Sectors no ack covers may hold zeroes or any intact write of the run,
// never garbage. Pure: the guest feeds it what it read back.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lib/crash/ack.hpp"
#include "lib/crash/stamp.hpp"

namespace dt {

struct SectorPromise {
  uint64_t wseq = 0;
  uint64_t ack_seq = 0;
};

struct FileExpectation {
  std::string file;
  uint32_t file_id = 0;
  std::string workload, kind;
  uint64_t created_by = 0;  // ack seq; 0 = not promised to exist
  bool must_exist = false;
  uint64_t size_at_least = 0, size_ack = 0;
  uint64_t prealloc_end = 0, prealloc_ack = 0;
  std::map<uint64_t, SectorPromise> sectors;  // sector offset -> newest acknowledged write
  std::map<uint64_t, std::string> promises;   // ack seq -> its promise, for messages
};

// Files keyed by their path, from the acks in seq order.
std::map<std::string, FileExpectation> expectations(const std::vector<Ack>& acked);

// "write #12 was acknowledged durable by ack 9 (fsync returned)".
std::string promise_text(const FileExpectation& f, const SectorPromise& p);

// One sector read back: "" if allowed, else what is wrong.
std::string judge_sector(const FileExpectation& f, uint64_t off, const StampRead& got);

// A run of bad sectors, coalesced for the report.
struct Violation {
  std::string file;
  uint64_t off = 0, len = 0;
  std::string what;
};

// Collects judged sectors of one file into ranges of the same complaint.
class ViolationList {
 public:
  void add(const std::string& file, uint64_t off, uint64_t len, const std::string& what);
  const std::vector<Violation>& all() const { return v_; }
  std::vector<std::string> lines(size_t max) const;

 private:
  std::vector<Violation> v_;
};

}  // namespace dt
