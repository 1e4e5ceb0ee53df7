#include "lib/torture/repro.hpp"

#include <fmt/format.h>

#include <set>
#include <stdexcept>

namespace dt {
namespace {

// The fixed part: pattern (the same words as lib/io/pattern.cpp), file set-up
// and the read/write helper. Kept short: the whole file must stay readable.
// The headers; those of the optional parts only when they are there.
struct Header {
  const char* name;
  bool (*needed)(bool uffd, bool threads, bool events);
};
const Header kHeaders[] = {
    {"errno.h", nullptr},       {"fcntl.h", nullptr},       {"liburing.h", nullptr},
    {"linux/btrfs.h", [](bool, bool, bool e) { return e; }},
    {"linux/fs.h", nullptr},
    {"linux/userfaultfd.h", [](bool u, bool, bool) { return u; }},
    {"poll.h", [](bool u, bool, bool) { return u; }},
    {"pthread.h", [](bool u, bool t, bool) { return u || t; }},
    {"stdint.h", nullptr},      {"stdio.h", nullptr},       {"stdlib.h", nullptr},
    {"string.h", nullptr},      {"sys/ioctl.h", nullptr},   {"sys/mman.h", nullptr},
    {"sys/stat.h", nullptr},
    {"sys/syscall.h", [](bool u, bool, bool) { return u; }},
    {"sys/uio.h", nullptr},
    {"sys/wait.h", [](bool, bool, bool e) { return e; }},
    {"unistd.h", nullptr},
};

const char* const kHead = R"(
static int fd[16], bfd[16];
static long res[64];
static struct io_uring ring;
static char *last, *reg;
static volatile int cqe;  /* the first CQE of the op (request index), -1 before */
static uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
static unsigned char pat(uint64_t seed, uint64_t p) {
  uint64_t w = mix((p / 8) ^ mix(seed));
  return (w ? w : 0x5a5a5a5a5a5a5a5aULL) >> (8 * (p % 8));
}
static void fill(char *b, long n, uint64_t pos, uint64_t seed) {
  for (long i = 0; i < n; i++) b[i] = pat(seed, pos + i);
}
static void die(const char *m) { perror(m); exit(2); }
static void mkfile(int i, const char *name, const char *layout, long piece, uint64_t seed, int spacer) {
  int f = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
  char *b = aligned_alloc(4096, piece), sp[4096];
  memset(sp, 0x5c, sizeof sp);
  if (f < 0) die(name);
  for (long k = 0; layout[k]; k++) {  /* D data, H hole, P prealloc; a spacer keeps extents apart */
    if (layout[k] == 'D') fill(b, piece, k * piece, seed);
    if (layout[k] == 'D' && pwrite(f, b, piece, k * piece) != piece) die("pwrite");
    if (layout[k] == 'P' && fallocate(f, 0, k * piece, piece)) die("fallocate");
    if (fsync(f) || write(spacer, sp, sizeof sp) != sizeof sp || fsync(spacer)) die("spacer");
  }
  if (ftruncate(f, strlen(layout) * piece) || fsync(f)) die("ftruncate");
  close(f);
  if ((fd[i] = open(name, O_RDWR | O_DIRECT)) < 0 || (bfd[i] = open(name, O_RDWR)) < 0) die(name);
}
/* src: 0 heap, 1 anon (touch: pages prefaulted), 2 mmap of file mf at mo, 3 memfd, 4 huge, 6 registered */
static __attribute__((unused)) char *buf(int src, long len, int mis, int wr, uint64_t pos, uint64_t seed, uint64_t touch, int mf, long mo) {
  long span = (len + mis + 4095) & ~4095L;
  char *p = MAP_FAILED;
  int anon = MAP_PRIVATE | MAP_ANONYMOUS, m;
  if (src == 2) p = mmap(0, span, PROT_READ | PROT_WRITE, MAP_SHARED, bfd[mf], mo);
  if (src == 3 && (m = memfd_create("repro", 0)) >= 0 && !ftruncate(m, span))
    p = mmap(0, span, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
  if (src == 4) p = mmap(0, (span + (2 << 20) - 1) & ~((2L << 20) - 1), PROT_READ | PROT_WRITE, anon | MAP_HUGETLB, -1, 0);
  if (src == 1 || (src == 4 && p == MAP_FAILED)) p = mmap(0, span, PROT_READ | PROT_WRITE, anon, -1, 0);
  if (src == 0) p = aligned_alloc(4096, span);
  if (src == 6) p = reg;
  if (p == MAP_FAILED || !p) die("buffer");
  if (src == 2) return p + mis;
  if (wr) fill(p + mis, len, pos, seed);
  else if (src != 1) memset(p + mis, 0xee, len);
  else for (long k = 0; k < span / 4096; k++) if (touch >> (k % 64) & 1) p[k * 4096] = 0;
  return p + mis;
}
/* how: 0 preadv2/pwritev2, 1 io_uring read/write, 2 readv/writev, 3 READ_FIXED/WRITE_FIXED */
static void rw(int f, int wr, int how, long off, long len, int qd, int iovs, int rwf, int async, char *b) {
  struct iovec iov[8][8];
  for (int r = 0; r < qd; r++)
    for (int i = 0; i < iovs; i++) {
      iov[r][i].iov_base = b + r * len + i * (len / iovs);
      iov[r][i].iov_len = i == iovs - 1 ? len - i * (len / iovs) : len / iovs;
    }
  cqe = -1;
  if (how == 0) {
    long n = wr ? pwritev2(f, iov[0], iovs, off, rwf) : preadv2(f, iov[0], iovs, off, rwf);
    res[0] = n < 0 ? -errno : n;
    return;
  }
  for (int r = 0; r < qd; r++) {
    struct io_uring_sqe *s = io_uring_get_sqe(&ring);
    char *p = b + r * len;
    if (how == 1 && wr) io_uring_prep_write(s, f, p, len, off + r * len);
    if (how == 1 && !wr) io_uring_prep_read(s, f, p, len, off + r * len);
    if (how == 2 && wr) io_uring_prep_writev(s, f, iov[r], iovs, off + r * len);
    if (how == 2 && !wr) io_uring_prep_readv(s, f, iov[r], iovs, off + r * len);
    if (how == 3 && wr) io_uring_prep_write_fixed(s, f, p, len, off + r * len, 0);
    if (how == 3 && !wr) io_uring_prep_read_fixed(s, f, p, len, off + r * len, 0);
    s->rw_flags = rwf;
    s->flags |= async ? IOSQE_ASYNC : 0;
    s->user_data = r;
  }
  io_uring_submit(&ring);
  for (int r = 0; r < qd; r++) {
    struct io_uring_cqe *c;
    if (io_uring_wait_cqe(&ring, &c)) die("io_uring_wait_cqe");
    res[c->user_data] = c->res;
    if (cqe < 0) cqe = c->user_data;
    io_uring_cqe_seen(&ring, c);
  }
}
)";

const char* const kUffd = R"(struct uf { int fd, wr, ms, bad; long hold; char *base; uint64_t pos, seed; };
static int landed(struct uf *u) {  /* read data arrived in the pages populated before the op */
  for (long i = 0; i < u->hold * 4096; i++) if ((unsigned char)u->base[i] != 0xee) return 1;
  return 0;
}
static void *uf_serve(void *a) {  /* answers the first fault after ms, the rest at once; page `bad` wrong */
  struct uf *u = a;
  char *pg = aligned_alloc(4096, 4096);
  for (;;) {
    struct uffd_msg m;
    struct pollfd p = {u->fd, POLLIN, 0};
    if (poll(&p, 1, -1) < 0 || read(u->fd, &m, sizeof m) != sizeof m) continue;
    long at = (m.arg.pagefault.address & ~4095UL) - (unsigned long)u->base;
    usleep(u->ms * 1000);
    u->ms = 0;
    if (u->hold >= 0 && at / 4096 >= u->hold) {  /* after-completion: held until a CQE or read data, <= 200 ms */
      for (int w = 0; w < 1000 && cqe < 0 && (u->wr || !landed(u)); w++) usleep(200);
      u->hold = -1;
    }
    if (u->wr) fill(pg, 4096, u->pos + at, at / 4096 == u->bad ? u->seed ^ 0xbadbadbadULL : u->seed);
    else memset(pg, 0xee, 4096);
    struct uffdio_copy c = {(unsigned long)u->base + at, (unsigned long)pg, 4096, 0, 0};
    ioctl(u->fd, UFFDIO_COPY, &c);
  }
  return a;
}
static char *ufbuf(long len, int mis, int wr, uint64_t pos, uint64_t seed, int ms, int bad, long hold) {
  struct uf *u = calloc(1, sizeof *u);
  long span = (len + mis + 4095) & ~4095L;
  u->base = mmap(0, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  struct uffdio_api api = {UFFD_API, 0, 0};
  struct uffdio_register r = {{(unsigned long)u->base, span}, UFFDIO_REGISTER_MODE_MISSING, 0};
  u->fd = syscall(SYS_userfaultfd, O_CLOEXEC);
  if (u->fd < 0 || ioctl(u->fd, UFFDIO_API, &api) || ioctl(u->fd, UFFDIO_REGISTER, &r)) die("userfaultfd");
  u->wr = wr, u->ms = ms, u->bad = bad, u->pos = pos - mis, u->seed = seed, u->hold = hold;
  pthread_t t;
  pthread_create(&t, 0, uf_serve, u);
  for (long k = 0; k < hold; k++) (void)*(volatile char *)(u->base + k * 4096);  /* populated before the op */
  return u->base + mis;
}
)";

// Events run in a child process beside the steps that follow, one at a time,
// as the torture run's event thread ran them.
const char* const kEvents = R"(static pid_t evp;  /* the event running (one at a time) */
static pid_t evfork(void) { if (evp > 0) waitpid(evp, 0, 0); return evp = fork(); }
)";

const char* const kDevices = R"(static char *spare;  /* argv[2]: a blank device the run may add to the filesystem */
static void dev(int d, unsigned long req, const char *a, const char *b) {  /* add, remove or replace a with b */
  struct btrfs_ioctl_vol_args v = {0};
  struct btrfs_ioctl_vol_args_v2 v2 = {0};
  struct btrfs_ioctl_dev_replace_args r = {.cmd = BTRFS_IOCTL_DEV_REPLACE_CMD_START};
  strncpy(v.name, a, sizeof v.name - 1), strncpy(v2.name, a, sizeof v2.name - 1);
  strncpy((char *)r.start.srcdev_name, a, 1024), strncpy((char *)r.start.tgtdev_name, b ? b : "", 1024);
  if (ioctl(d, req, req == BTRFS_IOC_ADD_DEV ? (void *)&v : req == BTRFS_IOC_RM_DEV_V2 ? (void *)&v2 : (void *)&r))
    fprintf(stderr, "device ioctl on %s: %s\n", a, strerror(errno));
}
static char *member(int d, int k) {  /* the path of device k (mod their number) */
  static struct btrfs_ioctl_dev_info_args di[16];
  struct btrfs_ioctl_fs_info_args fi = {0};
  int n = 0;
  if (ioctl(d, BTRFS_IOC_FS_INFO, &fi)) die("BTRFS_IOC_FS_INFO");
  for (unsigned i = 1; i <= fi.max_id && n < 16; i++) n += (di[n].devid = i, !ioctl(d, BTRFS_IOC_DEV_INFO, &di[n]));
  return strdup((char *)di[k % n].path);
}
)";

