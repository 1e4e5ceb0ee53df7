#!/bin/bash
# A control run on a filesystem without NOCOW (docs/filesystem.md recommends
# ext4 or xfs runs as controls): --allow-fs ext4 runs each case's datasum variant
# only and says the NOCOW variant did not run, instead of failing every case
# on chattr +C; cases whose needs ext4 cannot meet do not run, with a reason.
. "$(dirname "$0")/lib.sh"
img=$WORK/ext4.img
truncate -s 1G "$img"
mkfs.ext4 -q "$img"
mkdir -p "$WORK/ext4"
mount -o loop "$img" "$WORK/ext4"
set +e
out=$("$DT" run partial-dio-write csum-mutate --test-dir "$WORK/ext4" --allow-fs ext4 -p sizes=1m -p faults=none,half \
  --results "$WORK/results" 2>&1)
rc=$?
set -e
umount "$WORK/ext4"
echo "$out"
S=$WORK/results/latest/summary.json
expect_eq "$rc" 0 "the control run passes"
expect_eq "$(case_field "$S" partial-dio-write status)" pass "the datasum variant ran and passed on ext4"
expect_contains "$(case_field "$S" partial-dio-write notes)" "ext4 has no NOCOW files (chattr +C): the nocow variant did not run" \
  "it says the NOCOW variant did not run"
expect_eq "$(case_field "$S" csum-mutate status)" notrun "a case that needs data checksums does not run on ext4"
expect_contains "$(case_field "$S" csum-mutate reason)" "needs data checksums" "and says why"
finish
