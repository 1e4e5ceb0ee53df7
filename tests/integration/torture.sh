#!/bin/bash
# diotorture torture: bad input exits 2; the same seed gives the same op log;
# an injected failure (the userfaultfd handler serves one wrong page) is
# found, shrunk to at most 5 ops, replayed from minimal.jsonl, and its
# repro.c builds with `cc repro.c -luring` and fails on a fresh btrfs; a fault
# never answered is a HANG (exit 3, stacks); after-completion faults are
# released by a completion seen; a copy corrupted before the end-of-run
# check fails the run; on a --test-dir the check is scrub only and device
# events are not run, saying why; a short run on raid1 with every event
# (device add/remove/replace included) passes with btrfs check clean;
# nothing is left behind.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
LOOPS=()
cleanup_torture() {
  for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null || true; done
  cleanup_work
}
trap cleanup_torture EXIT
attach() { truncate -s 4G "$WORK/$1.img"; DEV=$(losetup -f --show "$WORK/$1.img"); LOOPS+=("$DEV"); }

expect_usage_error "'pwirte' is not an op" "unknown op" "$DT" torture --ops-mix pwirte
expect_usage_error "did you mean 'balance'" "unknown event" "$DT" torture --events balanse
expect_usage_error "did you mean 'device'" "unknown event" "$DT" torture --events devise
expect_usage_error "is not a duration" "bad duration" "$DT" torture --duration 10x
expect_usage_error "give one" "duration and ops" "$DT" torture --duration 1m --ops 5
expect_usage_error "no such readable file" "missing replay" "$DT" torture --replay "$WORK/nope.jsonl"
expect_usage_error "is not a file count" "zero files" "$DT" torture --files 0
expect_usage_error "is not both, nocow or datasum" "bad file kinds" "$DT" torture --file-kinds cow
expect_usage_error "is for a scratch device pool" "--spare-dev without a pool" "$DT" torture --spare-dev /dev/null --ops 1
expect_usage_error "is not known" "unknown injection" env DIOTORTURE_TORTURE_INJECT=bogus "$DT" torture --ops 1

# Determinism: the op log minus timings (events end when they end, so the
# lines are compared in seq order; an event's outcome may depend on timing).
norm() {
  python3 - "$1" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for r in rows:
    for k in ("t_us", "dur_us", "end_seq", "fault_seen", "states"):  # states: what the kernel confirmed, timing
        r.pop(k, None)
    if "event" in r:
        r.pop("res", None); r.pop("note", None)
rows.sort(key=lambda r: (r.get("type") != "header", r.get("seq", 0)))
for r in rows:
    print(json.dumps(r, sort_keys=True))
PY
}
for i in 1 2; do
  set +e
  "$DT" torture --seed 7 --ops 150 --no-progress --results "$WORK/det$i" >"$WORK/det$i.out" 2>&1
  rc=$?
  set -e
  expect_eq "$rc" 0 "determinism run $i passes"
  [ "$rc" = 0 ] || tail -30 "$WORK/det$i.out"  # what failed, before the work directory goes
  norm "$WORK/det$i/latest/torture/oplog.jsonl" >"$WORK/det$i.norm"
done
n=$(grep -c '"op"' "$WORK/det1.norm" || true)
[ "$n" -ge 140 ] && pass "the op log has $n ops" || fail "only $n ops logged"
if cmp -s "$WORK/det1.norm" "$WORK/det2.norm"; then pass "same seed, same op log"; else
  fail "same seed gave different op logs"; diff "$WORK/det1.norm" "$WORK/det2.norm" | head -5; fi
"$DT" torture --seed 8 --ops 20 --no-progress --results "$WORK/det3" >/dev/null 2>&1 || true
norm "$WORK/det3/latest/torture/oplog.jsonl" >"$WORK/det3.norm"
cmp -s "$WORK/det1.norm" "$WORK/det3.norm" && fail "another seed gave the same op log" || pass "another seed, another op log"

