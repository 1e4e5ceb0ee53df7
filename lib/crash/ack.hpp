// An acknowledgement: the moment a crash workload's system call returned with
// a durability promise (fsync or fdatasync returned, an O_DSYNC/RWF_DSYNC
// write returned, an io_uring DSYNC completion was reaped, a file and its
// name were synced). It names every write it covers, so a crash state can be
// judged sector by sector. The guest reports each one twice: on its second
// serial port (the live channel) and as a marker block written to the logged
// disk right after the call returned, which puts it in the write log after
// every write and flush that made the promise true.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dt {

struct AckedWrite {
  uint64_t wseq = 0;  // issue order, global to the run
  uint64_t off = 0;
  uint64_t len = 0;
};

// `count` writes of `step` bytes each, back to back from `off`, with
// consecutive sequence numbers from `wseq`: how a file filled by thousands of
// small writes fits in one marker block.
struct WriteRun {
  uint64_t wseq = 0;
  uint64_t off = 0;
  uint64_t step = 0;
  uint64_t count = 0;
};

struct Ack {
  uint64_t seq = 0;       // 0 = the filesystem was made; then one per promise
  std::string workload;   // "pwrite-fsync"
  std::string kind;       // "datasum" or "nodatasum"
  std::string file;       // relative to the mount point ("" for seq 0)
  uint32_t file_id = 0;
  std::string promise;    // "fsync returned", "RWF_DSYNC write returned", ...
  bool creates = false;   // the file and its name are durable from here on
  std::vector<AckedWrite> writes;
  std::vector<WriteRun> runs;
  uint64_t size_at_least = 0;  // i_size the promise covers
  uint64_t prealloc_end = 0;   // blocks allocated (fallocate KEEP_SIZE) up to here

  nlohmann::json to_json() const;
  static Ack from_json(const nlohmann::json& j);
};

// The marker block: a fixed magic, then the ack's JSON, NUL-padded to `block`.
std::string encode_marker(const Ack& a, size_t block);
// The ack a marker block holds, or nothing if `data` is not a marker.
std::optional<Ack> decode_marker(const std::string& data);

}  // namespace dt
