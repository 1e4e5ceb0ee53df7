#!/bin/bash
# A case that declares a filesystem of its own gets one made that way, and
# every case's filesystem is checked after it (scrub + btrfs check): the
# selftest-fs group proves both on real loop btrfs, and on a --test-dir the
# own-filesystem case is "not run" with the reason.
. "$(dirname "$0")/lib.sh"

set +e
out=$("$DT" run -g selftest-fs --results "$WORK/results" 2>&1)
rc=$?
set -e
echo "$out"
S=$WORK/results/latest/summary.json
expect_eq "$rc" 1 "the corrupted block fails the run"
expect_eq "$(case_field "$S" selftest-own-fs status)" pass "the declared filesystem was made as declared"
expect_contains "$(case_field "$S" selftest-own-fs notes)" "mkfs --csum xxhash" "the case's own filesystem is named"
expect_contains "$(case_field "$S" selftest-own-fs fs_check)" "btrfs check --readonly clean" "its filesystem was checked"
expect_eq "$(case_field "$S" selftest-fsck status)" fail "the check after the case fails it"
expect_contains "$(case_field "$S" selftest-fsck reason)" "filesystem check after the case: scrub found errors" "the reason names the check"
grep -q "1 checksum errors" "$WORK/results/latest/selftest-fsck.fsck" && pass "the checker's output is saved" || fail "no .fsck"
expect_nothing_left "after per-case filesystems"

# On a --test-dir nothing may be formatted: the case does not run, and says why.
img=$WORK/td.img
truncate -s 1G "$img"
mkfs.btrfs -q "$img"
mkdir -p "$WORK/td"
mount -o loop "$img" "$WORK/td"
set +e
out=$("$DT" run selftest-own-fs --test-dir "$WORK/td" --results "$WORK/results" 2>&1)
rc=$?
set -e
echo "$out"
umount "$WORK/td"
expect_eq "$rc" 0 "a case that cannot run is not a failure"
expect_contains "$(case_field "$WORK/results/latest/summary.json" selftest-own-fs reason)" \
  "needs a filesystem of its own" "not run on a --test-dir, with the reason"
finish