# The injected failure: found, shrunk, replayed, reproduced in C.
set +e
DIOTORTURE_TORTURE_INJECT=uffd-wrong-page "$DT" torture --seed 5 --ops 300 --no-progress --shrink-budget 240 \
  --results "$WORK/inj" >"$WORK/inj.out" 2>&1
rc=$?
set -e
cat "$WORK/inj.out"
R=$WORK/inj/latest/torture
expect_eq "$rc" 1 "injected wrong page: exit 1"
field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v=v[k]
print(v)' "$R/summary.json" "$1"; }
expect_eq "$(field failure.kind)" data "the failure is wrong data"
grep -q '"inject_page":0' "$R/oplog.jsonl" && pass "the injection is in the op log" || fail "injection not logged"
ops=$(field shrink.ops_after)
[ "$ops" -le 5 ] && pass "shrunk to $ops ops (<= 5)" || fail "shrunk only to $ops ops"
echo "shrink took $(field shrink.seconds)s over $(field shrink.candidates) candidates"
lines=$(wc -l <"$R/repro.c")
[ "$lines" -lt 200 ] && pass "repro.c has $lines lines" || fail "repro.c has $lines lines"
(cd "$R" && cc repro.c -luring -o "$WORK/repro") && pass "repro.c builds with cc repro.c -luring" || fail "repro.c does not build"

set +e
"$DT" torture --replay "$R/minimal.jsonl" --no-shrink --no-progress --results "$WORK/replay" >"$WORK/replay.out" 2>&1
rc=$?
set -e
expect_eq "$rc" 1 "replaying minimal.jsonl fails again"
expect_contains "$(cat "$WORK/replay.out")" "data:" "the replay fails the same way"

# The repro on a fresh loop btrfs of this test's own.
truncate -s 1G "$WORK/repro.img"
L=$(losetup -f --show "$WORK/repro.img")
mkfs.btrfs -q -f "$L" >/dev/null
mkdir -p "$WORK/rmnt"
mount "$L" "$WORK/rmnt"
set +e
out=$(timeout 120 "$WORK/repro" "$WORK/rmnt" 2>&1)
rc=$?
# The same filesystem as a --test-dir: not ours to unmount or to add devices to.
"$DT" torture --test-dir "$WORK/rmnt" --ops 30 --events device,sync --no-progress --no-shrink --results "$WORK/td" \
  >"$WORK/td.out" 2>&1
tdrc=$?
set -e
cat "$WORK/td.out"
expect_eq "$tdrc" 0 "a --test-dir run passes"
expect_contains "$(cat "$WORK/td.out")" "device events not run: a --test-dir's devices are not the tool's" \
  "device events on a --test-dir: not run, and why"
expect_contains "$(cat "$WORK/td.out")" "fs check: scrub clean; btrfs check not run (a --test-dir is not ours to unmount)" \
  "the end check on a --test-dir is scrub only, and says so"
umount "$WORK/rmnt"
losetup -d "$L"
expect_eq "$rc" 1 "repro exits 1"
expect_eq "$(printf '%s\n' "$out" | wc -l)" 1 "repro prints one line"
expect_contains "$out" "wrong data" "repro says what is wrong: $out"

# The watchdog: a fault never answered (test-only) is a HANG, exit 3, with the
# task stacks and the hung step in the op log; an opted-in uffd-never fault is
# held, noted, released, and the run goes on.
set +e
DIOTORTURE_TORTURE_INJECT=uffd-hang "$DT" torture --seed 5 --ops 300 --stall-timeout 5 --no-shrink --no-progress \
  --results "$WORK/hang" >"$WORK/hang.out" 2>&1
