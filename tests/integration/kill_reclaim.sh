#!/bin/bash
# kill -9 of a run (a CI job's time limit) leaves its mount, loop device,
# sparse image and tracefs instances behind; `diotorture clean` and the next
# run remove exactly those, say so, and never touch a live run's.
. "$(dirname "$0")/lib.sh"

# A state directory of this test's own, so only records of runs started here
# are read (the default is /var/lib/diotorture).
export DIOTORTURE_STATE_DIR=$WORK/state

# Starts a run in the background and waits until a case is running; sets PID.
start_run() {  # name args...
  local name=$1
  shift
  (cd "$WORK" && exec "$DT" run "$@" --results "$WORK/results-$name" >"$WORK/out-$name" 2>&1) &
  PID=$!
  wait_case_running "$WORK/results-$name" || fail "$name: no case started"
  sleep 1
}

# What the run recorded (and so created): its mount point and image directory.
recorded() {  # pid kind
  python3 -c 'import json,sys,glob
for f in glob.glob(sys.argv[1] + "/" + sys.argv[2] + ".*.json"):
    for i in json.load(open(f))["items"]:
        if i["kind"] == sys.argv[3]: print(i["path"])' "$DIOTORTURE_STATE_DIR" "$1" "$2"
}

expect_reclaimed() {  # what pid mnt dir
  local what=$1 pid=$2 mnt=$3 dir=$4
  if grep -qF " $mnt " /proc/mounts; then fail "$what: $mnt still mounted"; else pass "$what: mount gone"; fi
  if losetup -a | grep -qF "$dir/"; then fail "$what: loop device on $dir left: $(losetup -a | grep -F "$dir/")"; else pass "$what: loop device gone"; fi
  if [ -e "$dir" ]; then fail "$what: $dir left"; else pass "$what: image directory gone"; fi
  if ls /sys/kernel/tracing/instances 2>/dev/null | grep -q "^diotorture-$pid\."; then fail "$what: tracefs instances of $pid left"; else pass "$what: tracefs instances gone"; fi
  if compgen -G "$DIOTORTURE_STATE_DIR/$pid.*.json" >/dev/null; then fail "$what: record of $pid left"; else pass "$what: record removed"; fi
}

# 1. kill -9 in the middle of a case, then `diotorture clean`.
start_run a dio-mmap-same-range dsync-dio-write
pid=$PID
mnt=$(recorded "$pid" mount)
dir=$(recorded "$pid" dir)
[ -n "$mnt" ] && [ -n "$dir" ] && pass "the run recorded its mount and directory" || fail "no record of the run"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
sleep 0.5
# The leak this guards against is real: everything is still there.
grep -qF " $mnt " /proc/mounts && pass "killed run left its mount" || fail "killed run left no mount (nothing to test)"
losetup -a | grep -qF "$dir/" && pass "killed run left its loop device" || fail "killed run left no loop device"
set +e
out=$("$DT" clean 2>&1)
rc=$?
set -e
echo "$out"
expect_eq "$rc" 0 "clean exits 0"
expect_contains "$out" "reclaimed from dead run $pid: unmounted $mnt" "clean says what it unmounted"
expect_contains "$out" "removed $dir" "clean says it removed the image directory"
expect_contains "$out" "tracefs instance" "clean says it removed the tracefs instances"
expect_reclaimed "after clean" "$pid" "$mnt" "$dir"
out=$("$DT" clean 2>&1)
expect_contains "$out" "nothing to clean" "a second clean finds nothing"

# 2. A live run, and beside it one killed with kill -9: the next run reclaims
# the dead one by itself, says so, and leaves the live one alone.
start_run live dio-mmap-same-range dsync-dio-write
live=$PID
live_mnt=$(recorded "$live" mount)
[ -n "$live_mnt" ] && pass "the live run recorded its mount" || fail "no record of the live run"
start_run b dsync-dio-write
pid=$PID
mnt=$(recorded "$pid" mount)
dir=$(recorded "$pid" dir)
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
grep -qF " $mnt " /proc/mounts && pass "second killed run left its mount" || fail "second killed run left no mount"
set +e
out=$(cd "$WORK" && "$DT" run partial-dio-write --results "$WORK/results-next" 2>&1)
rc=$?
set -e
echo "$out" | head -3
expect_eq "$rc" 0 "the next run passes"
expect_contains "$out" "reclaimed from dead run $pid: unmounted $mnt" "the next run says what it reclaimed"
expect_reclaimed "after the next run" "$pid" "$mnt" "$dir"
if grep -qF "dead run $live" <<<"$out"; then fail "the live run was reclaimed"; else pass "the live run was not named"; fi
if kill -0 "$live" 2>/dev/null; then
  grep -qF " $live_mnt " /proc/mounts && pass "the live run's mount is still there" || fail "the live run lost its mount"
  out=$("$DT" clean 2>&1)
  expect_contains "$out" "nothing to clean" "clean leaves a live run alone"
else
  fail "the live run ended before the check (make it longer)"
fi
set +e
wait "$live"
rc=$?
set -e
expect_eq "$rc" 0 "the live run finished undisturbed"
[ "$rc" -eq 0 ] || cat "$WORK/out-live"
expect_nothing_left "after all runs"
finish
