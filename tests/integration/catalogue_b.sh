#!/bin/bash
# Known-bug catalogue, families 8-14 (issue 12, part B), on this kernel:
# the cases that pass here pass and state their layout and path; the cases
# that need a filesystem of their own (small, a profile, a checksum) run on
# one and refuse another with the options that make one; the mirror
# self-tests get their bad outcome from the kernel and report it exactly.
. "$(dirname "$0")/lib.sh"
cd "$WORK"

run_dt() { set +e; out=$("$DT" run "$@" --results "$WORK/results" 2>&1); rc=$?; set -e; S=$WORK/results/latest/summary.json; }

# Single-device cases with fast parameters.
run_dt dio-file-position st-blocks-overwrite snapshot-mixed-writes -p sizes=64k
expect_eq "$rc" 0 "position, st_blocks and snapshot cases pass on this kernel"
for id in dio-file-position st-blocks-overwrite snapshot-mixed-writes; do
  expect_eq "$(case_field "$S" $id status)" pass "$id passes"
done
grep -q "^path nocow write .*: direct" "$WORK/results/latest/dio-file-position.full" \
  && pass "dio-file-position: NOCOW write(2) proven direct" || fail "dio-file-position: no direct path proven"
grep -q "^layout .* (snapshot): written range" "$WORK/results/latest/snapshot-mixed-writes.full" \
  && pass "snapshot-mixed-writes: the snapshot's layout is reported" || fail "snapshot-mixed-writes: no snapshot layout"

# Low space: refused on a big filesystem, run on a 1 GiB one.
run_dt enospc-nocow-overwrite -p block-sizes=1m -p file-size=2m
expect_eq "$(case_field "$S" enospc-nocow-overwrite status)" pass "the enospc case fills a 1 GiB filesystem of its own"
expect_contains "$(case_field "$S" enospc-nocow-overwrite notes)" "ran on a filesystem of its own" "made for it by the runner"
run_dt enospc-nocow-overwrite selftest-enospc-nocow-overwrite --scratch-size 1G -p block-sizes=1m -p file-size=2m
expect_eq "$(case_field "$S" enospc-nocow-overwrite status)" pass "NOCOW and prealloc overwrites succeed on the full filesystem"
grep -q "full: a 1 MiB buffered write of new data fails with ENOSPC" "$WORK/results/latest/enospc-nocow-overwrite.full" \
  && pass "the filesystem was proven full" || fail "fullness not proven"
expect_eq "$(case_field "$S" selftest-enospc-nocow-overwrite status)" fail "self-test: a COW overwrite at ENOSPC is a FAIL"
expect_contains "$(case_field "$S" selftest-enospc-nocow-overwrite reason)" "failed: ENOSPC" "self-test names ENOSPC"

# RAID checksums: the right filesystem runs, another is refused with the fix.
run_dt raid-csum-dio-read-blake2-raid0 raid-csum-dio-read-xxhash-raid0 selftest-raid-csum-dio-read --profile raid0 --mkfs-options "--csum blake2" -p sizes=1m
expect_eq "$(case_field "$S" raid-csum-dio-read-blake2-raid0 status)" pass "blake2 raid0 direct reads across stripes pass"
grep -q "lives in 16 64K stripe elements on 2 devices" "$WORK/results/latest/raid-csum-dio-read-blake2-raid0.full" \
  && pass "the read is proven to span stripes on both devices" || fail "stripes not proven"
expect_eq "$(case_field "$S" raid-csum-dio-read-xxhash-raid0 status)" pass "the xxhash case gets an xxhash filesystem of its own"
expect_contains "$(case_field "$S" raid-csum-dio-read-xxhash-raid0 notes)" "--csum xxhash" "made as it declares"
expect_eq "$(case_field "$S" selftest-raid-csum-dio-read status)" fail "self-test: a corrupt block fails the striped read"
expect_contains "$(case_field "$S" selftest-raid-csum-dio-read reason)" "datasum/1M psync read [0x0,+1M)" "self-test names the read"

# Read repair on raid1, and its NOCOW self-test.
run_dt dio-read-repair selftest-dio-read-repair --profile raid1 -p sizes=128k
expect_eq "$(case_field "$S" dio-read-repair status)" pass "a corrupt copy is read around and rewritten"
grep -q "after the direct reads: 64 of 64 block copies on the devices hold the written bytes" "$WORK/results/latest/dio-read-repair.full" \
  && pass "every copy holds the written bytes after the reads" || fail "copies not verified after the reads"
grep -Eq "the reads found [1-9][0-9]* corrupt blocks" "$WORK/results/latest/dio-read-repair.full" \
  && pass "a read reached the corrupt copy (device corruption counters)" || fail "no read reached the corrupt copy"
expect_eq "$(case_field "$S" selftest-dio-read-repair status)" fail "self-test: without checksums the bad copy is read"
expect_contains "$(case_field "$S" selftest-dio-read-repair failures)" "is still corrupt" "self-test: and left corrupt"
expect_nothing_left "after the catalogue runs"
finish
