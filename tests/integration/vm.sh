#!/bin/bash
# `diotorture vm` boots Debian's packaged 6.1 kernel (KVM if it works here,
# else TCG) with the same binary: the quick group runs inside and its results
# come back on the results disk; seed 002 is live in that kernel (it has
# neither 968f19c5b1b7 nor 7c2830f00c3e), so mirror-mutate must find RAID
# copies that differ and csum-mutate unreadable blocks, while both pass on
# this host (mirror.sh); a guest that never finishes is killed at --timeout
# with its console kept and the running case named.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
cd "$WORK"
read -r KERNEL MODULES < <(bash "$HERE/../vm_kernel.sh")
echo "guest kernel: $KERNEL"

# 1. The quick group inside, accelerator chosen automatically.
set +e
out=$("$DT" vm --kernel "$KERNEL" --modules "$MODULES" --timeout 900 --results "$WORK/results" -- run -g quick 2>&1)
rc=$?
set -e
echo "$out"
R=$WORK/results/latest
[ "$rc" = 0 ] || [ "$rc" = 1 ] && pass "quick group in the guest exits 0 or 1 ($rc), not a hang" || fail "vm exit $rc"
expect_contains "$out" "accelerator " "the accelerator is named"
expect_contains "$out" "VM: guest finished" "the guest finished"
python3 - "$R/summary.json" "$R/vm.json" "$(basename "$MODULES")" <<'PY' && pass "results came back from the guest kernel" || fail "guest results"
import json, sys
s, v, ver = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
assert s["kernel"] == ver, (s["kernel"], ver)
assert len(s["cases"]) >= 5 and all(c["status"] in ("pass", "fail", "notrun", "known") for c in s["cases"]), s["cases"]
assert v["kernel"] == ver and v["accelerator"] in ("kvm", "tcg") and v["finished"] and not v["timed_out"]
assert "btrfs.ko" in v["modules"] and "virtio_blk.ko" in v["modules"]
PY
[ -s "$R/console.log" ] && pass "serial console kept" || fail "no console.log"
# 6.1 has no iomap_dio_rw_begin tracepoint: every path is still proven (by
# kprobe), and the checksummed writes go direct there (no 968f19c5b1b7).
expect_no_unproven() {  # summary.json what
  python3 - "$1" <<'PY' && pass "$2: no unproven path verdicts" || fail "$2: unproven path verdicts"
import json, sys
d = json.load(open(sys.argv[1]))
total = {}
for c in d["cases"]:
    for key, verdicts in c["path"]["by_key"].items():
        for v, n in verdicts.items():
            total.setdefault(key, {}).setdefault(v, 0)
            total[key][v] += n
print("  verdicts: " + "; ".join("%s: %s" % (k, ", ".join("%d %s" % (n, v) for v, n in sorted(vs.items())))
                                 for k, vs in sorted(total.items())))
assert total and not any("unproven" in vs for vs in total.values()), total
PY
}
expect_no_unproven "$R/summary.json" "quick group on 6.1"
expect_eq "$(grep -h '^path ' "$R"/*.full | grep -vc ': by kprobe; ' || true)" 0 "every path proven by kprobe on 6.1"
expect_contains "$(case_field "$R/summary.json" dsync-dio-write path.summary)" "datasum write 24 direct" \
  "checksummed O_DSYNC writes go direct on 6.1"

# 2. The detector proof: seed 002 on raid1, nodatasum and checksummed.
set +e
out=$("$DT" vm --kernel "$KERNEL" --modules "$MODULES" --accel tcg --timeout 900 --results "$WORK/results" -- \
  run mirror-mutate csum-mutate --profile raid1 -p block-sizes=64k,1m -p queue-depths=8 2>&1)
rc=$?
set -e
echo "$out" | cut -c1-400
S=$WORK/results/latest/summary.json
expect_eq "$rc" 1 "seed 002 fails in the 6.1 guest"
expect_eq "$(case_field "$S" mirror-mutate status)" fail "mirror-mutate: FAIL"
expect_contains "$(case_field "$S" mirror-mutate reason)" "copies differ at file offset" "mirror-mutate names a differing block"
expect_contains "$(case_field "$S" mirror-mutate reason)" "devid" "with the devices of its copies"
expect_eq "$(case_field "$S" csum-mutate status)" fail "csum-mutate: FAIL"
expect_no_unproven "$S" "mirror cases on 6.1"
for id in mirror-mutate csum-mutate; do
  if grep -q "could not be proven" <<<"$(case_field "$S" $id notes)"; then
    fail "$id: its note says the path could not be proven"
  else pass "$id: its note does not call the path unproven"; fi
done
python3 - "$S" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
m = [c for c in d["cases"] if c["id"] == "mirror-mutate"][0]
print("mirror-mutate: %d differing blocks reported in %.1f s" % (m["metrics"]["differing blocks"]["sum"], m["duration_s"]))
PY

# 3. A guest that never finishes: killed at the timeout, console kept, case named.
set +e
out=$("$DT" vm --kernel "$KERNEL" --modules "$MODULES" --accel tcg --timeout 60 --results "$WORK/results" -- \
  run selftest-hang --timeout 3600 2>&1)