const char* const kMutate = R"(static volatile int stop;
static char *mb;
static long ml;
static uint64_t mpos, mseed;
static void *mutator(void *a) {  /* keeps rewriting the buffer while the write runs (seed 002) */
  for (uint64_t r = 1; !stop; r++) fill(mb, ml, mpos, mseed + r);
  return a;
}
)";

std::string c_string(const std::string& s) { return "\"" + s + "\""; }

std::string rwf_names(uint32_t flags) {
  std::string s;
  auto add = [&](const char* n) { s += (s.empty() ? "" : " | ") + std::string(n); };
  if (flags & kFlagNowait) add("RWF_NOWAIT");
  if (flags & kFlagDsync) add("RWF_DSYNC");
  if (flags & kFlagAppend) add("RWF_APPEND");
  return s.empty() ? "0" : s;
}

// The C statements of one event, as lib/torture/events.cpp runs it (nd: a
// directory on the filesystem).
std::string event_code(const Step& s, const std::set<unsigned>& used) {
  if (s.event == "sync") return "syncfs(nd);";
  if (s.event == "drop-caches")
    return "int d = open(\"/proc/sys/vm/drop_caches\", O_WRONLY);\n    sync();\n"
           "    if (d < 0 || write(d, \"3\", 1) != 1) die(\"drop_caches\");";
  if (s.event == "scrub")
    return "struct btrfs_ioctl_scrub_args a = {.end = -1ULL, .flags = BTRFS_SCRUB_READONLY};\n"
           "    for (a.devid = 1; a.devid < 16; a.devid++) ioctl(nd, BTRFS_IOC_SCRUB, &a);";
  if (s.event == "defrag") {
    if (!used.count(s.file)) return "/* defrag of a file no step here uses: left out */";
    return fmt::format(
        "struct btrfs_ioctl_defrag_range_args a = {{.len = -1ULL, .flags = BTRFS_DEFRAG_RANGE_START_IO}};\n"
        "    ioctl(fd[{}], BTRFS_IOC_DEFRAG_RANGE, &a);",
        s.file);
  }
  if (s.event == "snapshot")
    return "struct btrfs_ioctl_vol_args_v2 a = {.fd = open(\".\", O_RDONLY), .name = \"snap\"};\n"
           "    struct btrfs_ioctl_vol_args d = {.name = \"snap\"};\n"
           "    int up = open(\"..\", O_RDONLY);\n"
           "    if (!ioctl(up, BTRFS_IOC_SNAP_CREATE_V2, &a)) ioctl(up, BTRFS_IOC_SNAP_DESTROY, &d);";
  if (s.event == "balance") {
    // -dconvert/-mconvert went to another profile and back; a balance of
    // every chunk of that kind relocates the same chunks.
    const bool meta = s.arg == "metadata" || s.arg == "mconvert";
    const bool usage = s.arg == "data-usage" || s.arg == "metadata";
    const bool ctl = s.arg == "pause-resume" || s.arg == "cancel";
    const char* what = ctl    ? "BTRFS_BALANCE_DATA | BTRFS_BALANCE_METADATA"
                       : meta ? "BTRFS_BALANCE_METADATA | BTRFS_BALANCE_SYSTEM | BTRFS_BALANCE_FORCE"
                              : "BTRFS_BALANCE_DATA";
    std::string c = fmt::format(
        "struct btrfs_ioctl_balance_args b = {{.flags = {}{}}};  /* {} */\n    ", what,
        usage ? fmt::format(", .{} = {{.flags = BTRFS_BALANCE_ARGS_USAGE, .usage = 90}}", meta ? "meta" : "data") : "",
        s.arg);
    if (!ctl) return c + "ioctl(nd, BTRFS_IOC_BALANCE_V2, &b);";
    // Started beside, then paused (and resumed) or cancelled, as the run did.
    const bool cancel = s.arg == "cancel";
    return c + fmt::format("if (!fork()) _exit(ioctl(nd, BTRFS_IOC_BALANCE_V2, &b) != 0);\n"
                           "    usleep({});\n    ioctl(nd, BTRFS_IOC_BALANCE_CTL, {});\n    wait(0);{}",
                           (20 + s.seq % 50) * 1000, cancel ? "BTRFS_BALANCE_CTL_CANCEL" : "BTRFS_BALANCE_CTL_PAUSE",
                           cancel ? "" : "\n    b.flags = BTRFS_BALANCE_RESUME;\n    ioctl(nd, BTRFS_IOC_BALANCE_V2, &b);");
  }
  if (s.event == "device") {
    // The spare goes in before anything goes out; the devices are put back.
    std::string c =
        "if (!spare) {\n      fprintf(stderr, \"device event left out: name a spare device after DIR\\n\");\n"
        "      _exit(0);\n    }\n    ";
    if (s.arg == "add") return c + "dev(nd, BTRFS_IOC_ADD_DEV, spare, 0);\n    dev(nd, BTRFS_IOC_RM_DEV_V2, spare, 0);";
    c += fmt::format("char *v = member(nd, {});\n    ", s.file);
    if (s.arg == "remove") c += "dev(nd, BTRFS_IOC_ADD_DEV, spare, 0);\n    dev(nd, BTRFS_IOC_RM_DEV_V2, v, 0);\n    ";
    else c += "dev(nd, BTRFS_IOC_DEV_REPLACE, v, spare);\n    ";
    return c + "dev(nd, BTRFS_IOC_ADD_DEV, v, 0);\n    dev(nd, BTRFS_IOC_RM_DEV_V2, spare, 0);";
  }
  throw std::runtime_error("no repro code for event " + s.event);
}

}  // namespace

