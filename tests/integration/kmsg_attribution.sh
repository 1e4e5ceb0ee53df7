#!/bin/bash
# The kernel log is the host's (issue 27, item 3): a line another run planted,
# or a WARNING the kernel says happened in another process, must not fail a
# run or an exec (a note instead); a report that could be ours still fails.
# The lines are written into /dev/kmsg by this test while the run is on, as
# the kernel would print them.
. "$(dirname "$0")/lib.sh"

export DIOTORTURE_STATE_DIR=$WORK/state
sleep 300 &
other=$!  # a live process outside diotorture's tree: "another process"

# Writes the lines of one WARNING report in task $1 ($2) every 0.2 s until $WORK/stop exists.
report_loop() {  # pid comm
  rm -f "$WORK/stop"
  (while [ ! -e "$WORK/stop" ]; do
    {
      echo "------------[ cut here ]------------"
      echo "WARNING: CPU: 0 PID: $1 at fs/btrfs/inode.c:1 btrfs_test_only+0x0/0x1"
      echo "CPU: 0 UID: 0 PID: $1 Comm: $2 Not tainted"
      echo "---[ end trace 0000000000000000 ]---"
      echo "WARNING: selftest line of another run [planted by diotorture run 1.1]"
    } >/dev/kmsg
    sleep 0.2
  done) &
  LOOP=$!
}
stop_loop() { touch "$WORK/stop"; wait "$LOOP" 2>/dev/null || true; }

run_case() {  # name -> sets RC, OUT
  set +e
  OUT=$(cd "$WORK" && "$DT" run partial-dio-write --results "$WORK/res-$1" 2>&1)
  RC=$?
  set -e
}

# 1. Another process's WARNING and another run's planted line: a pass, with a note.
report_loop "$other" sleep
run_case foreign
stop_loop
expect_eq "$RC" 0 "a run beside another process's WARNING passes"
expect_contains "$OUT" "note: kernel warning from another process (pid $other, comm sleep)" "the run notes it"
if grep -q "planted by diotorture run 1.1" <<<"$OUT"; then fail "another run's planted line was judged"; else pass "another run's planted line is dropped"; fi

# 2. The detector still fails what could be ours: the same report in a task
# named like ours, and in a kernel thread.
for comm in diotorture kworker/u8:1; do
  report_loop 4242 "$comm"
  run_case "ours-${comm%%/*}"
  stop_loop
  expect_eq "$RC" 1 "a WARNING in a task named $comm fails the run"
  expect_contains "$OUT" "kernel log: WARNING: CPU: 0 PID: 4242" "the failure names the report ($comm)"
done

# 3. exec: the program's verdict stands beside another process's report; a
# report the program itself caused fails it.
printf '#!/bin/sh\nsleep 2\n' >"$WORK/sleep2.sh"
chmod +x "$WORK/sleep2.sh"
report_loop "$other" sleep
set +e
out=$("$DT" exec --results "$WORK/res-exec" -- "$WORK/sleep2.sh" 2>&1)
rc=$?
set -e
stop_loop
expect_eq "$rc" 0 "exec beside another process's WARNING exits 0"
expect_contains "$out" "note: kernel warning from another process (pid $other, comm sleep)" "exec notes it"
cat >"$WORK/warn.sh" <<'EOF'
#!/bin/sh
printf '%s\n' "------------[ cut here ]------------" "WARNING: CPU: 0 PID: $$ at fs/btrfs/inode.c:1 x+0x0/0x1" \
  "CPU: 0 UID: 0 PID: $$ Comm: warn.sh Not tainted" "---[ end trace 0000000000000000 ]---" >/dev/kmsg
EOF
chmod +x "$WORK/warn.sh"
set +e
out=$("$DT" exec --results "$WORK/res-exec" -- "$WORK/warn.sh" 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "exec of a program whose task logs a WARNING exits 1"
expect_contains "$out" "at fs/btrfs/inode.c:1 x+0x0/0x1" "exec names the report"
kill "$other"
expect_nothing_left "after all runs"
finish
