#!/bin/bash
# Torture after a task got stuck in D state (issue 27, item 5): it must record
# the hang, touch nothing on the hung filesystem again (no unlink, no
# remove_all, no blocking unmount), detach its mount lazily, say so and exit 3
# within seconds. A frozen filesystem stands for the kernel bug: the engine's
# writers sleep uninterruptibly in sb_start_write, where SIGKILL cannot reach
# them. The test thaws it afterwards, so the stuck tasks die and the kernel
# lets go of the detached mount and the loop device.
. "$(dirname "$0")/lib.sh"

export DIOTORTURE_STATE_DIR=$WORK/state
# Freezes the filesystem at $1 once it has files, holds it frozen until
# $WORK/thaw exists (or 120 s), then thaws it through the descriptor it kept
# (the mount point is detached by then).
cat >"$WORK/freezer.py" <<'PY'
import fcntl, os, sys, time
FIFREEZE, FITHAW = 0xC0045877, 0xC0045878
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
time.sleep(1.5)  # let the engine get going
fcntl.ioctl(fd, FIFREEZE, 0)
open(sys.argv[2] + "/frozen", "w").close()
for _ in range(1200):
    if os.path.exists(sys.argv[2] + "/thaw"):
        break
    time.sleep(0.1)
fcntl.ioctl(fd, FITHAW, 0)
PY

(set +e; "$DT" torture --seed 3 --duration 60s --stall-timeout 5 --no-progress --events none --ops-mix dio,buffered \
  --results "$WORK/res" >"$WORK/out" 2>&1; echo $? >"$WORK/rc") &
tpid=$!
mnt=""
for _ in $(seq 300); do
  mnt=$(awk -v w="$WORK/diotorture." 'index($2, w) == 1 {print $2}' /proc/mounts | head -1)
  [ -n "$mnt" ] && break
  sleep 0.1
done
[ -n "$mnt" ] && pass "torture mounted $mnt" || fail "no scratch mount appeared: $(cat "$WORK/out")"
python3 "$WORK/freezer.py" "$mnt" "$WORK" &
fpid=$!
for _ in $(seq 100); do [ -e "$WORK/frozen" ] && break; sleep 0.1; done
[ -e "$WORK/frozen" ] && pass "the filesystem is frozen" || fail "the freezer did not freeze it"
t0=$(date +%s)
# Stall timeout 5 s, 2 s after SIGKILL, then the report: seconds, not the
# forever of a blocking unlink (60 s leaves room for a loaded CI host).
for _ in $(seq 600); do [ -e "$WORK/rc" ] && break; sleep 0.1; done
secs=$(($(date +%s) - t0))
if [ -e "$WORK/rc" ]; then
  pass "torture returned ${secs}s after the freeze, while the filesystem is still frozen"
  expect_eq "$(cat "$WORK/rc")" 3 "a hang exits 3"
else
  fail "torture did not return within 60 s of the freeze (blocked on the hung filesystem)"
  ps -eo pid,ppid,stat,etime,wchan:30,args | grep -E "diotorture|freezer" | grep -v grep
  for p in $(pgrep -f "diotorture torture --seed 3"); do echo "--- $p"; cat "/proc/$p/stack"; done
fi
touch "$WORK/thaw"
wait "$fpid" || fail "the freezer failed"
wait "$tpid" || true
out=$(cat "$WORK/out")
echo "$out" | tail -8
expect_contains "$out" "HANG: step" "the hung step is named"
expect_contains "$out" "still in D state after SIGKILL" "the report says a task is stuck in D state"
expect_contains "$out" "nothing on it was touched after the hang and its mount was detached lazily" "it says what it did"
S=$WORK/res/latest/torture/summary.json
[ -f "$S" ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["status"] == "hang" else 1)' "$S" &&
  pass "summary.json says hang" || fail "no summary with status hang"
grep -q "After SIGKILL" "$WORK/res/latest/torture/stacks.txt" && pass "stacks after SIGKILL saved" || fail "no stacks"
# Thawed: the stuck tasks die, the lazily detached mount and loop device go.
expect_nothing_left_within "after the thaw" 20
[ -z "$(ls -A "$WORK/state" 2>/dev/null)" ] && pass "no record left" || fail "records left: $(ls "$WORK/state")"
finish
