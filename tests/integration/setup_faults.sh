#!/bin/bash
# Set-up faults must not look like kernel failures, and what is not ours is
# never touched: a (nearly) full --test-dir, a TMPDIR too small for the sparse
# image, ENOSPC inside a case, a --timeout shorter than a case needs, and
# scratch pool devices (duplicates, a busy --scratch-mnt, our own label, a
# foreign filesystem, bench --device with a signature). Every filesystem and
# loop device here is this test's own.
. "$(dirname "$0")/lib.sh"
cd "$WORK"

run_dt() {  # out-file args...: runs diotorture, sets RC
  local out=$1
  shift
  set +e
  "$DT" "$@" >"$out" 2>&1
  RC=$?
  set -e
}

# 1. --test-dir on a small btrfs of our own: nearly full, then full.
truncate -s 1G "$WORK/small.img"
mkfs.btrfs -q -f "$WORK/small.img" >/dev/null 2>&1
mkdir -p "$WORK/small"
mount -o loop "$WORK/small.img" "$WORK/small"
fallocate -l 300M "$WORK/small/filler1"
fallocate -l 400M "$WORK/small/filler2"
expect_usage_error "free, and the run needs about 512M; free space there or give another --test-dir" \
  "nearly full test dir" "$DT" run --test-dir "$WORK/small"
rm "$WORK/small/filler2"
sync
# ENOSPC inside a case (the up-front check lets ~600M through; the case
# writes 900M): not run, out of space -- not a kernel FAIL.
run_dt "$WORK/enospc.out" run csum-mutate --test-dir "$WORK/small" -p file-size=900m --results "$WORK/results-enospc"
cat "$WORK/enospc.out"
expect_eq "$RC" 0 "ENOSPC in a case: not a failure"
S=$WORK/results-enospc/latest/summary.json
expect_eq "$(case_field "$S" csum-mutate status)" notrun "ENOSPC in a case: notrun"
expect_contains "$(case_field "$S" csum-mutate reason)" "out of space (" "ENOSPC in a case: reason"
dd if=/dev/zero of="$WORK/small/filler3" bs=1M 2>/dev/null || true
sync
expect_usage_error "is full (ENOSPC" "full test dir" "$DT" run --test-dir "$WORK/small"
umount "$WORK/small"

# 2. TMPDIR too small for the sparse image: refused before mkfs, not EIO later.
mkdir -p "$WORK/tinytmp"
mount -t tmpfs -o size=100M none "$WORK/tinytmp"
expect_usage_error "TMPDIR $WORK/tinytmp has 100M free, but the sparse scratch image will need about" \
  "TMPDIR too small" env TMPDIR="$WORK/tinytmp" "$DT" run
[ -z "$(ls -A "$WORK/tinytmp")" ] && pass "nothing created in the small TMPDIR" || fail "left in TMPDIR: $(ls "$WORK/tinytmp")"
umount "$WORK/tinytmp"

# 3. A --timeout shorter than the case needs, on a 1T sparse image (T suffix).
run_dt "$WORK/timeout.out" run dsync-dio-write --timeout 5 -p blocks=1024 --scratch-size 1T --results "$WORK/results-timeout"
cat "$WORK/timeout.out"
expect_eq "$RC" 3 "short --timeout: still a HANG (exit 3)"
expect_contains "$(cat "$WORK/timeout.out")" "1T sparse image" "--scratch-size 1T accepted"
S=$WORK/results-timeout/latest/summary.json
expect_contains "$(case_field "$S" dsync-dio-write reason)" "timed out while making progress" \
  "short --timeout: says the case was making progress"

# 4. Scratch pool devices of our own.
for n in 1 2 3; do truncate -s 1G "$WORK/pool$n.img"; done
mkfs.btrfs -q -f -L other "$WORK/pool2.img" >/dev/null 2>&1
mkfs.ext4 -q -F "$WORK/pool3.img"
L1=$(losetup -f --show "$WORK/pool1.img")
L2=$(losetup -f --show "$WORK/pool2.img")
L3=$(losetup -f --show "$WORK/pool3.img")
detach_pool() { for l in "$L1" "$L2" "$L3"; do losetup -d "$l" 2>/dev/null || true; done; }
trap 'detach_pool; cleanup_work' EXIT
expect_usage_error "names the same device twice ($L1 and $L1); name each device once" "duplicate pool device" \
  "$DT" run --scratch-dev-pool "$L1 $L1" --profile raid1
mkdir -p "$WORK/busy"
mount -t tmpfs none "$WORK/busy"
echo precious >"$WORK/busy/keep"
expect_usage_error "scratch mount point $WORK/busy (from --scratch-mnt) already has none (tmpfs) mounted on it" \
  "--scratch-mnt over a mount" "$DT" run partial-dio-write --scratch-dev-pool "$L1" --scratch-mnt "$WORK/busy"
grep -q " $WORK/busy tmpfs " /proc/mounts && [ "$(cat "$WORK/busy/keep")" = precious ] &&
  pass "the existing mount is untouched" || fail "the existing mount was disturbed"
umount "$WORK/busy"
expect_usage_error "refusing scratch device $L2 (from --scratch-dev-pool): it holds a btrfs filesystem (LABEL=other" \
  "foreign btrfs needs --force-mkfs" "$DT" run partial-dio-write --scratch-dev-pool "$L2"
expect_usage_error "it holds a ext4 filesystem" "bench --device with a signature" \
  "$DT" bench --quick --targets device --device "$L3"
expect_contains "$("$DT" bench --quick --targets device --device "$L3" 2>&1 || true)" "pass --force-device to erase it" \
  "bench --device names its own force flag"
# A blank device, then the same device again: formatted by us, no --force-mkfs needed.
for i in 1 2; do
  run_dt "$WORK/pool-$i.out" run partial-dio-write --scratch-dev-pool "$L1" --results "$WORK/results-pool"
  expect_eq "$RC" 0 "pool run $i passes without --force-mkfs"
  [ "$RC" -eq 0 ] || cat "$WORK/pool-$i.out"
done
tail -3 "$WORK/pool-2.out"
expect_eq "$(blkid -p -o value -s LABEL "$L1")" diotorture "our label on the pool device"
version=$("$DT" --version | sed 's/^diotorture //')
tool_version() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tool_version"])' "$1"; }
expect_eq "$(tool_version "$WORK/results-pool/latest/summary.json")" "$version" "summary.json records the tool version"
run_dt "$WORK/bench.out" bench --quick --file-size 16M --repetitions 1 --targets nodatasum --engines psync \
  --results "$WORK/results-bench"
expect_eq "$RC" 0 "a short bench passes"
[ "$RC" -eq 0 ] || cat "$WORK/bench.out"
expect_eq "$(tool_version "$WORK/results-bench/latest/bench.json")" "$version" "bench.json records the tool version"
grep -qE "^$L1 |^$L2 |^$L3 " /proc/mounts && fail "a pool device is still mounted" || pass "no pool device mounted"
expect_nothing_left "after the set-up faults"
finish
