// Thin RAII wrappers over the system calls every part of diotorture uses.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

namespace dt {

// A problem with the user's input or the machine's set-up: printed as one
// line, exit status 2. The message names the problem and the fix.
class SetupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The user asked us to stop (SIGINT/SIGTERM/SIGHUP); unwinding undoes provisioning.
class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted") {}
};

// "<what>: <strerror(errno)>" as a std::system_error.
[[noreturn]] void throw_errno(const std::string& what);
[[noreturn]] void throw_errno(const std::string& what, int err);

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() { int f = fd_; fd_ = -1; return f; }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// open(2) that throws with the path in the message.
Fd open_or_throw(const std::filesystem::path& p, int flags, mode_t mode = 0644);

// An mmap(2) region, unmapped on destruction.
class Mapping {
 public:
  Mapping() = default;
  Mapping(void* addr, size_t len) : addr_(static_cast<char*>(addr)), len_(len) {}
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  Mapping(Mapping&& o) noexcept : addr_(o.addr_), len_(o.len_) { o.addr_ = nullptr; o.len_ = 0; }
  Mapping& operator=(Mapping&& o) noexcept;
  ~Mapping();
  char* data() const { return addr_; }
  size_t size() const { return len_; }

  // Fresh anonymous private memory: no page is populated until touched.
  static Mapping anonymous(size_t len);
  static Mapping file(int fd, size_t len, off_t off, int prot, int flags);

 private:
  char* addr_ = nullptr;
  size_t len_ = 0;
};

// An aligned heap buffer suitable for O_DIRECT.
class AlignedBuffer {
 public:
  explicit AlignedBuffer(size_t len, size_t align = 4096);
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  AlignedBuffer(AlignedBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), len_(std::exchange(o.len_, 0)) {}
  ~AlignedBuffer();
  uint8_t* bytes() const { return reinterpret_cast<uint8_t*>(p_); }
  char* data() const { return p_; }
  size_t size() const { return len_; }

 private:
  char* p_ = nullptr;
  size_t len_ = 0;
};

void write_all(int fd, std::string_view data);
std::string read_file(const std::filesystem::path& p);
// Reads the whole file, or returns "" when it cannot be read (for /proc files
// of tasks that may vanish).
std::string read_file_or_empty(const std::filesystem::path& p);
// Single-line sysfs/procfs write.
void write_proc(const std::filesystem::path& p, std::string_view value);

// temp + fsync + rename + fsync(dir): a reader sees the old file or the new
// one, never a torn one, even after a crash of the tool or the kernel.
void write_file_atomic(const std::filesystem::path& p, std::string_view data);

// Runs argv to completion (stdin /dev/null), returns exit status; stdout and
// stderr are captured into *out. Honours pending interrupts.
int run_command(const std::vector<std::string>& argv, std::string* out);

size_t page_size();
std::string kernel_release();
std::string trim(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);

// Parses "4096", "4k", "64K", "1m", "2G", "1T" (binary units) and hex "0x1000".
bool parse_size(std::string_view s, uint64_t* out);
std::string format_size(uint64_t bytes);

// Why `p` cannot be written ("" if it can): for a file, its directory must be
// a writable directory; for a directory, it or its nearest existing parent.
// For option checks, so "--results /ro/x" is refused before anything runs.
std::string why_not_writable(const std::filesystem::path& p, bool directory);

// A directory of our own under $TMPDIR (else /var/tmp), removed with
// everything in it when this object goes, unless keep() was called.
// It is recorded as owned ("workdir", lib/sys/owned), so a run killed with
// SIGKILL leaves nothing behind after the next run or `diotorture clean`:
// vm's and crash's hold disk images and write logs of real size.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);  // "diotorture-vm"
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  const std::filesystem::path& path() const { return dir_; }
  void keep();  // the user asked for it: neither removed nor reclaimed

 private:
  std::filesystem::path dir_;
  bool keep_ = false;
  uint64_t record_ = 0;  // OwnedRecord handle
};

// A new sparse file of `size` bytes (an existing one is truncated).
void make_sparse_file(const std::filesystem::path& p, uint64_t size);

// The absolute path of a program found on $PATH, as `command -v` gives it;
// "" if there is none.
std::string program_path(const std::string& name);
// gethostname(2), for the records of a run.
std::string host_name();

// The inode number of an open file.
uint64_t inode_of(int fd);

// The fields of /proc/PID/stat (or /proc/PID/task/TID/stat) this project
// reads. The name sits in parentheses and may itself hold spaces and ')',
// so the fields after it are counted from the last ')'.
struct TaskStat {
  std::string comm;
  char state = '?';         // R, S, D, Z, ...
  uint64_t cpu_ticks = 0;   // utime + stime, in clock ticks
  std::string start_time;   // clock ticks since boot, as text: with the pid, who this is
};
// Pure: false if the text is not a stat line (the task is gone: empty).
bool parse_task_stat(const std::string& text, TaskStat* out);
// Reads and parses; false if the task is gone.
bool read_task_stat(const std::filesystem::path& stat_file, TaskStat* out);

}  // namespace dt
