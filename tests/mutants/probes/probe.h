/* Shared helpers of the mutant probes (tests/mutants/probes/<mutant>.c).
 * A probe is a tiny standalone program run by `diotorture exec` on a fresh
 * btrfs (its directory is argv[1]): exit 0 when the kernel behaves as stock
 * Debian 6.1 does, 1 with one "wrong outcome:" line when the mutant's bug
 * shows, 2 when the probe itself could not set up. Built static
 * (tests/mutants/probes/build.sh) so it runs in a `diotorture vm` guest. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define BS 4096

static const char *probe_dir;

static __attribute__((unused)) void wrong(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("wrong outcome: ");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  fflush(stdout);
  exit(1);
}

static __attribute__((unused)) void setup_fail(const char *what) {
  printf("probe setup failed: %s: %s\n", what, strerror(errno));
  fflush(stdout);
  exit(2);
}

/* The kernel log from the probe's start: some mutants show only there
 * (btrfs_crit "bad ordered extent accounting" is no WARNING). */
static int kmsg_fd = -1;

static void kernel_log_check(void) {
  static const char *const bad[] = {"BTRFS critical", "BTRFS error", "WARNING:", "BUG:", "kernel BUG", "Oops",
                                    "general protection", "csum failed", "assertion failed"};
  char rec[8192];
  if (kmsg_fd < 0) return;
  for (;;) {
    ssize_t n = read(kmsg_fd, rec, sizeof rec - 1);
    if (n < 0 && errno == EPIPE) continue; /* overwritten records */
    if (n <= 0) break;
    rec[n] = 0;
    const char *msg = strchr(rec, ';');
    msg = msg ? msg + 1 : rec;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
      if (strstr(msg, bad[i])) {
        char *nl = strchr((char *)msg, '\n');
        if (nl) *nl = 0;
        printf("wrong outcome: kernel log: %s\n", msg);
        fflush(stdout);
        _exit(1);
      }
  }
}

static __attribute__((unused)) void probe_init(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s DIR (a directory on btrfs)\n", argv[0]); exit(2); }
  probe_dir = argv[1];
  if (chdir(probe_dir)) setup_fail("chdir");
  setvbuf(stdout, NULL, _IONBF, 0);
  kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
  if (kmsg_fd >= 0) lseek(kmsg_fd, 0, SEEK_END);
  atexit(kernel_log_check);
}

/* A new file of the directory; nocow sets FS_NOCOW_FL while it is empty. */
static __attribute__((unused)) int new_file(const char *name, int nocow, int extra_flags) {
  int fd = open(name, O_RDWR | O_CREAT | O_TRUNC | extra_flags, 0644);
  if (fd < 0) setup_fail(name);
  if (nocow) {
    int f = 0;
    if (ioctl(fd, FS_IOC_GETFLAGS, &f)) setup_fail("FS_IOC_GETFLAGS");
    f |= FS_NOCOW_FL;
    if (ioctl(fd, FS_IOC_SETFLAGS, &f)) setup_fail("FS_IOC_SETFLAGS NOCOW");
  }
  return fd;
}

static __attribute__((unused)) void fill(void *buf, size_t len, unsigned seed) {
  for (size_t i = 0; i < len; i++) ((unsigned char *)buf)[i] = (unsigned char)(seed * 131 + i / BS * 7 + (i & 0xff) + 1);
}

static __attribute__((unused)) void *abuf(size_t len) {
  void *p = NULL;
  if (posix_memalign(&p, BS, len)) setup_fail("posix_memalign");
  return p;
}

/* Anonymous memory of npages pages: page i is touched (present) when touched
 * has bit i, left untouched otherwise (a direct I/O with page faults disabled
 * cannot use it), PROT_NONE when none has bit i (cannot be faulted in). */
static __attribute__((unused)) unsigned char *pages(int npages, unsigned touched, unsigned none) {
  unsigned char *p = mmap(NULL, (size_t)npages * BS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) setup_fail("mmap");
  for (int i = 0; i < npages; i++) {
    if (touched & (1u << i)) fill(p + (size_t)i * BS, BS, 50 + i);
    if ((none & (1u << i)) && mprotect(p + (size_t)i * BS, BS, PROT_NONE)) setup_fail("mprotect");
  }
  return p;
}

static __attribute__((unused)) void write_all(int fd, const void *buf, size_t len, off_t off, const char *what) {
  ssize_t r = pwrite(fd, buf, len, off);
  if (r != (ssize_t)len) { if (r >= 0) errno = EIO; setup_fail(what); }
}

static __attribute__((unused)) off_t size_of(int fd) {
  struct stat st;
  if (fstat(fd, &st)) setup_fail("fstat");
  return st.st_size;
}

static __attribute__((unused)) void sync_fd(int fd) {
  if (fsync(fd)) wrong("fsync: %s", strerror(errno));
}

static __attribute__((unused)) void drop_caches(void) {
  sync();
  int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
  if (fd >= 0) { if (write(fd, "3", 1) < 0) {} close(fd); }
}

/* Reads [off, off+len) with O_DIRECT (a fresh descriptor) and through the page
 * cache and compares both with want. */
static __attribute__((unused)) void expect_data(const char *name, off_t off, size_t len, const unsigned char *want, const char *what) {
  unsigned char *got = abuf(len);
  for (int direct = 1; direct >= 0; direct--) {
    int fd = open(name, O_RDONLY | (direct ? O_DIRECT : 0));
    if (fd < 0) setup_fail(name);
    memset(got, 0xee, len);
    ssize_t r = pread(fd, got, len, off);
    if (r < 0) wrong("%s: %s read of [%lld, +%zu): %s", what, direct ? "direct" : "buffered", (long long)off, len, strerror(errno));
    if ((size_t)r != len) wrong("%s: %s read of [%lld, +%zu) returned %zd", what, direct ? "direct" : "buffered", (long long)off, len, r);
    for (size_t i = 0; i < len; i++)
      if (got[i] != want[i])
        wrong("%s: %s read: byte %lld is 0x%02x, expected 0x%02x", what, direct ? "direct" : "buffered",
              (long long)(off + (off_t)i), got[i], want[i]);
    close(fd);
  }
  free(got);
}