rc=$?
set -e
expect_eq "$rc" 3 "a fault never answered: exit 3"
expect_contains "$(cat "$WORK/hang.out")" "HANG: step" "the hung step is named"
grep -q handle_userfault "$WORK/hang/latest/torture/stacks.txt" && pass "stacks show handle_userfault" || fail "no stacks"
tail -2 "$WORK/hang/latest/torture/oplog.jsonl" | grep -q '"fault":"never"' && pass "the hung step is in the op log" \
  || fail "hung step not logged"
set +e
"$DT" torture --seed 5 --ops 150 --ops-mix dio,uring,uffd-never --events none --no-progress \
  --results "$WORK/never" >"$WORK/never.out" 2>&1
rc=$?
set -e
expect_eq "$rc" 0 "uffd-never faults are held and released"
grep -q "held in the userfaultfd fault for 300 ms" "$WORK/never/latest/torture/oplog.jsonl" \
  && pass "a held fault is noted on its op" || fail "no op noted a held fault"

# A scratch pool: device events only with a device handed over (--spare-dev),
# which is checked like a pool device and must not be one of the pool.
attach p1; P1=$DEV; attach p2; P2=$DEV; attach p3; P3=$DEV
expect_usage_error "is also in the scratch pool" "spare in the pool" \
  "$DT" torture --scratch-dev-pool "$P1 $P2" --profile raid1 --spare-dev "$P2" --ops 1
set +e
"$DT" torture --scratch-dev-pool "$P1 $P2" --profile raid1 --events device --ops 20 --no-progress \
  --results "$WORK/pool0" >"$WORK/pool0.out" 2>&1
rc0=$?
"$DT" torture --scratch-dev-pool "$P1 $P2" --profile raid1 --spare-dev "$P3" --events device --seed 3 --ops 300 \
  --no-progress --no-shrink --results "$WORK/pool" >"$WORK/pool.out" 2>&1
rc=$?
set -e
cat "$WORK/pool.out"
expect_eq "$rc0" 0 "a pool run without a spare passes"
expect_contains "$(cat "$WORK/pool0.out")" "device events not run: every device of the scratch pool is in the filesystem; hand one over with --spare-dev" \
  "no spare on a pool: device events not run, and why"
expect_eq "$rc" 0 "a pool run with --spare-dev passes"
expect_contains "$(cat "$WORK/pool.out")" "SPARE     -- $P3 (--spare-dev" "the handed-over spare is used"
npool=$(grep -c '"event":"device"' "$WORK/pool/latest/torture/oplog.jsonl" || true)
nbad=$(grep '"event":"device"' "$WORK/pool/latest/torture/oplog.jsonl" | grep -vc '"res":\[0\(,0\)*\]' || true)
[ "$npool" -ge 1 ] && [ "$nbad" -eq 0 ] && pass "$npool device events with the spare, all succeeded" \
  || fail "device events on the pool: $npool, $nbad failed"
expect_contains "$(cat "$WORK/pool.out")" "btrfs check --readonly clean" "the pool's devices are whole again for btrfs check"

# after-completion: each held fault is let go when a completion of its op is
# seen (a CQE of another request of the batch, or read data landing in the
# pages before it), and the model's checks pass.
set +e
"$DT" torture --seed 4 --ops 600 --ops-mix dio,uring --events none --no-progress --no-shrink --results "$WORK/ac" \
  >"$WORK/ac.out" 2>&1
rc=$?
set -e
expect_eq "$rc" 0 "after-completion faults: the run passes"
A=$WORK/ac/latest/torture/oplog.jsonl
nac=$(grep -c '"fault":"after-completion"' "$A" || true)
nseen=$(grep -c '"fault_seen":"page [0-9]* held until' "$A" || true)
echo "after-completion ops: $nac; released by a completion seen: $nseen;" \
  "by the bound: $(grep -c 'no completion observable' "$A" || true)"
[ "$nseen" -ge 2 ] && pass "$nseen held faults were released by a completion of their op" \
  || fail "only $nseen held faults saw a completion ($nac after-completion ops)"

