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
# Numbers and names: typed options, checked while parsing.
expect_usage_error "--timeout: 'abc' is not a number of seconds from 1 to 86400" "bad timeout" "$DT" run --timeout abc
expect_usage_error "--iterations: '0' is not an iteration count" "zero iterations" "$DT" run --iterations 0
expect_usage_error "--seed: 'x' is not a seed" "bad seed" "$DT" run --seed x
expect_usage_error "--scratch-size: '1M' is not an image size from 256M to 4T" "tiny scratch" "$DT" run --scratch-size 1M
expect_usage_error "--scratch-size: '5T' is not an image size from 256M to 4T" "scratch over 4T" "$DT" run --scratch-size 5T
expect_usage_error "--scratch-size: '1P' is not an image size" "unknown unit" "$DT" run --scratch-size 1P
expect_usage_error "--block-size: '100' is not a block size from 512 to 1G" "bench block size" "$DT" bench --block-size 100
expect_usage_error "--engines: 'bogus' is not one of psync, io_uring" "bench engine" "$DT" bench --engines psync,bogus
expect_usage_error "--targets: 'nodatasun' is not one of nodatasum, checksummed, device (did you mean 'nodatasum'?)" \
  "bench target" "$DT" bench --targets nodatasun
expect_usage_error "--iodepth: '0' is not a queue depth from 1 to 1024" "bench iodepth" "$DT" bench --iodepth 0
expect_usage_error "--submit-batch: '2000' is not a batch size from 0 to 1024" "bench submit batch" "$DT" bench --submit-batch 2000
expect_usage_error "--submit-batch, --fixed-buffers and --fixed-files are io_uring options" "submit batch without io_uring" \
  "$DT" bench --engines psync --submit-batch 4
expect_usage_error "--accel: 'xen' is not one of auto, kvm, tcg" "ab accel" "$DT" ab --kernel host --kernel host --accel xen -- bench
expect_usage_error "--force-device overwrites the device named with --device" "force-device alone" "$DT" bench --force-device
expect_usage_error "--threshold: 'x' is not a percentage from 0 to 1000" "compare threshold" "$DT" compare a b --threshold x
expect_usage_error "--alpha: '0.9' is not a significance level" "compare alpha" "$DT" compare a b --alpha 0.9
expect_usage_error "--format: 'html' is not one of text, markdown, json" "compare format" "$DT" compare a b --format html
expect_usage_error "--cpus: '0' is not a CPU count from 1 to 64" "vm cpus" "$DT" vm --kernel x --cpus 0 -- run
expect_usage_error "--scratch-mnt is where a scratch device pool is mounted; give --scratch-dev-pool too" \
  "--scratch-mnt without a pool" "$DT" run --scratch-mnt "$WORK"
expect_usage_error "diotorture clean needs root" "clean as a user" setpriv --reuid=65534 --regid=65534 --clear-groups "$DT" clean
# Positional ids after a repeatable option stay ids: -g takes one value per use.
expect_usage_error "unknown case 'partial-dio-wrte' (did you mean 'partial-dio-write'?)" "id after -g" \
  "$DT" run -g mmap partial-dio-wrte
expect_usage_error "-p bogus: no selected case has that parameter" "-g GROUP ID parses" "$DT" run -g mmap dsync-dio-write -p bogus=1
# vm: the guest's command with or without a -- in front (not CLI11's bare "arguments were not expected").
expect_usage_error "--kernel $WORK/nokernel is not a file" "vm without --" "$DT" vm --kernel "$WORK/nokernel" run -g quick
expect_usage_error "--kernel $WORK/nokernel is not a file" "vm with --" "$DT" vm --kernel "$WORK/nokernel" -- run -g quick
# Paths the tool writes: the flag and the path, not "run as root on a btrfs".
mkdir -p "$WORK/ro"
mount -o loop,ro "$WORK/ro.img" "$WORK/ro"
expect_usage_error "--results: cannot write $WORK/ro/results ($WORK/ro: Read-only file system)" "read-only --results" \
  "$DT" run --results "$WORK/ro/results"
expect_usage_error "--chart: cannot write $WORK/ro/chart.svg ($WORK/ro: Read-only file system)" "read-only --chart" \
  "$DT" compare a b --chart "$WORK/ro/chart.svg"
umount "$WORK/ro"
# Configuration files: errors name the file; a HOST_OPTIONS file that is not there is an error.
expect_usage_error "HOST_OPTIONS names $WORK/nope.config, which is not a readable file" "missing HOST_OPTIONS" \
  env HOST_OPTIONS="$WORK/nope.config" "$DT" run
mount -t tmpfs none "$WORK/tmpfs"
echo "TEST_DIR=$WORK/tmpfs" >"$WORK/local.config"
expect_usage_error "TEST_DIR from local.config: test dir $WORK/tmpfs is on tmpfs" "local.config error names the file" "$DT" run
rm "$WORK/local.config"
umount "$WORK/tmpfs"
# --version: git describe at build time.
set +e
v=$("$DT" --version)
rc=$?
set -e
expect_eq "$rc" 0 "--version exits 0"
[[ "$v" =~ ^diotorture\ [0-9a-g] ]] && pass "--version: $v" || fail "--version printed '$v'"
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
[ ! -e "$WORK/results" ] || fail "a refusal created results"
[ ! -e "$WORK/results" ] && [ ! -e "$WORK/nope" ] && pass "nothing created" || fail "a refusal created files"
finish
