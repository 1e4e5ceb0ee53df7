#!/bin/bash
# SIGINT in the middle of a case: the tool kills the case, unmounts, detaches
# the loop device, deletes the image, keeps the finished results, exits 130.
. "$(dirname "$0")/lib.sh"

(cd "$WORK" && exec "$DT" run dio-mmap-same-range partial-dio-write --results "$WORK/results" >"$WORK/out" 2>&1) &
pid=$!
# Wait until a case is running (its log exists), then interrupt.
for _ in $(seq 1 300); do
  compgen -G "$WORK/results/*/*.full.tmp" >/dev/null && break
  sleep 0.1
done
compgen -G "$WORK/results/*/*.full.tmp" >/dev/null && pass "a case was running" || fail "no case started"
sleep 0.5
kill -INT $pid
set +e
wait $pid
rc=$?
set -e
cat "$WORK/out"
expect_eq "$rc" 130 "interrupted run exits 128+SIGINT"
expect_contains "$(cat "$WORK/out")" "interrupted" "says it was interrupted"
[ -s "$WORK/results/latest/summary.json" ] && pass "summary.json kept" || fail "summary.json missing"
expect_nothing_left "after SIGINT"
finish
