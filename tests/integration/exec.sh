#!/bin/bash
# `diotorture exec` runs a program on a fresh self-provisioned btrfs (its
# directory as the first argument) under the watchdog: exit 0 passes, a
# non-zero exit is a reproduced failure (exit 1), a program that never
# returns is a HANG (exit 3) with its stacks kept, and nothing is left behind.
# This is how a torture run's repro.c is run on a kernel, also inside `vm`.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
cd "$WORK"
cat > prog.c <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>
int main(int argc, char **argv) {
  struct statfs s;
  if (argc < 2 || statfs(argv[1], &s)) return 2;
  printf("btrfs: %s\n", s.f_type == 0x9123683E ? "yes" : "no");
  if (argc > 2 && !strcmp(argv[2], "fail")) { printf("wrong outcome: planted\n"); return 1; }
  if (argc > 2 && !strcmp(argv[2], "hang")) pause();
  return 0;
}
C
cc -o prog prog.c

set +e
out=$("$DT" exec --results "$WORK/results" -- ./prog 2>&1); rc=$?
set -e
echo "$out"
expect_eq "$rc" 0 "a program that passes: exit 0"
expect_contains "$out" "btrfs: yes" "it ran in a btrfs directory"
python3 -c "import json,sys; j=json.load(open(sys.argv[1])); assert j['exit_code']==0 and not j['hung'] and j['argv']==['./prog']" \
  "$WORK/results/latest/exec.json" && pass "exec.json" || fail "exec.json"

set +e
out=$("$DT" exec --results "$WORK/results" -- ./prog fail 2>&1); rc=$?
set -e
expect_eq "$rc" 1 "a program that reports a wrong outcome: exit 1"
expect_contains "$out" "wrong outcome: planted" "its output is shown"

set +e
out=$("$DT" exec --timeout 3 --results "$WORK/results" -- ./prog hang 2>&1); rc=$?
set -e
echo "$out"
expect_eq "$rc" 3 "a program that never returns: HANG, exit 3"
[ -s "$WORK/results/latest/stacks.txt" ] && pass "its stacks are kept" || fail "no stacks.txt"
expect_usage_error "is not an executable file" "no such program" "$DT" exec -- ./missing
expect_nothing_left "exec"
finish
