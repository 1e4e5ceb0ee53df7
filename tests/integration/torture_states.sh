#!/bin/bash
# diotorture torture --events state: a held state really holds — the kernel
# (BTRFS_IOC_BALANCE_PROGRESS) said "paused" when each op carrying it started
# and ended — and a replay of the op log holds it again at the same steps;
# summary.json and the console end with the op kind x state table; an
# unreadable --coverage-baseline is bad input; coverage says in one line why
# it is not recorded where the kernel refuses it; nothing is left behind.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
trap cleanup_work EXIT

expect_usage_error "no such readable file" "missing coverage baseline" "$DT" torture --coverage-baseline "$WORK/nope.txt"

# Seed 36: step 2 holds balance-paused for 115 steps (the generator is the
# same on every machine); 100 ops end before the window does.
set +e
"$DT" torture --seed 36 --ops 100 --events state --files 2 --no-progress --no-shrink --results "$WORK/r1" \
  >"$WORK/r1.out" 2>&1
rc=$?
set -e
expect_eq "$rc" 0 "a run holding a balance paused passes"
LOG="$WORK/r1/latest/torture/oplog.jsonl"
SUM="$WORK/r1/latest/torture/summary.json"

# (seq, state) of every op the kernel confirmed in a state, and the event's own record.
held() {
  python3 - "$1" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ev = [r for r in rows if r.get("event") == "state"]
e = ev[0]
print("EVENT", e["seq"], e["arg"], e["window"], e.get("note", "").split(" ")[0], e.get("res"))
lo, hi = e["seq"], e["seq"] + e["window"]
# The ops strictly inside the window: the release starts when op seq+window starts.
for r in rows:
    if "op" in r and lo < r["seq"] < hi:
        print(r["seq"], ",".join(r.get("states", [])) or "-")
PY
}
held "$LOG" >"$WORK/r1.held"
ev=$(head -1 "$WORK/r1.held")
expect_contains "$ev" "EVENT 2 balance-paused 115 held" "step 2 held a balance paused (the kernel confirmed it)"
paused=$(grep -c ' balance-paused$' "$WORK/r1.held" || true)
inside=$(($(wc -l <"$WORK/r1.held") - 1))
[ "$paused" -ge 90 ] && [ "$paused" -eq "$inside" ] &&
  pass "all $paused ops inside the window ran while BTRFS_IOC_BALANCE_PROGRESS said paused" ||
  fail "$paused of $inside ops inside the window carry balance-paused"
expect_contains "$(cat "$WORK/r1.out")" "STATES    -- op kind x held state:" "the console ends with the state table"
expect_contains "$(cat "$WORK/r1.out")" "balance-paused" "the table names the held state"
python3 - "$SUM" <<'PY' && pass "summary.json states: the table, visited cells and the hold" || fail "summary.json states"
import json, sys
s = json.load(open(sys.argv[1]))["states"]
cells = s["table"]["balance-paused"]
assert sum(c["ops"] for c in cells.values()) >= 90, cells
assert s["cells_visited"] >= 5 and s["cells"] >= s["cells_visited"], s
assert s["holds"]["balance-paused"] == {"tried": 1, "held": 1}, s["holds"]
PY
cov=$(grep '^COVERAGE' "$WORK/r1.out" | head -1)
if grep -q '"available": true' "$SUM"; then
  [ -s "$WORK/r1/latest/torture/coverage.txt" ] && pass "coverage recorded: $cov" || fail "coverage.txt missing"
else
  expect_contains "$cov" "not recorded:" "coverage unavailable on this kernel: one line says why ($cov)"
fi

# The replay holds the same state at the same steps.
set +e
"$DT" torture --replay "$LOG" --no-progress --no-shrink --results "$WORK/r2" >"$WORK/r2.out" 2>&1
rc=$?
set -e
expect_eq "$rc" 0 "the replay passes"
held "$WORK/r2/latest/torture/oplog.jsonl" >"$WORK/r2.held"
if cmp -s "$WORK/r1.held" "$WORK/r2.held"; then pass "the replay held balance-paused at the same steps"; else
  fail "the replay's states differ"; diff "$WORK/r1.held" "$WORK/r2.held" | head -5; fi

expect_nothing_left "torture_states"
left=$(ls /sys/kernel/tracing/instances 2>/dev/null | grep "^diotorture-" || true)
expect_eq "$left" "" "no tracefs instance of ours is left"
finish
