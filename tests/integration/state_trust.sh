#!/bin/bash
# A root tool must trust nothing another user can plant (issue 27, items 1-2):
# - a state directory another user made, one writable by others, or a
#   symlink is refused (exit 2, the fix named) before anything is made or
#   deleted;
# - in a trusted state directory, a record not written by root, a symlinked
#   record, or a record naming paths that are not the tool's is refused and
#   nothing it names is touched;
# - a symlink planted under a predictable name (a run directory in a shared
#   --results) never makes root write through it.
. "$(dirname "$0")/lib.sh"

NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
chmod 0711 "$WORK"  # nobody may pass through to its own directory below
SHARED=$WORK/shared  # stands for /var/tmp: world-writable, sticky
mkdir -m 1777 "$SHARED"
VICTIM=$WORK/victim  # root's: must survive every step
mkdir -m 0700 "$VICTIM" "$VICTIM/dir"
echo precious >"$VICTIM/file"
chmod 0600 "$VICTIM/file"
victim_intact() {  # what
  if [ "$(cat "$VICTIM/file" 2>/dev/null)" = precious ] && [ -d "$VICTIM/dir" ] &&
    [ "$(ls -A "$VICTIM" | sort | tr '\n' ' ')" = "dir file " ]; then
    pass "$1: the victim file and directory are intact"
  else
    fail "$1: victim changed: $(ls -la "$VICTIM"; cat "$VICTIM/file" 2>&1)"
  fi
}
planted='{"kind":"diotorture-owned","owner":"3999991.1","items":[{"kind":"image","path":"'$VICTIM/file'"},{"kind":"workdir","path":"'$VICTIM/dir'"}]}'

# 1. The issue's attack: nobody makes the state directory first and plants a
# record naming root's file and directory.
"${NOBODY[@]}" sh -c "mkdir '$SHARED/state' && printf '%s' '$planted' >'$SHARED/state/3999991.1.json'"
for cmd in clean "run partial-dio-write --results $WORK/r1" "torture --ops 5 --results $WORK/r1"; do
  # shellcheck disable=SC2086
  expect_usage_error "refusing state directory $SHARED/state: it is owned by uid $(id -u nobody)" \
    "${cmd%% *} with a state directory nobody made" env DIOTORTURE_STATE_DIR="$SHARED/state" "$DT" $cmd
done
victim_intact "state directory made by nobody"
[ -e "$SHARED/state/3999991.1.json" ] && pass "the planted record was not consumed" || fail "the planted record went"
[ ! -e "$WORK/r1" ] && pass "nothing was made (no results directory)" || fail "a refused run made $WORK/r1"
expect_nothing_left "after refused runs"

# The message names the fix.
err=$(DIOTORTURE_STATE_DIR="$SHARED/state" "$DT" clean 2>&1 >/dev/null || true)
expect_contains "$err" "set DIOTORTURE_STATE_DIR to a directory only root can write" "the refusal names the fix"

# 2. A state directory that is a symlink (to one root trusts) and a
# root-owned one others can write.
mkdir -m 0700 "$WORK/trusted"
"${NOBODY[@]}" ln -s "$WORK/trusted" "$SHARED/statelink"
expect_usage_error "refusing state directory $SHARED/statelink: it is a symbolic link" "symlinked state directory" \
  env DIOTORTURE_STATE_DIR="$SHARED/statelink" "$DT" clean
mkdir -m 0777 "$WORK/open"
expect_usage_error "is writable by group or others" "world-writable state directory" \
  env DIOTORTURE_STATE_DIR="$WORK/open" "$DT" clean
victim_intact "refused state directories"

