# Shared helpers for the integration tests: real kernel, real btrfs, root.
# Each test script runs under ctest's TIMEOUT (the outer watchdog); the tool's
# own runner puts every case under its per-case watchdog.
set -euo pipefail

DT=$(readlink -f "${DIOTORTURE:?set DIOTORTURE to the diotorture binary}")
WORK=$(mktemp -d /var/tmp/dt-it.XXXXXX)
# Scratch images go under $WORK too, so leftovers are easy to find.
export TMPDIR=$WORK
FAILED=0

cleanup_work() {
  # A failed check's evidence goes with $WORK: a hung guest's blocked-task
  # stacks are in its console.log, so their end goes to the test's log first.
  if [ "$FAILED" = 1 ]; then
    find "$WORK" -name console.log -newer "$0" 2>/dev/null | while read -r log; do
      echo "--- last lines of $log"
      tail -n 80 "$log"
    done || true
  fi
  # Never leave a fixture mounted; the tool's own leftovers are asserted, not cleaned.
  for m in $(awk -v w="$WORK" '$2 ~ "^"w {print $2}' /proc/mounts | sort -r); do umount -l "$m" || true; done
  rm -rf "$WORK"
}
trap cleanup_work EXIT

fail() { echo "FAIL: $*"; FAILED=1; }
pass() { echo "ok: $*"; }
expect_eq() { if [ "$1" == "$2" ]; then pass "$3"; else fail "$3: expected '$2', got '$1'"; fi; }
expect_contains() { if grep -qF -- "$2" <<<"$1"; then pass "$3"; else fail "$3: '$2' not in: $1"; fi; }

# Bad input: exit 2, one line on stderr, naming the problem.
expect_usage_error() {  # expected-substring description command...
  local want=$1 what=$2
  shift 2
  set +e
  local err
  err=$("$@" 2>&1 >/dev/null)
  local rc=$?
  set -e
  expect_eq "$rc" 2 "$what: exit 2"
  expect_eq "$(printf '%s\n' "$err" | wc -l)" 1 "$what: one line"
  expect_contains "$err" "$want" "$what: message"
}

# No mount, loop device or image of ours may survive a run.
expect_nothing_left() {
  local what=$1
  if grep -q "$WORK/diotorture\." /proc/mounts; then fail "$what: a scratch mount is left"; else pass "$what: no mount left"; fi
  local loops=""
  for f in /sys/block/loop*/loop/backing_file; do
    [ -e "$f" ] && grep -q "$WORK/diotorture\." "$f" && loops+=" $f"
  done
  if [ -n "$loops" ]; then fail "$what: loop devices left:$loops"; else pass "$what: no loop device left"; fi
  if compgen -G "$WORK/diotorture.*" >/dev/null; then fail "$what: scratch dir left: $(ls -d "$WORK"/diotorture.*)"; else pass "$what: no image left"; fi
}

# Like expect_nothing_left, after giving the kernel up to $2 seconds to let go
# (a thawed, lazily-unmounted filesystem releases its loop device by itself).
expect_nothing_left_within() {
  local what=$1 secs=$2
  for _ in $(seq 1 "$secs"); do
    grep -q "$WORK/diotorture\." /proc/mounts /sys/block/loop*/loop/backing_file 2>/dev/null || break
    sleep 1
  done
  expect_nothing_left "$what"
}

# Waits up to 30s until a case of a run writing under results root $1 is
# running (its log exists); then returns 0, else 1.
wait_case_running() {
  for _ in $(seq 1 300); do
    compgen -G "$1/*/*.full.tmp" >/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# jq-free JSON queries on summary.json.
case_field() {  # summary.json id field
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); c=[c for c in d["cases"] if c["id"]==sys.argv[2]][0]; v=c
for k in sys.argv[3].split("."): v=v[k]
print(v if not isinstance(v,(list,dict)) else json.dumps(v))' "$1" "$2" "$3"
}

# A copy of a bench.json whose every repetition took FACTOR times as long,
# under another label: a known slowdown to prove a verdict with.
slowed_bench() {  # in.json out.json factor label
  python3 - "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for c in d["cells"]:
    c["seconds"] = [s * float(sys.argv[3]) for s in c["seconds"]]
d["label"] = sys.argv[4]
json.dump(d, open(sys.argv[2], "w"))
PY
}

finish() {
  if [ "$FAILED" -ne 0 ]; then echo "SOME CHECKS FAILED"; exit 1; fi
  echo "all checks passed"
}
