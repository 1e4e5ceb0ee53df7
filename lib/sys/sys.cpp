#include "lib/sys/sys.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

#include "lib/sys/interrupt.hpp"
#include "lib/sys/owned.hpp"
#include "lib/sys/write_at.hpp"

namespace dt {

void throw_errno(const std::string& what) { throw_errno(what, errno); }
void throw_errno(const std::string& what, int err) {
  throw std::system_error(err, std::generic_category(), what);
}

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) reset(o.release());
  return *this;
}

void Fd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Fd open_or_throw(const std::filesystem::path& p, int flags, mode_t mode) {
  int fd = ::open(p.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) throw_errno("open " + p.string());
  return Fd(fd);
}

Mapping& Mapping::operator=(Mapping&& o) noexcept {
  if (this != &o) {
    if (addr_) ::munmap(addr_, len_);
    addr_ = o.addr_;
    len_ = o.len_;
    o.addr_ = nullptr;
    o.len_ = 0;
  }
  return *this;
}

Mapping::~Mapping() {
  if (addr_) ::munmap(addr_, len_);
}

Mapping Mapping::anonymous(size_t len) {
  void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw_errno("mmap anonymous");
  return Mapping(p, len);
}

Mapping Mapping::file(int fd, size_t len, off_t off, int prot, int flags) {
  void* p = ::mmap(nullptr, len, prot, flags, fd, off);
  if (p == MAP_FAILED) throw_errno("mmap file");
  return Mapping(p, len);
}

AlignedBuffer::AlignedBuffer(size_t len, size_t align) : len_(len) {
  void* p = nullptr;
  if (int rc = ::posix_memalign(&p, align, len ? len : align); rc != 0) throw_errno("posix_memalign", rc);
  p_ = static_cast<char*>(p);
}

AlignedBuffer::~AlignedBuffer() { std::free(p_); }

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

std::string read_file(const std::filesystem::path& p) {
  Fd fd = open_or_throw(p, O_RDONLY);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("read " + p.string());
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string read_file_or_empty(const std::filesystem::path& p) {
  try {
    return read_file(p);
  } catch (const std::exception&) {
    return {};
  }
}

void write_proc(const std::filesystem::path& p, std::string_view value) {
  Fd fd = open_or_throw(p, O_WRONLY | O_TRUNC);
  if (::write(fd.get(), value.data(), value.size()) < 0) throw_errno("write " + p.string());
}

namespace {
// A system_error (callers tell ENOSPC by its code) whose message is the
// whole line: the file, the error, what to do.
class WriteError : public std::system_error {
 public:
  WriteError(int err, std::string msg) : std::system_error(err, std::generic_category()), msg_(std::move(msg)) {}
  const char* what() const noexcept override { return msg_.c_str(); }

 private:
  std::string msg_;
};
}  // namespace

void write_file_atomic(const std::filesystem::path& p, std::string_view data) {
  const auto dir = p.parent_path().empty() ? std::filesystem::path(".") : p.parent_path();
  Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd)
    throw WriteError(errno, fmt::format("cannot write {}: {} (open {}); give a directory that exists and is writable",
                                        p.string(), std::strerror(errno), dir.string()));
  write_file_atomic_at(dfd.get(), p.filename().string(), data, 0644, p.string());
}

void write_file_atomic_at(int dirfd, const std::string& name, std::string_view data, mode_t mode,
                          const std::string& shown_in) {
  const std::string shown = shown_in.empty() ? name : shown_in;
  // What to do about it, for the errors a user can fix.
  auto fail = [&](const std::string& what, int err) {
    std::string fix;
    if (err == ENOSPC || err == EDQUOT) fix = "; free space on that filesystem or write the results elsewhere";
    else if (err == EROFS) fix = "; that filesystem is read-only: write the results elsewhere";
    else if (err == EACCES || err == EPERM) fix = "; give a directory this user can write";
    throw WriteError(err, fmt::format("cannot write {}: {} ({}){}", shown, std::strerror(err), what, fix));
  };
  static std::atomic<uint64_t> seq{0};
  std::string tmp;
  Fd fd;
  for (int attempt = 0; !fd; ++attempt) {
    tmp = fmt::format(".{}.{}.{:x}{:x}.tmp", name, ::getpid(), seq++,
                      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
    fd.reset(::openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!fd && (errno != EEXIST || attempt > 100)) fail("create " + tmp, errno);
  }
  try {
    try {
      write_all(fd.get(), data);
    } catch (const std::system_error& e) {
      fail("write", e.code().value());
    }
    if (::fchmod(fd.get(), mode) != 0) fail("chmod", errno);  // the umask must not narrow a results file
    if (::fsync(fd.get()) != 0) fail("fsync", errno);
    fd.reset();
    if (::renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) != 0) fail("rename", errno);
  } catch (...) {
    ::unlinkat(dirfd, tmp.c_str(), 0);
    throw;
  }
  ::fsync(dirfd);
}

