#!/bin/bash
# SIGINT/SIGTERM of torture (issue 27, item 7): during the run, summary.json
# says "interrupted" beside the op log so far; during shrinking the failure
# stands, the summary is marked interrupted, and the smallest failing
# candidate found so far is kept as minimal.jsonl. Nothing is left behind.
. "$(dirname "$0")/lib.sh"

export DIOTORTURE_STATE_DIR=$WORK/state
summary_field() {  # file key.path
  python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v=v.get(k, "") if isinstance(v, dict) else ""
print(v)' "$1" "$2"
}

# 1. SIGTERM during the run.
("$DT" torture --seed 2 --duration 120s --events none --no-progress --results "$WORK/run" >"$WORK/run.out" 2>&1) &
pid=$!
for _ in $(seq 300); do compgen -G "$WORK/run/*/torture/oplog.jsonl" >/dev/null && break; sleep 0.1; done
sleep 3
kill -TERM $pid
set +e
wait $pid
rc=$?
set -e
cat "$WORK/run.out" | tail -3
expect_eq "$rc" 143 "torture killed with SIGTERM exits 143"
S=$(ls "$WORK"/run/*/torture/summary.json 2>/dev/null | head -1 || true)
[ -n "$S" ] && pass "summary.json written" || fail "no summary.json after SIGTERM"
[ -n "$S" ] && expect_eq "$(summary_field "$S" status)" interrupted "summary.json: status interrupted"
[ -n "$S" ] && expect_eq "$(summary_field "$S" exit_code)" 143 "summary.json: exit_code 143"
[ "$(wc -l <"$(dirname "$S")/oplog.jsonl")" -gt 1 ] && pass "the op log so far is kept" || fail "op log empty"
expect_nothing_left "after SIGTERM"

# 2. SIGINT while shrinking an injected failure.
(DIOTORTURE_TORTURE_INJECT=uffd-wrong-page "$DT" torture --seed 5 --ops 300 --no-progress --shrink-budget 240 \
  --results "$WORK/inj" >"$WORK/inj.out" 2>&1) &
pid=$!
# The summary says fail before the shrinker starts; let it try a few candidates.
for _ in $(seq 600); do
  S=$(ls "$WORK"/inj/*/torture/summary.json 2>/dev/null | head -1 || true)
  [ -n "$S" ] && break
  sleep 0.1
done
# The shrinker tries a candidate in a fraction of a second here (16 in 3 s):
# a second in, it is mid-way, with or without a smaller failing one yet.
sleep 1
kill -INT $pid 2>/dev/null || fail "torture had finished shrinking before the SIGINT; interrupt it sooner"
set +e
wait $pid
rc=$?
set -e
tail -4 "$WORK/inj.out"
expect_eq "$rc" 130 "torture interrupted while shrinking exits 130"
expect_eq "$(summary_field "$S" status)" fail "the failure stands"
expect_eq "$(summary_field "$S" interrupted)" "during shrinking" "summary.json: interrupted during shrinking"
after=$(summary_field "$S" shrink.steps_after)
before=$(summary_field "$S" shrink.steps_before)
if [ -n "$after" ]; then
  [ -s "$(dirname "$S")/minimal.jsonl" ] && pass "minimal.jsonl kept ($after of $before steps)" || fail "steps_after without minimal.jsonl"
  [ "$after" -lt "$before" ] && pass "the kept candidate is smaller" || fail "kept candidate not smaller: $after vs $before"
  expect_contains "$(cat "$WORK/inj.out")" "the smallest failing one so far ($after steps)" "it says so"
else
  [ ! -e "$(dirname "$S")/minimal.jsonl" ] && pass "no smaller candidate failed yet, none claimed" || fail "minimal.jsonl without steps_after"
  expect_contains "$(cat "$WORK/inj.out")" "none smaller failed yet" "it says so"
fi
expect_nothing_left "after SIGINT while shrinking"
[ -z "$(ls -A "$WORK/state" 2>/dev/null)" ] && pass "no record left" || fail "records left: $(ls "$WORK/state")"
finish
