#!/bin/bash
# Every evidence source for the I/O path must reach the same verdicts: the
# quick group runs once per source forced with DIOTORTURE_PATH_EVIDENCE
# (iomap tracepoints, kprobes, block-layer events) and the per-key verdict
# counts in summary.json must be identical. A source the kernel lacks (this
# host's 6.18 is built without kprobes) must give "unproven" with a reason
# naming what is missing, never a guessed verdict. And no run may leave a
# tracefs instance or a kprobe behind.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
T=/sys/kernel/tracing

run_forced() {  # source args...
  local src=$1
  shift
  set +e
  DIOTORTURE_PATH_EVIDENCE=$src "$DT" run --results "$WORK/r-$src" "$@" >"$WORK/$src.log" 2>&1
  local rc=$?
  set -e
  # 1: a case failed (the kernel log is shared with other runs on this host);
  # the verdicts are what this test compares.
  [ "$rc" = 0 ] || [ "$rc" = 1 ] && pass "$src: the run finished ($rc)" || { cat "$WORK/$src.log"; fail "$src: exit $rc"; }
}

# Two catalogue cases issue I/Os that fail by design before moving any data
# (RWF_NOWAIT writes answered EAGAIN, writes from a PROT_NONE tail answered
# EFAULT): iomap entry events call those "buffered" (never entered), while
# block-layer evidence alone cannot tell "nothing moved" from "direct". The
# comparison is about I/Os that moved data, so they sit this one out.
printf '%s\n' nowait-write partial-dio-user-copy >"$WORK/no-data-ios.expunge"
set -- -E "$WORK/no-data-ios.expunge"
sources=(iomap block)
[ -e $T/kprobe_events ] && sources+=(kprobe)
for src in "${sources[@]}"; do
  run_forced "$src" "$@"
  label=$(case $src in iomap) echo "by iomap tracepoint" ;; kprobe) echo "by kprobe" ;; block) echo "by block-layer events" ;; esac)
  lines=$(cat "$WORK/r-$src"/latest/*.full | grep -c '^path ' || true)
  proven=$(cat "$WORK/r-$src"/latest/*.full | grep -cE "^path .*: (direct|buffered|mixed): $label; " || true)
  [ "$lines" -gt 100 ] && pass "$src: $lines I/Os judged" || fail "$src: only $lines path lines"
  expect_eq "$proven" "$lines" "$src: every I/O proven $label"
  [ "$proven" = "$lines" ] || cat "$WORK/r-$src"/latest/*.full | grep '^path ' | grep -vE ": (direct|buffered|mixed): $label; " | head -5
done

python3 - "${sources[@]}" <<PY && pass "all sources agree on every verdict: ${sources[*]}" || fail "the sources disagree"
import json, sys
runs = {s: json.load(open("$WORK/r-%s/latest/summary.json" % s)) for s in sys.argv[1:]}
verdicts = {s: {c["id"]: c["path"]["by_key"] for c in d["cases"]} for s, d in runs.items()}
base = sys.argv[1]
bad = 0
for s in sys.argv[2:]:
    for case, keys in verdicts[base].items():
        if verdicts[s].get(case) != keys:
            print("%s: %s says %s, %s says %s" % (case, base, keys, s, verdicts[s].get(case)))
            bad += 1
for case, keys in sorted(verdicts[base].items()):
    print("  %-26s %s" % (case, "; ".join("%s %s" % (k, v) for k, v in sorted(keys.items()))))
sys.exit(1 if bad else 0)
PY

if [ ! -e $T/kprobe_events ]; then
  # No kprobes here: forcing them must not guess.
  run_forced kprobe partial-dio-write -p sizes=1m
  F=$WORK/r-kprobe/latest/partial-dio-write.full
  expect_eq "$(grep -c '^path ' "$F")" "$(grep -cE '^path .*: (unproven|buffered): ' "$F")" \
    "kprobe forced without kprobes: no I/O called direct"
  grep -q "^path .*: unproven: no trace (.*kprobe: no kprobe_events in tracefs" "$F" &&
    pass "the unproven verdict names the missing kprobe_events" || fail "no reason naming kprobe_events in $F"
fi

set +e
err=$(DIOTORTURE_PATH_EVIDENCE=ebpf "$DT" run partial-dio-write --results "$WORK/r-bad" 2>&1 >/dev/null)
rc=$?
set -e
expect_eq "$rc" 2 "an unknown forced source is a usage error"
expect_contains "$err" "use iomap, kprobe or block" "naming the choices"

# Nothing of ours left in tracefs: no instance or probe group of a process that is gone.
left=""
for d in $T/instances/diotorture-*; do
  [[ $(basename "$d") =~ ^diotorture-([0-9]+)-[0-9]+$ ]] || continue  # ours are diotorture-<pid>-<n>
  [ -d /proc/${BASH_REMATCH[1]} ] || left+=" $d"
done
[ -e $T/kprobe_events ] && left+=$(grep -o '^p:diotorture_[0-9]*_[0-9]*/[^ ]*' $T/kprobe_events |
  while IFS=_ read -r _ pid _; do [ -d /proc/$pid ] || echo -n " probe of $pid"; done)
[ -z "$left" ] && pass "no tracefs instance or kprobe left" || fail "left behind:$left"
expect_nothing_left "after the forced runs"
finish
