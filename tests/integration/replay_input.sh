#!/bin/bash
# A corrupt or hand-edited op log, a flag --replay would ignore, an empty
# --ops-mix/--events, and an exec of a program that cannot start are bad
# input (issue 27, items 8-9): exit 2, one line naming the line and the field,
# before any filesystem is made; nothing left behind.
. "$(dirname "$0")/lib.sh"

export DIOTORTURE_STATE_DIR=$WORK/state
header='{"type":"header","seed":1,"max_file_size":4194304,"kernel":"x","files":[FILES]}'
f0='{"name":"datasum/f0","nocow":false,"layout":"DHP","piece_size":65536,"layout_seed":5}'
step='{"seq":1,"op":"pwrite","file":0,"off":0,"len":4096,"data_seed":3}'
log() {  # name header-files step-line
  printf '%s\n%s\n' "${header/FILES/$2}" "$3" >"$WORK/$1.jsonl"
}
bad_log() {  # name files step want
  log "$1" "$2" "$3"
  expect_usage_error "$4" "replay $1" "$DT" torture --replay "$WORK/$1.jsonl" --results "$WORK/res"
}
bad_log len-huge "$f0" '{"seq":1,"op":"pwrite","file":0,"off":0,"len":4398046511104,"data_seed":3}' \
  "line 2: 'len' 4398046511104 is more than max_file_size 4194304"
bad_log off-negative "$f0" '{"seq":1,"op":"pwrite","file":0,"off":-4096,"len":4096,"data_seed":3}' "line 2: 'off' is negative"
bad_log piece-zero "${f0/65536/0}" "$step" "line 1: file 0: 'piece_size' 0 is not a multiple of 4096"
bad_log same-names "$f0,$f0" "$step" "line 1: file 1: 'name' 'datasum/f0' appears twice"
bad_log escape "${f0/datasum\/f0/..\/..\/..\/etc\/passwd}" "$step" "line 1: file 0: 'name' '../../../etc/passwd' is not datasum/fN"
long=$(printf 'D%.0s' $(seq 100000))
bad_log layout-long "${f0/DHP/$long}" "$step" "line 1: file 0: 'layout' of 100000 pieces of 65536 is larger than max_file_size"
bad_log qd-buffer "$f0" '{"seq":1,"op":"pwrite","file":0,"off":0,"len":4194304,"qd":64,"data_seed":3}' "'len' 4194304 times 'qd' 64"

# Flags a replay would ignore, and empty lists.
log good "$f0" "$step"
for flag in "--seed 7" "--files 2" "--file-kinds nocow" "--events none" "--ops 5"; do
  # shellcheck disable=SC2086
  expect_usage_error "--replay reruns the op log as it is (its seed, files, ops and events); drop ${flag%% *}" \
    "replay with ${flag%% *}" "$DT" torture --replay "$WORK/good.jsonl" $flag --results "$WORK/res"
done
expect_usage_error "--ops-mix is empty" "empty --ops-mix" "$DT" torture --ops-mix "" --ops 5 --results "$WORK/res"
expect_usage_error "--events is empty" "empty --events" "$DT" torture --events "" --ops 5 --results "$WORK/res"

# exec of a program not in PATH, or of a directory: refused before a
# filesystem is made (no loop device, no image, no results directory).
expect_usage_error "nosuchprog: no such program in PATH" "exec of an unknown program" \
  "$DT" exec --results "$WORK/res" -- nosuchprog
mkdir "$WORK/adir"
expect_usage_error "$WORK/adir is not an executable file" "exec of a directory" "$DT" exec --results "$WORK/res" -- "$WORK/adir"
[ ! -e "$WORK/res" ] && pass "no results directory was made" || fail "a refused command made $WORK/res"
expect_nothing_left "after refused commands"
[ -z "$(ls -A "$WORK/state" 2>/dev/null)" ] && pass "no record left" || fail "records left: $(ls "$WORK/state")"
finish
