/* Runs several probes one after another on one fresh btrfs, each in its own
 * subdirectory, so one guest boot can show which probes a kernel fails:
 *   probe-all DIR /bin/probe-A /bin/probe-B ...
 * Prints "PROBE NAME: pass|LIVE|setup-failed|HANG|killed by signal N" per
 * probe. A probe that has not returned after PROBE_TIMEOUT seconds is a HANG;
 * the filesystem may be wedged then, so the remaining probes are not run. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { PROBE_TIMEOUT = 60 };

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s DIR PROBE...\n", argv[0]); return 2; }
  setvbuf(stdout, NULL, _IONBF, 0);
  int live = 0;
  for (int i = 2; i < argc; i++) {
    const char *name = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
    if (!strncmp(name, "probe-", 6)) name += 6;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", argv[1], name);
    if (mkdir(dir, 0755) && errno != EEXIST) { printf("PROBE %s: setup-failed (mkdir: %s)\n", name, strerror(errno)); continue; }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid == 0) {
      execl(argv[i], argv[i], dir, (char *)NULL);
      _exit(127);
    }
    int status = 0, done = 0;
    for (int ms = 0; ms < PROBE_TIMEOUT * 1000; ms += 50) {
      if (waitpid(pid, &status, WNOHANG) == pid) { done = 1; break; }
      usleep(50 * 1000);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (!done) {
      /* Where it is stuck: the kernel stack of every thread of the probe. */
      char path[64], line[512];
      snprintf(path, sizeof path, "/proc/%d/stack", (int)pid);
      FILE *f = fopen(path, "r");
      printf("PROBE %s: stack of the hung probe:\n", name);
      while (f && fgets(line, sizeof line, f)) printf("  %s", line);
      if (f) fclose(f);
      kill(pid, SIGKILL);
      printf("PROBE %s: HANG (no return after %d s)\n", name, PROBE_TIMEOUT);
      return 3;
    }
    if (WIFSIGNALED(status)) { printf("PROBE %s: killed by signal %d (%.1f s)\n", name, WTERMSIG(status), s); live = 1; }
    else if (WEXITSTATUS(status) == 0) printf("PROBE %s: pass (%.1f s)\n", name, s);
    else if (WEXITSTATUS(status) == 1) { printf("PROBE %s: LIVE (%.1f s)\n", name, s); live = 1; }
    else printf("PROBE %s: setup-failed (exit %d, %.1f s)\n", name, WEXITSTATUS(status), s);
  }
  return live;
}