# 3. A trusted state directory, and in it: a record a user owns (as if
# copied in), a symlinked record, and a root record naming paths that are not
# the tool's (a forged or corrupt record): each refused, nothing touched.
export DIOTORTURE_STATE_DIR=$WORK/trusted
printf '%s' "$planted" >"$WORK/trusted/3999991.1.json"
printf '%s' "${planted//3999991.1/3999992.2}" >"$WORK/trusted/3999992.2.json"
chown nobody "$WORK/trusted/3999992.2.json"
ln -s "$VICTIM/file" "$WORK/trusted/3999993.3.json"
set +e
out=$("$DT" clean 2>&1)
rc=$?
set -e
echo "$out"
expect_eq "$rc" 0 "clean with refused records exits 0"
expect_contains "$out" "kept image $VICTIM/file: not inside a directory the record named first" "a path outside the tool's directories is refused"
expect_contains "$out" "kept workdir $VICTIM/dir: not a directory name the tool makes" "a directory the tool did not make is refused"
expect_contains "$out" "refused record $WORK/trusted/3999992.2.json: it is owned by uid $(id -u nobody)" "a record root did not write is refused"
expect_contains "$out" "refused record $WORK/trusted/3999993.3.json: it is a symbolic link" "a symlinked record is refused"
if grep -qE "deleted /|removed /|removed work directory|unmounted|detached" <<<"$out"; then fail "clean says it deleted something: $out"; else pass "clean deleted nothing"; fi
victim_intact "forged records"
[ -e "$WORK/trusted/3999992.2.json" ] && [ -L "$WORK/trusted/3999993.3.json" ] && pass "refused records are kept for a human" ||
  fail "a refused record was removed"
rm -f "$WORK"/trusted/*.json

# A record naming a tool-looking directory that is not root's (nobody made it
# in the shared directory): refused by what the machine shows.
"${NOBODY[@]}" mkdir -m 0700 "$SHARED/diotorture.AbCdEf"
printf '%s' '{"kind":"diotorture-owned","owner":"3999994.4","items":[{"kind":"workdir","path":"'$SHARED/diotorture.AbCdEf'"}]}' \
  >"$WORK/trusted/3999994.4.json"
out=$("$DT" clean 2>&1)
expect_contains "$out" "$SHARED/diotorture.AbCdEf: it is owned by uid $(id -u nobody)" "a look-alike directory of another user is left alone"
[ -d "$SHARED/diotorture.AbCdEf" ] && pass "the user's directory survives" || fail "the user's directory was removed"

# 4. A fresh default-style state directory is made 0700 by root.
unset DIOTORTURE_STATE_DIR
export DIOTORTURE_STATE_DIR=$WORK/made/state
mkdir -m 0755 "$WORK/made"
"$DT" clean >/dev/null
expect_eq "$(stat -c '%U %a' "$WORK/made/state")" "root 700" "a state directory the tool makes is root's, 0700"

# 5. Symlinks planted as nobody under the run directory names of the next
# seconds in a shared --results: root makes a fresh directory instead of
# writing through them, and the victim directory gets nothing.
mkdir -m 1777 "$SHARED/results"
"${NOBODY[@]}" sh -c 'for s in $(seq 0 40); do ln -s "$2" "$1/$(date -u -d "+$s sec" +%Y-%m-%dT%H-%M-%S)"; done' \
  sh "$SHARED/results" "$VICTIM/dir"
set +e
"$DT" run partial-dio-write --results "$SHARED/results" >"$WORK/planted.out" 2>&1
rc=$?
set -e
expect_eq "$rc" 0 "the run passes beside the planted names"
real=$(readlink "$SHARED/results/latest")
[ -d "$SHARED/results/$real" ] && [ ! -L "$SHARED/results/$real" ] && pass "the run wrote into a directory of its own ($real)" ||
  fail "latest is $real: $(ls -la "$SHARED/results")"
[ -z "$(ls -A "$VICTIM/dir")" ] && pass "nothing was written through a planted symlink" || fail "written into the victim: $(ls "$VICTIM/dir")"
victim_intact "planted run directory names"
if compgen -G "$SHARED/results/$real/.*.tmp" >/dev/null; then fail "a .tmp file was left"; else pass "no .tmp file left"; fi
[ -z "$(ls -A "$WORK/made/state")" ] && pass "no record left" || fail "records left: $(ls "$WORK/made/state")"
expect_nothing_left "after all runs"
finish
