#!/bin/bash
# The detectors and the watchdog, proven on real kernel outcomes: each
# selftest case must end with exactly the status and message it provokes.
. "$(dirname "$0")/lib.sh"

set +e
start=$(date +%s)
out=$(cd "$WORK" && "$DT" run -g selftest --timeout 5 --results "$WORK/results" 2>&1)
rc=$?
set -e
echo "$out"
R=$WORK/results/latest
S=$R/summary.json
expect_eq "$rc" 3 "a hang makes the exit status 3"

expect_eq "$(case_field "$S" selftest-hang status)" hang "the uffd-blocked read is a HANG"
python3 -c "import json,sys; d=json.load(open('$S')); c=[c for c in d['cases'] if c['id']=='selftest-hang'][0]; sys.exit(0 if c['duration_s'] <= 5+2 else 1)" \
  && pass "HANG reported within timeout + 2 s" || fail "HANG took longer than timeout + 2 s"
grep -q handle_userfault "$R/selftest-hang.stacks" && pass "stacks show the blocked kernel path" || fail "no handle_userfault in stacks"
expect_contains "$(case_field "$S" selftest-hang reason)" "handle_userfault" "hang reason names where it blocked"

# A task that SIGKILL cannot release: reported, not waited for, and the run
# goes on with a fresh scratch filesystem.
expect_eq "$(case_field "$S" selftest-d-state status)" hang "the frozen-fs writer is a HANG"
expect_eq "$(case_field "$S" selftest-d-state stuck_in_d_state)" True "it is reported as stuck in D state"
expect_contains "$(case_field "$S" selftest-d-state reason)" "still in D state after SIGKILL" "the reason says so"
grep -q "After SIGKILL" "$R/selftest-d-state.stacks" && pass "stacks after SIGKILL saved" || fail "no post-kill stacks"
expect_contains "$out" "continuing on a fresh scratch filesystem" "the run continues on a fresh filesystem"
python3 -c "import json,sys; d=json.load(open('$S')); c=[c for c in d['cases'] if c['id']=='selftest-d-state'][0]; sys.exit(0 if c['duration_s'] <= 5+2+1 else 1)" \
  && pass "D-state HANG reported without waiting for the task" || fail "the runner waited for the stuck task"

# The cases after the hangs still ran.
expect_eq "$(case_field "$S" selftest-wrong-data status)" fail "wrong data is a FAIL"
expect_contains "$(case_field "$S" selftest-wrong-data reason)" "first bad byte at offset 0x3000; 1 bad range (4096 bytes): [0x3000,0x4000) wrong" "wrong data names the exact range"
expect_eq "$(case_field "$S" selftest-short-read status)" fail "short read is a FAIL"
expect_contains "$(case_field "$S" selftest-short-read reason)" "short read (datasum pread): 32768 of 65536 bytes at offset 0x0" "short read names the count"
expect_eq "$(case_field "$S" selftest-hole status)" fail "hole is a FAIL"
expect_contains "$(case_field "$S" selftest-hole failures)" "unexpected hole [0x40000,0x50000)" "hole named with offsets"
expect_contains "$(case_field "$S" selftest-hole failures)" "[0x40000,0x50000) zero-filled" "zero-filled range named"
expect_eq "$(case_field "$S" selftest-dmesg status)" fail "kernel log WARNING is a FAIL"
grep -q "WARNING: selftest-dmesg" "$R/selftest-dmesg.dmesg" && pass "dmesg excerpt saved" || fail "no .dmesg excerpt"
# The catalogue's detectors whose bugs no bootable kernel still has (issue 12).
expect_eq "$(case_field "$S" selftest-dio-fsync-kmsg status)" fail "generic/364 assertion in the kernel log is a FAIL"
expect_contains "$(case_field "$S" selftest-dio-fsync-kmsg kernel_log)" "assertion failed: inode_is_locked" "the btrfs assertion is named"
expect_contains "$(case_field "$S" selftest-dio-fsync-kmsg kernel_log)" "bad unlock balance" "the double unlock is named"
expect_eq "$(case_field "$S" selftest-fsync-prealloc-kmsg status)" fail "generic/748 crash in the kernel log is a FAIL"
expect_contains "$(case_field "$S" selftest-fsync-prealloc-kmsg kernel_log)" "kernel BUG at fs/btrfs/ctree.c" "the BUG is named"
expect_eq "$(case_field "$S" selftest-nowait-write-eagain status)" fail "EAGAIN where btrfs/226 wants success is a FAIL"
expect_contains "$(case_field "$S" selftest-nowait-write-eagain reason)" "RWF_NOWAIT write returned EAGAIN; btrfs/226 expects it to succeed" "the NOWAIT verdict is named"
expect_eq "$(case_field "$S" selftest-stale-page-cache status)" fail "a stale buffered view is a FAIL"
expect_contains "$(case_field "$S" selftest-stale-page-cache reason)" "stale page cache: a buffered read of [0, +4096)" "the stale range is named"
# The catalogue detectors (issue 12, families 8, 9, 12, 13, 14), each fed
# its bug's bad outcome by real system calls.
expect_eq "$(case_field "$S" selftest-st-blocks status)" fail "st_blocks 0 at a non-zero size is a FAIL"
expect_contains "$(case_field "$S" selftest-st-blocks reason)" "st_blocks 0 with st_size 1048576" "names st_blocks and the size"
expect_eq "$(case_field "$S" selftest-dio-file-position status)" fail "a position that did not move is a FAIL"
expect_contains "$(case_field "$S" selftest-dio-file-position reason)" "file position 0x10000 after a 65536-byte transfer at position 0x10000; it must be 0x20000: the position did not move" "names both positions"
expect_eq "$(case_field "$S" selftest-partial-dio-user-copy status)" fail "EFAULT after bytes were written is a FAIL"
expect_contains "$(case_field "$S" selftest-partial-dio-user-copy reason)" "returned EFAULT, so [0x10000,0x20000) must be unchanged: wrong data: first bad byte at offset 0x10000" "names the changed range"
expect_eq "$(case_field "$S" selftest-snapshot-mixed-writes status)" fail "a snapshot with a hole before the direct data is a FAIL"
expect_contains "$(case_field "$S" selftest-snapshot-mixed-writes failures)" "the snapshot holds the later direct write but not the earlier buffered write" "names the 609e804d771f outcome"
expect_contains "$(case_field "$S" selftest-snapshot-mixed-writes failures)" "unexpected hole [0x0,0x10000)" "names the hole"
# It fills its filesystem, so it runs only on a small one of its own.
st=$(case_field "$S" selftest-enospc-nocow-overwrite status)
if [ "$st" = notrun ]; then
  expect_contains "$(case_field "$S" selftest-enospc-nocow-overwrite reason)" "--scratch-size 1G" "enospc self-test says how to run it"
else
  expect_eq "$st" fail "a COW overwrite on the full filesystem is a FAIL"
  expect_contains "$(case_field "$S" selftest-enospc-nocow-overwrite reason)" "failed: ENOSPC" "names ENOSPC"
fi
ran=$(python3 -c "import json; d=json.load(open('$S')); print(sum(c['status'] != 'notrun' for c in d['cases']))")
expect_contains "$out" "Failed $ran of $ran cases" "summary counts the failures: every self-test that ran failed"
# selftest-d-state's helper thaws the abandoned filesystem 13 s after that case began.
expect_nothing_left_within "after the hangs and the thaw" 30
finish
