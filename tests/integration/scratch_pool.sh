#!/bin/bash
# A scratch device pool (fstests SCRATCH_DEV_POOL) is formatted only when
# that is safe: a device in use is always refused, one holding a filesystem
# unless --force-mkfs is given; the refusal names the device and what is on
# it, exits 2, and nothing is written to any device of the pool.
. "$(dirname "$0")/lib.sh"
cd "$WORK"

LOOPS=()
cleanup_pool() {
  umount "$WORK/busy" 2>/dev/null || true
  for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null || true; done
  cleanup_work
}
trap cleanup_pool EXIT
# Sets $DEV (no command substitution: LOOPS must grow in this shell).
attach() { truncate -s 1G "$WORK/$1.img"; DEV=$(losetup -f --show "$WORK/$1.img"); LOOPS+=("$DEV"); }
# Sectors written to the pool devices so far (field 7 of the block layer's stat).
written() { for d in "$BLANK" "$VICTIM"; do awk '{printf "%s ", $7}' "/sys/block/${d#/dev/}/stat"; done; }

attach blank && BLANK=$DEV
attach victim && VICTIM=$DEV
mkfs.btrfs -q -f -L victim "$VICTIM" >/dev/null
attach busy && BUSY=$DEV
mkfs.btrfs -q -f -L busy "$BUSY" >/dev/null
mkdir -p "$WORK/busy" && mount "$BUSY" "$WORK/busy" && echo keep >"$WORK/busy/data" && sync -f "$WORK/busy/data"
before=$(written)


expect_usage_error "refusing scratch device $VICTIM (from SCRATCH_DEV_POOL environment variable): it holds a btrfs filesystem (LABEL=victim UUID=" \
  "pool device with a filesystem" env SCRATCH_DEV_POOL="$BLANK $VICTIM" "$DT" run mirror-mutate --profile raid1
expect_usage_error "pass --force-mkfs to erase it" "the refusal names the fix" \
  "$DT" run mirror-mutate --profile raid1 --scratch-dev-pool "$BLANK $VICTIM"
expect_usage_error "refusing scratch device $BUSY (from --scratch-dev-pool): it is mounted on $WORK/busy" "mounted pool device" \
  "$DT" run mirror-mutate --profile raid1 --scratch-dev-pool "$BLANK $BUSY" --force-mkfs
expect_usage_error "is not a block device" "a regular file in the pool" \
  "$DT" run mirror-mutate --profile raid1 --scratch-dev-pool "$BLANK $WORK/victim.img"
expect_usage_error "profile raid1c3 needs at least 3 devices" "too few devices" \
  "$DT" run mirror-mutate --profile raid1c3 --scratch-dev-pool "$BLANK $VICTIM"
expect_usage_error "give one or the other" "--test-dir with --profile" \
  "$DT" run mirror-mutate --profile raid1 --test-dir "$WORK/busy"
expect_usage_error "did you mean 'raid1'" "misspelt profile" "$DT" run mirror-mutate --profile raid-1
expect_eq "$(written)" "$before" "not one sector was written to the refused pool devices"
expect_eq "$(cat "$WORK/busy/data")" keep "the mounted device is untouched and still mounted"

# With --force-mkfs the devices holding a filesystem are formatted and used.
set +e
mkdir -p "$WORK/smnt"
out=$(env SCRATCH_MNT="$WORK/smnt" "$DT" run mirror-mutate --profile raid1 --scratch-dev-pool "$BLANK $VICTIM" --force-mkfs \
  -p engines=pwrite -p block-sizes=1m -p file-size=1m --results "$WORK/results" 2>&1)
rc=$?
set -e
echo "$out" | head -8
expect_eq "$rc" 0 "--force-mkfs: the pool is formatted and the case runs"
S=$WORK/results/latest/summary.json
expect_contains "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["provisioning"])' "$S")" \
  "formatted raid1 btrfs on scratch pool $BLANK $VICTIM from --scratch-dev-pool at $WORK/smnt" "provisioning names the pool and SCRATCH_MNT"
expect_eq "$(case_field "$S" mirror-mutate status)" pass "mirror-mutate passes on the pool"
expect_contains "$(blkid -p -o export "$VICTIM")" "LABEL=diotorture" "the forced device now holds the scratch filesystem"
if grep -q "^$BLANK \|^$VICTIM " /proc/mounts; then fail "pool left mounted"; else pass "pool unmounted after the run"; fi

# Blank devices need no flag; SCRATCH_DEV_POOL from local.config, as in fstests.
attach blank2 && B2=$DEV
attach blank3 && B3=$DEV
echo "SCRATCH_DEV_POOL=\"$B2 $B3\"" >"$WORK/local.config"
set +e
"$DT" run mirror-mutate --profile raid1 -p engines=pwrite -p block-sizes=1m -p file-size=1m --results "$WORK/results" >/dev/null 2>&1
rc=$?
set -e
rm "$WORK/local.config"
expect_eq "$rc" 0 "blank pool devices from local.config are formatted without --force-mkfs"
expect_contains "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["provisioning"])' "$WORK/results/latest/summary.json")" \
  "scratch pool $B2 $B3 from local.config" "provisioning names local.config"
expect_nothing_left "after the pool runs"
finish