# The end-of-run check must find what it is there for: one copy of a data
# block flipped on its device after the I/O (test-only switch) is a FAIL.
set +e
DIOTORTURE_TORTURE_INJECT=corrupt-copy "$DT" torture --seed 2 --ops 60 --events none --no-shrink --no-progress \
  --results "$WORK/cc" >"$WORK/cc.out" 2>&1
rc=$?
set -e
cat "$WORK/cc.out"
expect_eq "$rc" 1 "a corrupted copy: exit 1"
expect_contains "$(cat "$WORK/cc.out")" "fs check: scrub found errors" "the end check's scrub found it"
R=$WORK/cc/latest/torture
expect_eq "$(field fs_check.ok)" False "summary.json: fs_check not ok"
expect_eq "$(field failure.kind)" scrub "summary.json: the failure is the scrub's"
[ -s "$R/fsck.txt" ] && pass "fsck.txt has the checkers' output" || fail "no fsck.txt"

# A short clean run on raid1 with every event. Without buffers mapped from the
# files under test: on 6.18 an O_DIRECT read into an mmap of a checksummed
# file can leave that file reading back EIO (found by this tool, seed 3 at
# ~1800 ops), which is a finding to report, not a flake to keep in CI.
set +e
"$DT" torture --profile raid1 --seed 3 --duration 60s --events all --ops-mix all,no-mmap-buffers --no-progress \
  --results "$WORK/r1" >"$WORK/r1.out" 2>&1
rc=$?
set -e
cat "$WORK/r1.out"
expect_eq "$rc" 0 "60s on raid1 with events passes"
R=$WORK/r1/latest/torture
expect_contains "$(cat "$WORK/r1.out")" "copies compared" "RAID copies were compared"
nev=$(grep -c '"event"' "$R/oplog.jsonl" || true)
[ "$nev" -ge 3 ] && pass "$nev events ran beside the I/O" || fail "only $nev events ran"
expect_contains "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["profile"])' "$R/summary.json")" "data raid1" "the filesystem was raid1"
expect_contains "$(cat "$WORK/r1.out")" "btrfs check --readonly clean" "the end check ran btrfs check unmounted"
expect_eq "$(field fs_check.ok)" True "summary.json: fs_check ok"
expect_contains "$(cat "$WORK/r1.out")" "SPARE     -- /dev/loop" "a spare loop device of its own"
for kind in add remove replace; do
  echo "device $kind events: $(grep -c "\"arg\":\"$kind\",.*\"event\":\"device\"" "$R/oplog.jsonl" || true)"
done
ndev=$(python3 - "$R/oplog.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
dev = [r for r in rows if r.get("event") == "device"]
ok = [r for r in dev if r.get("res") and all(x == 0 for x in r["res"])]
print(len(ok) if dev and len(ok) == len(dev) else -len(dev))
PY
)
[ "$ndev" -ge 1 ] && pass "$ndev device events ran, each with the device set restored" \
  || fail "device events: $ndev (negative: some did not succeed)"

# raid5 parity beside a balance: only the rows holding the compared file's
# blocks are judged. Rows of other extents may be mid-write while the copy
# reader reads them; judging those failed this run within 1-2 s ("P parity
# mismatch outside the compared range" at step 131-391), while the same seed
# without events and the end scrub were clean.
set +e
"$DT" torture --profile raid5 --seed 1 --duration 15s --events balance --ops-mix all,no-mmap-buffers --no-shrink \
  --no-progress --results "$WORK/r5" >"$WORK/r5.out" 2>&1
rc=$?
set -e
tail -4 "$WORK/r5.out"
expect_eq "$rc" 0 "15s on raid5 beside balance passes"
expect_contains "$(cat "$WORK/r5.out")" "raid5): none differ" "raid5 parity was recomputed and compared"
expect_nothing_left "after the torture runs"
finish
