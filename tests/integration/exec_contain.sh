#!/bin/bash
# exec must not leave a program's descendants behind (issue 27, item 6): one
# that escaped with setsid and holds a file open on the filesystem is killed
# before the filesystem is taken down, and named; the mount, the loop device
# and the image all go.
. "$(dirname "$0")/lib.sh"

export DIOTORTURE_STATE_DIR=$WORK/state
printf '%s\n' '#!/bin/sh' \
  "setsid sh -c 'exec 3>\"\$1/x\"; exec sleep 300' escape \"\$1\" &" \
  'sleep 0.5' 'exit 0' >"$WORK/escape.sh"
chmod +x "$WORK/escape.sh"
set +e
out=$("$DT" exec --results "$WORK/res" -- "$WORK/escape.sh" 2>&1)
rc=$?
set -e
echo "$out"
expect_eq "$rc" 0 "the program's own verdict stands (exit 0)"
expect_contains "$out" "exec: the program left 1 process running after it ended, killed before the filesystem was taken down: pid" \
  "the survivor is reported"
spid=$(grep -o "taken down: pid [0-9]*" <<<"$out" | awk '{print $NF}')
if [ -n "$spid" ] && [ ! -e "/proc/$spid" ]; then pass "the escaped process $spid is gone"; else fail "the escaped process ${spid:-?} still runs"; fi
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if len(d["survivors"]) == 1 else 1)' \
  "$WORK/res/latest/exec.json" && pass "exec.json lists the survivor" || fail "exec.json has no survivor"
expect_nothing_left "after exec"
[ -z "$(ls -A "$WORK/state" 2>/dev/null)" ] && pass "no record left" || fail "records left: $(ls "$WORK/state")"
finish
