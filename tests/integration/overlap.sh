#!/bin/bash
# Two runs at once on one host, with tracefs not mounted beforehand: the run
# that ends first must not take tracefs away from the other (which would then
# report unproven paths and leak its instances), and each run removes only
# its own tracefs instances. tracefs is unmounted only inside a private mount
# namespace of this test, so other users of the host are not disturbed.
. "$(dirname "$0")/lib.sh"

if [ -z "${DT_IN_NS:-}" ]; then
  set +e
  DT_IN_NS=1 WORK=$WORK unshare -m --propagation private bash "$0"
  rc=$?
  set -e
  [ "$rc" -eq 0 ] && pass "overlapping runs in a private mount namespace" || fail "overlap checks failed"
  finish
  exit
fi

umount /sys/kernel/tracing 2>/dev/null || true
if grep -q " tracefs " /proc/mounts; then fail "tracefs still mounted in the namespace"; fi

cd "$WORK"
"$DT" run dio-mmap-same-range dsync-dio-write --results "$WORK/results-long" >"$WORK/out-long" 2>&1 &
long=$!
sleep 2
# The short run also plants a kernel WARNING (selftest-dmesg): its own case
# must fail on it, the long run beside it must not.
"$DT" run partial-dio-write selftest-dmesg --results "$WORK/results-short" >"$WORK/out-short" 2>&1 &
short=$!
set +e
wait $short; rc_short=$?
kill -0 $long 2>/dev/null; long_still_running=$?
wait $long; rc_long=$?
set -e
cat "$WORK/out-long"
expect_eq "$rc_short" 1 "the short run fails only its planted-WARNING self-test"
expect_eq "$(case_field "$WORK/results-short/latest/summary.json" partial-dio-write status)" pass "the short run's real case passes"
expect_eq "$(case_field "$WORK/results-short/latest/summary.json" selftest-dmesg status)" fail "selftest-dmesg fails on its own line"
expect_eq "$rc_long" 0 "the long run passes"
expect_eq "$long_still_running" 0 "the long run was still running when the short one ended"
grep -q " tracefs " /proc/mounts && pass "tracefs stays mounted" || fail "tracefs was unmounted"
for r in long short; do
  s="$WORK/results-$r/latest/summary.json"
  if grep -q '[0-9] unproven' "$s"; then fail "$r: a path is unproven: $(grep -o '"summary": "path[^"]*' "$s")"; else pass "$r: every path proven"; fi
done
left=$(ls /sys/kernel/tracing/instances | grep "^diotorture-" | grep -E "^diotorture-($long|$short)\." || true)
[ -z "$left" ] && pass "no tracefs instance of either run left" || fail "tracefs instances left: $left"
expect_nothing_left "after both runs"
finish
