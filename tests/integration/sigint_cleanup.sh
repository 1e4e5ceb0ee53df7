#!/bin/bash
# SIGINT in the middle of a case: the tool kills the case, unmounts, detaches
# the loop device, deletes the image, keeps the finished results, exits 130.
. "$(dirname "$0")/lib.sh"

(cd "$WORK" && exec "$DT" run dio-mmap-same-range partial-dio-write --results "$WORK/results" >"$WORK/out" 2>&1) &
pid=$!
# Wait until a case is running (its log exists), then interrupt.
wait_case_running "$WORK/results" && pass "a case was running" || fail "no case started"
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
# The records must not look green: interrupted, 130, and the cases that did not run.
summary=$WORK/results/latest/summary.json
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$summary" "$1"; }
expect_eq "$(field outcome)" interrupted "summary.json: outcome interrupted"
expect_eq "$(field exit_code)" 130 "summary.json: exit_code 130"
expect_contains "$(field not_run)" "partial-dio-write" "summary.json: the case after it did not run"
expect_contains "$(case_field "$summary" partial-dio-write reason)" "not run: the run was interrupted (SIGINT)" \
  "summary.json: why it did not run"
junit=$(cat "$WORK/results/latest/junit.xml")
expect_contains "$junit" '<error type="interrupted" message="run interrupted (SIGINT); exit status 130; not run:' \
  "junit.xml: an error for the interrupted run"
expect_nothing_left "after SIGINT"

# bench: SIGTERM stops it within seconds, cleans up, exits 128+15.
(cd "$WORK" && exec "$DT" bench --file-size 1G --repetitions 20 --targets nodatasum --engines psync \
  --results "$WORK/bench-results" >"$WORK/bench-out" 2>&1) &
pid=$!
for _ in $(seq 1 300); do
  compgen -G "$WORK/bench-results/*/" >/dev/null && break
  sleep 0.1
done
sleep 2
t0=$(date +%s.%N)
kill -TERM $pid
set +e
wait $pid
rc=$?
set -e
secs=$(echo "$(date +%s.%N) - $t0" | bc)
cat "$WORK/bench-out"
expect_eq "$rc" 143 "bench exits 128+SIGTERM"
[ "$(echo "$secs < 5" | bc)" = 1 ] && pass "bench stopped in ${secs}s" || fail "bench took ${secs}s to stop"
expect_contains "$(cat "$WORK/bench-out")" "interrupted" "bench says it was interrupted"
[ ! -e "$WORK/bench-results/latest/bench.json" ] && pass "no bench.json from an interrupted bench" || fail "an interrupted bench wrote bench.json"
expect_nothing_left "after bench SIGTERM"
finish