int run_command(const std::vector<std::string>& argv, std::string* out) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) throw_errno("pipe");
  pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    unblock_interrupts_in_child();
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::string msg = "exec " + argv[0] + ": " + std::strerror(errno) + "\n";
    (void)!::write(1, msg.data(), msg.size());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  std::string captured;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(pipefd[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    captured.append(buf, static_cast<size_t>(n));
  }
  ::close(pipefd[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (out) *out = captured;
  throw_if_interrupted();
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

size_t page_size() {
  static const size_t ps = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  return ps;
}

std::string kernel_release() {
  struct utsname u {};
  ::uname(&u);
  return u.release;
}

std::string trim(std::string_view s) {
  const char* ws = " \t\r\n";
  auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(ws);
  return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    out.emplace_back(trim(s.substr(start, pos - start)));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

bool parse_size(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  size_t i = 0;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    // Offsets are printed in hex, so they can be pasted back as parameters.
    for (i = 2; i < s.size(); ++i) {
      const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
      const int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
      if (d < 0 || v > (UINT64_MAX >> 4)) return false;
      v = (v << 4) | static_cast<uint64_t>(d);
    }
    *out = v;
    return true;
  }
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    if (v > (UINT64_MAX - 9) / 10) return false;
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
  }
  if (i == 0) return false;
  std::string_view suffix = s.substr(i);
  int shift = 0;
  if (suffix.empty()) shift = 0;
  else if (suffix == "k" || suffix == "K" || suffix == "KiB") shift = 10;
  else if (suffix == "m" || suffix == "M" || suffix == "MiB") shift = 20;
  else if (suffix == "g" || suffix == "G" || suffix == "GiB") shift = 30;
  else if (suffix == "t" || suffix == "T" || suffix == "TiB") shift = 40;
  else return false;
  if (shift && v > (UINT64_MAX >> shift)) return false;
  *out = v << shift;
  return true;
}

std::string format_size(uint64_t b) {
  const char* units[] = {"", "K", "M", "G", "T"};
  int u = 0;
  while (u < 4 && b >= 1024 && b % 1024 == 0) {
    b /= 1024;
    ++u;
  }
  return std::to_string(b) + units[u];
}

std::string why_not_writable(const std::filesystem::path& p, bool directory) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path at = fs::absolute(p, ec);
  if (ec) return ec.message();
  if (!directory) {
    if (fs::is_directory(at, ec)) return "it is a directory; name a file";
    at = at.parent_path();
    if (!fs::is_directory(at, ec)) return at.string() + " is not a directory";
  } else {
    // The nearest part of the path that exists must be a directory we can write.
    while (!fs::exists(at, ec) && at.has_relative_path()) at = at.parent_path();
    if (!fs::is_directory(at, ec)) return at.string() + " is not a directory";
  }
  if (::access(at.c_str(), W_OK) != 0) return at.string() + ": " + std::strerror(errno);
  return {};
}

TempDir::TempDir(const std::string& prefix) {
  std::string base = "/var/tmp";
  if (const char* t = std::getenv("TMPDIR"); t && *t) base = t;
  std::string tmpl = base + "/" + prefix + ".XXXXXX";
  if (!::mkdtemp(tmpl.data()))
    throw SetupError("cannot create a work directory under " + base + " (" + std::strerror(errno) +
                     "); set TMPDIR to a writable disk");
  dir_ = std::filesystem::canonical(tmpl);  // the record names it without symlinks (reclaim checks that)
  record_ = OwnedRecord::self().add({"workdir", dir_.string()});
}

void TempDir::keep() {
  keep_ = true;
  if (record_) OwnedRecord::self().remove(record_);
  record_ = 0;
}

TempDir::~TempDir() {
  if (keep_) return;
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  if (record_) OwnedRecord::self().remove(record_);
}

void make_sparse_file(const std::filesystem::path& p, uint64_t size) {
  Fd fd = open_or_throw(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) throw_errno("ftruncate " + p.string());
}

std::string program_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  for (const auto& dir : split(path && *path ? path : "/usr/sbin:/usr/bin:/sbin:/bin", ':')) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + name;
    struct stat st{};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return "";
}

std::string host_name() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return host;
}

uint64_t inode_of(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_errno("fstat");
  return st.st_ino;
}

bool parse_task_stat(const std::string& text, TaskStat* out) {
  const auto lp = text.find('('), rp = text.rfind(')');
  if (lp == std::string::npos || rp == std::string::npos || rp < lp || rp + 2 >= text.size()) return false;
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15, starttime 22.
  const std::vector<std::string> fields = split(text.substr(rp + 2), ' ');
  if (fields.size() < 20 || fields[0].size() != 1) return false;
  out->comm = text.substr(lp + 1, rp - lp - 1);
  out->state = fields[0][0];
  out->cpu_ticks = std::strtoull(fields[11].c_str(), nullptr, 10) + std::strtoull(fields[12].c_str(), nullptr, 10);
  out->start_time = fields[19];
  return true;
}

bool read_task_stat(const std::filesystem::path& stat_file, TaskStat* out) {
  return parse_task_stat(read_file_or_empty(stat_file), out);
}

}  // namespace dt