rc=$?
set -e
echo "$out" | tail -3
expect_eq "$rc" 3 "a guest killed at the timeout exits 3"
expect_contains "$out" "did not finish within 60 s and was killed while case selftest-hang was running" "the running case is named"
[ -s "$WORK/results/latest/console.log" ] && pass "console kept after the kill" || fail "no console after the kill"
# Half way to the 60 s deadline the guest printed its blocked tasks (sysrq w),
# so a real hang comes with its stacks.
expect_contains "$out" "with the blocked tasks' stacks before the kill" "the kill message points at the stacks"
grep -q "Show Blocked State" "$WORK/results/latest/console.log" && pass "sysrq w reached the console" \
  || fail "no 'Show Blocked State' in the console"
# The host's own view, which needs nothing from the hung guest: every vCPU's
# instruction pointer from qemu's monitor, named from the /proc/kallsyms the
# guest saved at boot, after the console and in vm.json.
expect_contains "$out" "VM: its CPUs before the kill: CPU0: " "the kill message says where the CPUs were"
grep -q "^--- diotorture (host): where the guest's CPUs were before the kill (qemu monitor, 3 of 3 samples a second apart; names from the guest's /proc/kallsyms)" \
  "$WORK/results/latest/console.log" && pass "the CPUs' places follow the console" || fail "no CPU places after the console"
python3 - "$WORK/results/latest/vm.json" <<'PY' && pass "vm.json: both vCPUs at named kernel functions" || fail "vm.json vcpus_at_kill"
import json, re, sys
lines = json.load(open(sys.argv[1]))["vcpus_at_kill"]
assert [l.split(":")[0] for l in lines] == ["CPU0", "CPU1"], lines
# An idle guest's CPUs wait in the kernel's idle code; a name, not a bare address.
assert all(re.search(r" at [A-Za-z_][A-Za-z0-9_.]*\+0x[0-9a-f]+", l) for l in lines), lines
# A halted CPU sits in the idle loop's halt: wrong names would be some other function.
assert any(re.match(r"CPU\d: halted at [a-z_]*(idle|halt)", l) for l in lines), lines
vm = json.load(open(sys.argv[1]))
# Each CPU's local APIC was read, the monitor answered every time, and qemu's
# threads were seen from the host.
assert all("; local APIC: requested " in l for l in lines), lines
assert vm["monitor_failures"] == [], vm["monitor_failures"]
t = vm["qemu_threads_at_kill"]
assert t.startswith("qemu's threads on the host") and "CPU 0/TCG" in t and "CPU 1/TCG" in t, t
# This guest's hang is a task asleep on purpose, with idle CPUs that wake
# for their timers: not a wakeup qemu lost.
assert vm["emulator_fault"] == "", vm["emulator_fault"]
# qemu says the guest was running, so the host did not stop it.
assert vm["vm_status_at_kill"] == "running" and vm["stopped_by_qemu"] == "", (vm["vm_status_at_kill"], vm["stopped_by_qemu"])
PY
if pgrep -f "qemu-system-x86_64.*$WORK" >/dev/null; then fail "qemu left running"; else pass "no qemu left"; fi

# 4. kill -9 of vm while its guest runs (a CI job's time limit): qemu dies with
# it, and `diotorture clean` removes the work directory it left (images,
# initramfs). A state directory and TMPDIR of this test's own, so only what
# started here is read and removed.
export DIOTORTURE_STATE_DIR=$WORK/state
mkdir -p "$WORK/tmp"
(cd "$WORK" && TMPDIR=$WORK/tmp exec "$DT" vm --kernel "$KERNEL" --modules "$MODULES" --accel tcg --timeout 600 \
  --results "$WORK/results-killed" -- run selftest-hang --timeout 3600 >"$WORK/out-killed" 2>&1) &
vmpid=$!
for _ in $(seq 600); do pgrep -f "qemu-system-x86_64.*$WORK/tmp/diotorture-vm" >/dev/null && break; sleep 0.1; done
qpid=$(pgrep -f "qemu-system-x86_64.*$WORK/tmp/diotorture-vm" || true)
[ -n "$qpid" ] && pass "the guest is running" || fail "no qemu started: $(cat "$WORK/out-killed")"
workdir=$(ls -d "$WORK"/tmp/diotorture-vm.* 2>/dev/null | head -1)
kill -9 "$vmpid"
wait "$vmpid" 2>/dev/null || true
for _ in $(seq 50); do [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null || break; sleep 0.1; done
if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then fail "qemu $qpid outlived its killed vm"; kill -9 "$qpid"; else pass "qemu went with the killed vm"; fi
[ -n "$workdir" ] && [ -d "$workdir" ] && pass "the killed vm left $workdir" || fail "no work directory to reclaim"
out=$("$DT" clean 2>&1)
echo "$out"
expect_contains "$out" "removed work directory $workdir" "clean names the work directory"
[ -e "$workdir" ] && fail "$workdir still there after clean" || pass "clean removed the work directory"
unset DIOTORTURE_STATE_DIR
expect_nothing_left "after the guests"
finish
