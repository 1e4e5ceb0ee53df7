#!/bin/bash
# Bad input: one line on stderr naming the problem and the fix, exit 2, and
# nothing created or written.
. "$(dirname "$0")/lib.sh"


cd "$WORK"
expect_usage_error "needs root" "not root" setpriv --reuid=65534 --regid=65534 --clear-groups "$DT" run
expect_usage_error "does not exist" "missing test dir" "$DT" run --test-dir "$WORK/nope"
mkdir -p "$WORK/tmpfs" && mount -t tmpfs none "$WORK/tmpfs"
expect_usage_error "is on tmpfs (" "tmpfs test dir" "$DT" run --test-dir "$WORK/tmpfs"
umount "$WORK/tmpfs"
mkdir -p "$WORK/ext"
expect_usage_error "not btrfs; use a btrfs mount, or pass --allow-fs" "not btrfs" "$DT" run --test-dir "$WORK/ext"
# A read-only btrfs: made by this test on its own image.
truncate -s 512M "$WORK/ro.img" && mkfs.btrfs -q -f "$WORK/ro.img" >/dev/null 2>&1 && mkdir -p "$WORK/ro"
mount -o loop,ro "$WORK/ro.img" "$WORK/ro"
expect_usage_error "read-only mount" "read-only test dir" "$DT" run --test-dir "$WORK/ro"
umount "$WORK/ro"
# fstests configuration: TEST_DIR from the environment, and local.config winning over it.
expect_usage_error "$WORK/from-env does not exist" "TEST_DIR from environment" env TEST_DIR="$WORK/from-env" "$DT" run
echo "TEST_DIR=$WORK/from-config" >"$WORK/local.config"
expect_usage_error "$WORK/from-config does not exist" "TEST_DIR from local.config" env TEST_DIR="$WORK/from-env" "$DT" run
rm "$WORK/local.config"
# io_uring disabled: the runner's one policy for an unmet need: the cases that
# need it do not run, with the reason and the fix; the others still run.
# (The sysctl is host-wide: keep the window short.)
old=$(cat /proc/sys/kernel/io_uring_disabled)
echo 2 >/proc/sys/kernel/io_uring_disabled
set +e
out=$("$DT" run nowait-multi-extent-read partial-dio-write -p sizes=1m -p faults=none -p sources=other-file \
  --results "$WORK/results" 2>&1); rc=$?
echo "$old" >/proc/sys/kernel/io_uring_disabled
set -e
expect_eq "$rc" 0 "io_uring disabled: not run is not a failure"
S=$WORK/results/latest/summary.json
expect_eq "$(case_field "$S" nowait-multi-extent-read status)" notrun "io_uring disabled: the io_uring case does not run"
expect_contains "$(case_field "$S" nowait-multi-extent-read reason)" \
  "io_uring is disabled (kernel.io_uring_disabled=2); enable it with sysctl kernel.io_uring_disabled=0" \
  "io_uring disabled: the reason names the fix"
expect_eq "$(case_field "$S" partial-dio-write status)" pass "io_uring disabled: a case without the need still runs"
rm -rf "$WORK/results"
# Numbers and names.
expect_usage_error "--timeout 'abc' is not a number of seconds" "bad timeout" "$DT" run --timeout abc
expect_usage_error "--iterations '0'" "zero iterations" "$DT" run --iterations 0
expect_usage_error "--seed 'x'" "bad seed" "$DT" run --seed x
expect_usage_error "--scratch-size 1M is too small" "tiny scratch" "$DT" run --scratch-size 1M
expect_usage_error "did you mean 'partial-dio-write'" "unknown case" "$DT" run partial-dio-wrte
expect_usage_error "unknown group 'quik' (did you mean 'quick'?)" "unknown group" "$DT" run -g quik
expect_usage_error "-p extnts: no selected case has that parameter (did you mean 'extents'?)" "unknown parameter" "$DT" run nowait-multi-extent-read -p extnts=2
expect_usage_error "did you mean 'list'" "unknown command" "$DT" lsit
# Parameter values are checked against their declarations before anything runs.
expect_usage_error "-p methods=bogus: 'bogus' is not allowed; give a comma-separated list of readv, read" "bad choice" "$DT" run nowait-multi-extent-read -p methods=bogus
expect_usage_error "-p file-size=1: '1' is not allowed; give a size from 64K to 1G" "tiny file size" "$DT" run csum-mutate -p file-size=1
expect_usage_error "-p extents=0: '0' is not allowed; give comma-separated whole numbers from 2 to 256" "zero extents" "$DT" run nowait-multi-extent-read -p extents=0
expect_usage_error "-p block-sizes=3k: '3k' is not allowed; give comma-separated sizes from 4K to 16M, multiples of 4K" "misaligned size" "$DT" run csum-mutate -p block-sizes=3k
expect_usage_error "-p queue-depths=100000: '100000' is not allowed" "huge queue depth" "$DT" run csum-mutate -p queue-depths=100000
expect_usage_error "cannot read expunge file" "missing expunge file" "$DT" run -E "$WORK/nope.txt"
expect_nothing_left "after refusals"
[ ! -e "$WORK/results" ] && [ ! -e "$WORK/nope" ] && pass "nothing created" || fail "a refusal created files"
finish
