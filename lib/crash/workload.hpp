// The guest half of `diotorture crash`, first boot: durability workloads on a
// disk the host logs write by write. Each workload is a named scenario (an
// ops table entry with its upstream fix and fstests test as data) that issues
// direct writes with stamped data (stamp.hpp) and acknowledges every promise
// the kernel makes (ack.hpp) the moment the system call returns.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <memory>

#include "lib/crash/ack.hpp"
#include "lib/io/iopath.hpp"
#include "lib/sys/sys.hpp"
#include "lib/torture/prng.hpp"

namespace dt {

// Sends each ack to the host twice: as a marker block written with O_DIRECT
// to the logged disk beyond the filesystem's end (its place in the write log
// is after every write and flush that made the promise true), then as a JSON
// line on a serial port, drained before the next operation.
class Acker {
 public:
  Acker(const std::string& device, uint64_t marker_start, uint64_t marker_bytes, const std::string& serial);
  // Assigns ack.seq and reports it.
  void ack(Ack a);
  uint64_t acks() const { return next_seq_; }
  uint64_t next_wseq() { return next_wseq_++; }

 private:
  Fd dev_, serial_;
  uint64_t marker_start_, marker_slots_;
  uint64_t next_seq_ = 0, next_wseq_ = 1;
};

class Scenario;

enum WorkloadCaps : unsigned {
  kNeedsUring = 1,
  kSelfTest = 2,      // only when asked for by name; its promises are false on purpose
  kDatasumOnly = 4,   // needs copy-on-write files
  kNeedsFlakey = 8,   // injects write errors: the filesystem goes on a dm-flakey device
};

struct CrashWorkload {
  const char* name;
  const char* description;
  const char* fixed_by;  // "hash subject" of the upstream fix whose bug this would catch, or ""
  const char* fstests;   // the fstests test of the same scenario, or ""
  unsigned caps;
  void (*run)(Scenario& s);
};

const std::vector<CrashWorkload>& crash_workloads();
const CrashWorkload* find_crash_workload(const std::string& name);
// "all" = every workload except self-tests; else a comma list of names.
// Throws SetupError naming an unknown one (with a did-you-mean).
std::vector<const CrashWorkload*> select_crash_workloads(const std::string& list);

struct WorkloadTally {
  std::string workload, kind;
  unsigned writes = 0, acks = 0, eagain_retries = 0, short_writes = 0;
  unsigned injected_eio = 0, injected_not_failed = 0;  // writes under injected errors: failed / not failed
  std::string path;         // the path the kernel took for the writes: "direct by kprobe"
  std::string path_detail;  // the evidence's numbers
  std::string not_run;  // why it did not run (no io_uring, ...)
  std::string error;    // an unexpected error stopped it
  nlohmann::json to_json() const;
};

// One workload on one kind of file ("datasum": copy-on-write with checksums,
// "nodatasum": a NOCOW directory) in its own directory under the mount.
class Scenario {
 public:
  struct File {
    std::string rel;  // path relative to the mount point
    uint32_t id = 0;
    Fd fd;
  };
  Scenario(Acker& acker, const std::filesystem::path& mnt, const CrashWorkload& w, const std::string& kind,
           unsigned ops, uint64_t seed, uint32_t* next_file_id, WorkloadTally* tally);

  // A new empty file opened O_DIRECT | extra_flags; its name is made durable
  // (fsync of file and directory) and acknowledged before it is returned.
  // With sync_name false nothing is synced or acknowledged: the inode keeps
  // btrfs' "needs full sync" flag until its first fsync.
  File create(int extra_flags = 0, bool sync_name = true);
  // One O_DIRECT pwritev2 of stamped data; a short write counts for what it
  // wrote. Throws on an error.
  AckedWrite pwrite(File& f, uint64_t off, uint64_t len, int rwf = 0);
  // Stamps `len` bytes at `off` as a new write into buf (for io_uring).
  AckedWrite stamp(File& f, char* buf, uint64_t off, uint64_t len);
  // `count` back-to-back O_DIRECT writes of `step` bytes from `off`.
  WriteRun fill(File& f, uint64_t off, uint64_t step, uint64_t count);
  void ack(const File& f, const std::string& promise, std::vector<AckedWrite> writes, uint64_t size_at_least = 0,
           uint64_t prealloc_end = 0, std::vector<WriteRun> runs = {}, bool creates = false);

  // A random write: 4 KiB to 128 KiB, 4 KiB aligned, inside the file's 1 MiB region.
  std::pair<uint64_t, uint64_t> random_write();
  unsigned ops() const { return ops_; }
  Prng& rng() { return rng_; }
  WorkloadTally& tally() { return *tally_; }
  // Makes every write to the filesystem's device fail with EIO (true) or
  // pass again (false); null when the filesystem is not on a dm-flakey device.
  std::function<void(bool)> write_errors;
  // Starts the path evidence at the first file; stops and judges it.
  void start_path(const File& f);
  void finish_path();

 private:
  Acker& acker_;
  std::filesystem::path dir_;
  std::string rel_dir_;
  const CrashWorkload& w_;
  std::string kind_;
  unsigned ops_;
  Prng rng_;
  uint32_t* next_file_id_;
  WorkloadTally* tally_;
  std::unique_ptr<PathTracer> tracer_;
  Fd traced_;  // the first file, kept open for the tracer's residency check
};

struct RecordOptions {
  std::string device;        // the logged disk
  uint64_t fs_bytes = 0;     // mkfs -b; markers go after it
  std::string serial;        // the ack port (/dev/ttyS1)
  std::string workloads = "all";
  std::vector<std::string> kinds = {"datasum", "nodatasum"};
  unsigned ops = 12;
  uint64_t seed = 1;
  std::filesystem::path mnt = "/mnt/crash";
  // Put the filesystem on a dm-flakey device over the disk (linear until a
  // workload asks for write errors); needs dm_flakey and dmsetup.
  bool flakey = false;
};

// mkfs, mount, ack 0, every workload on every kind, unmount. The tallies say
// what ran; throws SetupError when the disk cannot be prepared.
std::vector<WorkloadTally> record_workloads(const RecordOptions& o, std::ostream& out);

}  // namespace dt