std::string make_repro(const OpLog& log, const Failure& failure) {
  std::set<unsigned> used;
  bool uffd = false, mutate = false, fixed = false, uring = false, events = false, devices = false, snapshots = false;
  for (const Step& s : log.steps) {
    events |= s.is_event();
    devices |= s.event == "device";
    snapshots |= s.event == "snapshot";
    if (s.is_event()) continue;
    used.insert(s.file);
    if (s.buf == BufSource::Mmap || s.op == "reflink") used.insert(s.src_file);
    uffd |= s.buf == BufSource::Uffd;
    mutate |= (s.flags & kFlagMutate) != 0;
    fixed |= (s.info().caps & kCapFixed) != 0;
    uring |= (s.info().caps & kCapUring) != 0;
  }
  const nlohmann::json& chk = failure.check;
  const std::string what = chk.is_object() ? chk.value("what", "") : "";
  if (what.empty()) throw std::runtime_error("the failure (" + failure.kind + ") records nothing a repro can check");
  if (chk.contains("file")) used.insert(chk["file"].get<unsigned>());

  std::string c = fmt::format(
      "/* repro.c: diotorture torture seed {}, {} steps; kernel {}.\n"
      " * The torture run saw: {}: {}\n"
      " * Build: cc repro.c -luring -lpthread   Run as root in an empty directory on btrfs:\n"
      " * ./a.out [DIR]{}; exit 1 and one line when the kernel gets it wrong, 0 when not. */\n",
      log.header.seed, log.steps.size(), log.header.kernel.empty() ? "?" : log.header.kernel, failure.kind,
      failure.msg, devices ? " SPARE-DEVICE" : "");
  c += "#define _GNU_SOURCE\n";
  for (const Header& h : kHeaders)
    if (!h.needed || h.needed(uffd, mutate, events)) c += fmt::format("#include <{}>\n", h.name);
  c += kHead;
  if (events) c += kEvents;
  if (devices) c += kDevices;
  if (uffd) c += kUffd;
  if (mutate) c += kMutate;
  // The expected content of the checked range, from the model.
  if (what == "data") {
    c += "static const struct { long a, b; int any; uint64_t seed; long shift; } want[] = {\n";
    for (const auto& seg : chk["expect"]) {
      const std::string kind = seg[2].get<std::string>();
      c += fmt::format("    {{{}, {}, {}, {}ULL, {}}},  /* {} */\n", seg[0].get<uint64_t>(), seg[1].get<uint64_t>(),
                       kind == "any" ? 1 : 0, kind == "pattern" ? seg[3].get<uint64_t>() : 0,
                       kind == "pattern" ? seg[4].get<int64_t>() : 0, kind);
    }
    c += "};\n";
  }
  c += "int main(int argc, char **argv) {\n";
  if (mutate) c += "  pthread_t t;\n";
  c += "  if (argc > 1 && chdir(argv[1])) die(argv[1]);\n";
  if (devices) c += "  spare = argc > 2 ? argv[2] : 0;\n";
  if (snapshots)  // the snapshot event needs a subvolume to snapshot
    c += "  { struct btrfs_ioctl_vol_args v = {.name = \"sv\"};\n"
         "    if (ioctl(open(\".\", O_RDONLY), BTRFS_IOC_SUBVOL_CREATE, &v) || chdir(\"sv\")) die(\"subvolume sv\"); }\n";
  c += "  mkdir(\"datasum\", 0755);\n  mkdir(\"nocow\", 0755);\n";
  c += "  int nd = open(\"nocow\", O_RDONLY), fl = 0, spacer = open(\"spacer\", O_RDWR | O_CREAT | O_TRUNC, 0644);\n";
  c += "  if (nd < 0 || ioctl(nd, FS_IOC_GETFLAGS, &fl) || (fl |= FS_NOCOW_FL, ioctl(nd, FS_IOC_SETFLAGS, &fl))) die(\"chattr +C nocow\");\n";
  for (unsigned i : used) {
    const FileSetup& f = log.header.files.at(i);
    c += fmt::format("  mkfile({}, {}, {}, {}, {}ULL, spacer);\n", i, c_string(f.name), c_string(f.layout),
                     f.piece_size, f.layout_seed);
  }
  if (uring) c += "  if (io_uring_queue_init(64, &ring, 0)) die(\"io_uring_queue_init\");\n";
  if (fixed) {
    c += "  reg = aligned_alloc(4096, (8 << 20) + 8192);\n";
    c += "  struct iovec rv = {reg, (8 << 20) + 8192};\n";
    c += "  if (io_uring_register_buffers(&ring, &rv, 1)) die(\"io_uring_register_buffers\");\n";
  }
  const Step* last_op = nullptr;
  for (const Step& s : log.steps) {
    c += "  /* " + step_to_json([&] {
           Step t = s;
           t.res.clear();
           t.note.clear();
           t.fault_seen.clear();
           t.t_us = t.dur_us = t.end_seq = 0;
           return t;
         }()).dump() + " */\n";
    if (s.is_event()) {
      c += "  if (!evfork()) {  /* beside the steps that follow */\n    " + event_code(s, used) +
           "\n    _exit(0);\n  }\n";
      continue;
    }
    last_op = &s;
    const uint32_t caps = s.info().caps;
    const bool write = caps & kCapWrite;
    if (caps & (kCapRead | kCapWrite)) {
      if (caps & kCapMmap) {
        c += fmt::format(
            "  {{ struct stat st; long n = fstat(bfd[{0}], &st) ? 0 : st.st_size - {1}L; n = n < {2} ? n : {2};\n"
            "    char *m = n > 0 ? mmap(0, {1}L % 4096 + n, PROT_READ | PROT_WRITE, MAP_SHARED, bfd[{0}], {1}L & ~4095L) : 0;\n"
            "    if (m == MAP_FAILED) die(\"mmap\");\n"
            "    if (n > 0) {3}; res[0] = n > 0 ? n : 0; }}\n",
            s.file, s.off, s.len,
            write ? fmt::format("fill(m + {} % 4096, n, {}, {}ULL)", s.off, s.off, s.data_seed)
                  : fmt::format("memcpy(last = malloc(n), m + {} % 4096, n)", s.off));
        continue;
      }
      const uint64_t total = s.len * s.qd;
      std::string b;
      if (s.buf == BufSource::Uffd)
        b = fmt::format("ufbuf({}, {}, {}, {}, {}ULL, {}, {}, {})", total, s.buf_misalign, write ? 1 : 0, s.off,
                        s.data_seed, s.fault == Fault::Delay ? s.fault_ms : s.fault == Fault::Never ? 300 : 0,
                        s.inject_page, s.fault == Fault::AfterCompletion ? static_cast<int64_t>(s.hold_page) : -1);
      else
        b = fmt::format("buf({}, {}, {}, {}, {}, {}ULL, {}ULL, {}, {})", static_cast<int>(s.buf), total, s.buf_misalign,
                        write ? 1 : 0, s.off, s.data_seed, s.touch_mask, s.src_file, s.src_off);
      const int how = !(caps & kCapUring) ? 0 : (caps & kCapFixed) ? 3 : (caps & kCapVectored) ? 2 : 1;
      c += fmt::format("  last = {};\n", b);
      std::string call = fmt::format("rw({}[{}], {}, {}, {}, {}, {}, {}, {}, {}, last)", caps & kCapDirect ? "fd" : "bfd",
                                     s.file, write ? 1 : 0, how, s.off, s.len, s.qd, s.iovs, rwf_names(s.flags),
                                     (s.flags & kFlagAsync) ? 1 : 0);
      if (s.flags & kFlagMutate)
        c += fmt::format("  mb = last, ml = {}, mpos = {}, mseed = {}ULL, stop = 0;\n"
                         "  pthread_create(&t, 0, mutator, 0);\n  {};\n  stop = 1;\n  pthread_join(t, 0);\n",
                         total, s.off, s.data_seed, call);
      else
        c += "  " + call + ";\n";
      continue;
    }
    auto fallocate = [&](std::string mode) {
      if (s.flags & kFlagKeepSize) mode += " | FALLOC_FL_KEEP_SIZE";
      c += fmt::format("  res[0] = fallocate(fd[{}], {}, {}, {}) ? -errno : 0;\n", s.file, mode, s.off, s.len);
    };
    switch (s.info().kind) {
      case OpKind::Read:
      case OpKind::Write:
      case OpKind::MmapRead:
      case OpKind::MmapWrite:
        throw std::logic_error(s.op + ": a read or write without kCapRead or kCapWrite");
      case OpKind::Fsync:
      case OpKind::Fdatasync:
        c += fmt::format("  res[0] = {}(fd[{}]) ? -errno : 0;\n", s.op, s.file);
        break;
      case OpKind::Truncate:
        c += fmt::format("  res[0] = ftruncate(fd[{}], {}) ? -errno : 0;\n", s.file, s.off);
        break;
      case OpKind::Reflink:
        c += fmt::format("  {{ struct file_clone_range r = {{fd[{}], {}, {}, {}}};\n"
                         "    res[0] = ioctl(fd[{}], FICLONERANGE, &r) ? -errno : 0; }}\n",
                         s.src_file, s.src_off, s.len, s.off, s.file);
        break;
      case OpKind::Fallocate:
        fallocate("0");
        break;
      case OpKind::Punch:
        c += fmt::format("  res[0] = fallocate(fd[{}], FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, {}, {}) ? -errno : 0;\n",
                         s.file, s.off, s.len);
        break;
      case OpKind::ZeroRange:
        fallocate("FALLOC_FL_ZERO_RANGE");
        break;
    }
  }
  if (events) c += "  if (evp > 0) waitpid(evp, 0, 0);\n";
  // The check of what went wrong.
  const std::string fname = chk.contains("file") ? log.header.files.at(chk["file"].get<unsigned>()).name : "";
  if (what == "short-read" || what == "error") {
    const unsigned r = chk.value("request", 0u);
    if (what == "short-read")
      c += fmt::format("  if (res[{0}] >= 0 && res[{0}] < {1}) {{\n"
                       "    printf(\"short read: %ld of {1} bytes inside i_size (request {0})\\n\", res[{0}]);\n"
                       "    return 1;\n  }}\n",
                       r, chk.value("want", uint64_t{0}));
    else
      c += fmt::format("  if (res[{0}] < 0 && res[{0}] != -EAGAIN && res[{0}] != -EINVAL) {{\n"
                       "    printf(\"{1} failed: %s\\n\", strerror(-res[{0}]));\n    return 1;\n  }}\n",
                       r, last_op ? last_op->op : "the last step");
  } else if (what == "isize") {
    c += fmt::format("  struct stat st;\n  if (!fstat(fd[{0}], &st) && st.st_size != {1}) {{\n"
                     "    printf(\"{2}: i_size %ld, expected {1}\\n\", (long)st.st_size);\n    return 1;\n  }}\n",
                     chk["file"].get<unsigned>(), chk.value("want", uint64_t{0}), fname);
  } else if (what == "hole") {
    const uint64_t off = chk.value("off", uint64_t{0}), len = chk.value("len", uint64_t{0});
    c += fmt::format("  long h = lseek(fd[{0}], {1}, SEEK_HOLE);\n  if (h >= 0 && h < {2}) {{\n"
                     "    printf(\"{3}: hole at %#lx where data was written [{1:#x},{2:#x})\\n\", h);\n    return 1;\n  }}\n",
                     chk["file"].get<unsigned>(), off, off + len, fname);
  } else if (what == "copies") {
    // btrfs raid1 reads pick the mirror by pid (read_policy pid): readers
    // with different pids see different copies.
    const uint64_t off = chk.value("off", uint64_t{0}) / 4096 * 4096;
    c += fmt::format(
        "  fsync(fd[{0}]);\n  uint64_t h[4];\n"
        "  for (int k = 0; k < 4; k++) {{\n    int p[2];\n    if (pipe(p)) die(\"pipe\");\n"
        "    if (!fork()) {{\n      char *b = aligned_alloc(4096, 4096);\n      uint64_t x = 0;\n"
        "      if (pread(fd[{0}], b, 4096, {1}) != 4096) exit(3);\n"
        "      for (int i = 0; i < 4096; i++) x = mix(x ^ (unsigned char)b[i]);\n"
        "      exit(write(p[1], &x, 8) != 8);\n    }}\n"
        "    if (read(p[0], &h[k], 8) != 8) die(\"reader\");\n  }}\n"
        "  for (int k = 1; k < 4; k++)\n    if (h[k] != h[0]) {{\n"
        "      printf(\"{2}: O_DIRECT reads of block {1:#x} from different pids (mirrors) differ\\n\");\n"
        "      return 1;\n    }}\n",
        chk["file"].get<unsigned>(), off, fname);
  } else if (what == "read-error") {
    const uint64_t off = chk.value("off", uint64_t{0}), len = chk.value("len", uint64_t{0});
    const bool dio = chk.value("via", "dio") == "dio";
    c += fmt::format("  char *got = aligned_alloc(4096, {0});\n"
                     "  if (pread({1}[{2}], got, {0}, {3}) < 0) {{\n"
                     "    printf(\"{4}: {5} read of [{3:#x},+{0}) failed: %s\\n\", strerror(errno));\n"
                     "    return 1;\n  }}\n",
                     len, dio ? "fd" : "bfd", chk["file"].get<unsigned>(), off, fname, dio ? "O_DIRECT" : "buffered");
  } else if (what == "data") {
    const uint64_t off = chk.value("off", uint64_t{0}), len = chk.value("len", uint64_t{0});
    const std::string via = chk.value("via", "dio");
    if (via == "dio" || via == "page-cache") {
      c += fmt::format("  char *got = aligned_alloc(4096, {0} + 4096);\n"
                       "  long n = pread({1}[{2}], got, ({0} + 4095) & ~4095L, {3});\n"
                       "  if (n != {0}) {{\n    printf(\"{4}: read-back of [{3:#x},+{0}) returned %ld\\n\", n < 0 ? -errno : n);\n"
                       "    return 1;\n  }}\n",
                       len, via == "dio" ? "fd" : "bfd", chk["file"].get<unsigned>(), off, fname);
    } else {
      c += fmt::format("  char *got = last + ({} - {});\n", off, via == "mmap" ? off : (last_op ? last_op->off : 0));
    }
    c += fmt::format(
        "  for (long i = 0; i < {0}; i++) {{\n    uint64_t p = {1} + i;\n"
        "    for (unsigned k = 0; k < sizeof want / sizeof want[0]; k++) {{\n"
        "      unsigned char w = want[k].seed ? pat(want[k].seed, p - want[k].shift) : 0;\n"
        "      if (p >= (uint64_t)want[k].a && p < (uint64_t)want[k].b && !want[k].any && (unsigned char)got[i] != w) {{\n"
        "        printf(\"{2}: wrong data ({3}) at offset %#lx: %#x, expected %#x\\n\", (long)p, (unsigned char)got[i], w);\n"
        "        return 1;\n      }}\n    }}\n  }}\n",
        len, off, fname, via);
  } else {
    throw std::runtime_error("no repro check for '" + what + "'");
  }
  c += "  printf(\"no failure: the kernel behaved\\n\");\n  return 0;\n}\n";
  return c;
}

}  // namespace dt
