// What this process created on the machine (mounts, loop devices, images,
// directories, tracefs instances), recorded in a small JSON file under a
// fixed, root-only state directory while it exists. A run killed with SIGKILL cannot
// clean up; the next run (or `diotorture clean`) reads the records of runs
// whose process is gone and removes exactly what they list
// (lib/btrfs/reclaim). Each item is recorded before it is created, so a kill
// in between leaves at worst a record of something that does not exist.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dt {

// Where the records live: $DIOTORTURE_STATE_DIR, else /var/lib/diotorture
// (persistent, so images left by a run the kernel crashed under are still
// reclaimed after the reboot; root-only, unlike /var/tmp).
std::filesystem::path state_dir();

// Why a directory with this lstat() result cannot hold records that root
// acts on ("" if it can): a record there could name anything, so it must be
// a real directory (not a symlink) owned by us and writable by nobody else.
std::string why_untrusted_dir(const struct stat& st, uid_t euid);

// The state directory, opened (made 0700 first if missing) and verified
// through its descriptor, so a directory swapped in after the check is never
// used. Throws SetupError naming the problem and the fix. Cached per path.
int state_dir_fd();

// A record file name: "<pid>.<start time>.json" (both decimal).
bool is_record_name(const std::string& name);

// This diotorture process, as "<pid>.<start time>": a pid alone may be
// reused by another process after ours died. Captured before main, so forked
// case children report their parent, the run.
const std::string& owner_token();
// True while the process named by a token is the same one that is running.
bool owner_alive(const std::string& token);

struct OwnedItem {
  std::string kind;    // "mount", "loop", "image", "dir", "workdir", "tracefs"
  std::string path;    // mount point, /dev/loopN, file, directory, instance-name prefix
                       // (a "dir" is removed only when empty, a "workdir" with its contents)
  std::string device;  // mount: its source device; loop: its backing image
  uint64_t mount_id = 0;  // mount: statx STATX_MNT_ID, 0 if not known yet
  nlohmann::json to_json() const;
  static OwnedItem from_json(const nlohmann::json& j);
};

// What of a record may be reclaimed: check_record() keeps an item only when
// the record itself can say it is the tool's: a known kind; an image, loop
// backing file or mount point inside a directory the same record named first
// whose name the tool makes ("diotorture[-what].XXXXXX"); a loop device named
// /dev/loopN; a tracefs prefix of this very owner. (The machine must then
// still show each item as ours: lib/btrfs/reclaim checks that.)
struct RecordCheck {
  std::string owner;                 // the record's owner token
  std::vector<OwnedItem> items;      // reclaimable, in record order
  std::vector<std::string> refused;  // "image /x: not inside a directory the record made first"
  std::vector<bool> needs_label;     // per item: a mount only the filesystem's label can claim
};
// Pure. Returns why the whole record is refused ("" if it is not); `stem` is
// the file name without ".json".
std::string check_record(const nlohmann::json& j, const std::string& stem, RecordCheck* out);

// A directory name the tool makes with mkdtemp ("diotorture.ab12Cd",
// "diotorture-vm.ab12Cd").
bool is_tool_dir_name(const std::string& name);

// This process's record. add() rewrites the file (atomically) before the
// caller creates the thing; remove() after it is gone. The file goes away
// with the last item.
class OwnedRecord {
 public:
  static OwnedRecord& self();
  // Returns a handle for update()/remove().
  uint64_t add(const OwnedItem& item);
  void update(uint64_t handle, const OwnedItem& item);
  void remove(uint64_t handle);

 private:
  void flush();
  std::vector<std::pair<uint64_t, OwnedItem>> items_;
  uint64_t next_ = 1;
};

// One recorded item, removed from the record when this object goes (after
// the owner has removed the thing itself).
class Owned {
 public:
  Owned() = default;
  explicit Owned(const OwnedItem& item) : handle_(OwnedRecord::self().add(item)) {}
  Owned(Owned&& o) noexcept : handle_(o.handle_) { o.handle_ = 0; }
  Owned& operator=(Owned&& o) noexcept {
    if (this != &o) {
      release();
      handle_ = o.handle_;
      o.handle_ = 0;
    }
    return *this;
  }
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() { release(); }
  void update(const OwnedItem& item) {
    if (handle_) OwnedRecord::self().update(handle_, item);
  }
  void release() {
    if (handle_) OwnedRecord::self().remove(handle_);
    handle_ = 0;
  }

 private:
  uint64_t handle_ = 0;
};

// The mount ID of whatever is mounted at `path` (statx STATX_MNT_ID), 0 if unknown.
uint64_t mount_id_of(const std::filesystem::path& path);

}  // namespace dt
