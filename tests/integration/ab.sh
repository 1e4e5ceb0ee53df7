#!/bin/bash
# `diotorture ab`: interleaved A/B rounds judged across rounds.
# 1. On the host (`--kernel host` twice, seconds): ABBA order, one results
#    directory per round, the seed-002-shaped table with verdict, detectable
#    change, within-round spread and the A/A calibration, exit status equal
#    to the verdict (throughput and p99 latency); the gates proven on ab's own
#    output by making B's rounds ten times as slow, and B's p99 three times
#    as high; bad input refused; nothing left behind.
# 2. Under qemu: Debian's 6.1 kernel against itself (tests/vm_kernel.sh), four
#    boots each at the smallest size, results back from every guest.
# No timing is asserted: what is checked is the machinery and its verdicts.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
cd "$WORK"
BENCH=(bench --quick --file-size 4M --targets nodatasum --engines io_uring --workloads read,randread-4k-qd1
  --repetitions 3 --random-bytes 1M)

check_ab() {  # dir rc kernel-release machine
  python3 - "$@" <<'PY'
import json, os, sys
d, rc, release, machine = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ab = json.load(open(d + "/ab.json"))
assert ab["kind"] == "diotorture-ab" and ab["calibration"], ab
assert ab["order"] == ["round-01-A", "round-02-B", "round-03-B", "round-04-A",
                       "round-05-A", "round-06-B", "round-07-B", "round-08-A"], ab["order"]
for r in ab["order"]:
    b = json.load(open(f"{d}/{r}/latest/bench.json"))
    assert b["kernel"] == release, (r, b["kernel"])
    assert b["label"] == r[-1], (r, b["label"])
    assert b["config"]["machine"].startswith(machine), b["config"]["machine"]
    assert {c["op"] for c in b["cells"]} == {"read", "randread-4k-qd1"}
    assert all(len(c["clat_us"]) == 3 for c in b["cells"])
c = ab["comparison"]
assert c["sample"] == "round" and c["exit_code"] == rc, (c["exit_code"], rc)
assert len(c["cells"]) == 2
for x in c["cells"]:
    assert x["testable"], x                       # 4 against 4 can reach p < 0.05
    assert x["regression"] == (x["significant"] and x["diff_pct"] < -c["threshold_pct"])
    assert x["within_round_cv_pct"] is not None and x["p99_clat_us"][0] > 0
    assert x["detectable_pct"] is None or x["detectable_pct"] >= 0
    # p99 latency has a verdict of its own, and for it higher is worse.
    l = x["p99"]
    assert l["worse_when"] == "higher" and l["testable"], l
    assert l["regression"] == (l["significant"] and l["diff_pct"] > c["latency_threshold_pct"]), l
assert c["exit_code"] == int(any(x["regression"] or x["p99"]["regression"] for x in c["cells"])), c["exit_code"]
assert c["false_gate_latency_threshold_pct"] is not None
assert c["false_gate_threshold_pct"] is not None and c["suggested_threshold_pct"] >= 0
side = json.load(open(d + "/B.json"))
assert side["sample"] == "round" and all(len(x["seconds"]) == 4 for x in side["cells"])
PY
}

# 1. Host against host.
set +e
out=$("$DT" ab --kernel host --kernel host --rounds 4 --threshold 50 --latency-threshold 50 --results "$WORK/results" -- "${BENCH[@]}" 2>&1)
rc=$?
set -e
echo "$out"
[ "$rc" = 0 ] || [ "$rc" = 1 ] && pass "host A/A exits 0 or 1 ($rc)" || fail "host ab exit $rc"
D=$(readlink -f "$WORK/results/latest")
check_ab "$D" "$rc" "$(uname -r)" host && pass "ab.json: ABBA rounds, bench.json per round, verdicts agree with the exit status" || fail "host ab.json"
for s in "order ABBAABBA" "A/A calibration" "Read (A)" "Read (B)" "randread-4k-qd1 (A)" "Diff" "detectable" \
  "within-round CV" "p99 clat" "round medians" "round 8 of 8"; do
  expect_contains "$out" "$s" "host ab output has '$s'"
done
python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$D/chart.svg" && pass "chart is SVG" || fail "chart"
expect_contains "$(cat "$D/summary.md")" "![B against A](chart.svg)" "summary.md shows the chart"

# The gate, on ab's own output: A's rounds made ten times as slow must be a
# significant regression (4 against 4, completely separated: p = 0.029) --
# ten times, because on a busy host A/A round medians alone differ by 2x.
slowed_bench "$D/A.json" "$WORK/slow.json" 10 slow
set +e
gate=$("$DT" compare "$D/A.json" "$WORK/slow.json" --format markdown --chart chart.svg)
rc=$?
set -e
expect_eq "$rc" 1 "a ten times slower B gates (exit 1)"
expect_contains "$gate" "-90.0 % !" "the slowed cells are marked as regressions"
expect_contains "$gate" "| **Diff** |" "markdown Diff rows"

# The latency gate, the same way: B's p99 three times A's in every round is
# a significant rise, marked and exit 1; within --latency-threshold it is not.
python3 - "$D/A.json" "$WORK/slow-p99.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for c in d["cells"]:
    for l in c["clat_us"]:
        l["p99"] *= 3
d["label"] = "slowp99"
json.dump(d, open(sys.argv[2], "w"))
PY
rc=0
lgate=$("$DT" compare "$D/A.json" "$WORK/slow-p99.json") || rc=$?
expect_eq "$rc" 1 "a p99 three times as high gates (exit 1)"
expect_contains "$lgate" "+200.0 % !" "the p99 rise is marked as a regression"
rc=0
"$DT" compare "$D/A.json" "$WORK/slow-p99.json" --latency-threshold 300 >/dev/null || rc=$?
expect_eq "$rc" 0 "within --latency-threshold 300 it does not gate"

# Bad input, before anything runs.
expect_usage_error "ab needs --kernel twice" "one kernel" "$DT" ab --kernel host -- bench
expect_usage_error "add '-- bench'" "no bench" "$DT" ab --kernel host --kernel host
expect_usage_error "give --label to ab" "label in the bench args" "$DT" ab --kernel host --kernel host -- bench --label x
expect_usage_error "is not a file" "a missing kernel" "$DT" ab --kernel host --kernel "$WORK/nope" -- bench
expect_usage_error "not comparable: A holds rounds" "a round aggregate against one bench run" \
  "$DT" compare "$D/A.json" "$D/round-01-A/latest"
# A round that fails stops the rounds: its exit status, the round named, its output kept.
set +e
bad=$("$DT" ab --kernel host --kernel host --rounds 4 --results "$WORK/bad" -- bench --engines psnyc 2>&1)
rc=$?
set -e
expect_eq "$rc" 2 "a round refusing its bench options makes ab exit 2"
expect_contains "$bad" "ab: stopped: round 1 (A) exited 2" "the failing round is named"
expect_contains "$(cat "$WORK/bad/latest/round-01-A/output.txt")" "did you mean 'psync'" "its output is kept"
python3 -c 'import json,sys; assert "failure" in json.load(open(sys.argv[1]))' "$WORK/bad/latest/ab.json" &&
  pass "ab.json records the failure" || fail "ab.json failure"

# Issue 9: runs of different configurations are not compared unless asked.
python3 - "$D/round-01-A/latest/bench.json" "$WORK/bs64k.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["config"]["block_size"] = 65536
d["label"] = "bs64k"
json.dump(d, open(sys.argv[2], "w"))
PY
expect_usage_error "block_size differs: A has 1048576, bs64k has 65536; rerun with the same options, or pass --compare-anyway" \
  "different block sizes" "$DT" compare "$D/round-01-A/latest" "$WORK/bs64k.json"
set +e
anyway=$("$DT" compare "$D/round-01-A/latest" "$WORK/bs64k.json" --compare-anyway)
rc=$?
set -e
[ "$rc" = 0 ] || [ "$rc" = 1 ] && pass "--compare-anyway compares ($rc)" || fail "--compare-anyway exit $rc"
expect_contains "$anyway" "NOT COMPARABLE: block_size differs" "and still names the difference"
expect_nothing_left "after the host rounds"

# 2. Debian 6.1 against itself under qemu.
read -r KERNEL MODULES < <(bash "$HERE/../vm_kernel.sh")
start=$(date +%s)
set +e
out=$("$DT" ab --kernel "$KERNEL" --kernel "$KERNEL" --modules "$MODULES" --rounds 4 --threshold 50 --latency-threshold 50 --timeout 300 \
  --disk-size 1G --results "$WORK/vm-results" -- "${BENCH[@]}" 2>&1)
rc=$?
set -e
echo "$out"
echo "qemu rounds took $(($(date +%s) - start)) s"
[ "$rc" = 0 ] || [ "$rc" = 1 ] && pass "6.1 A/A exits 0 or 1 ($rc)" || fail "vm ab exit $rc"
D=$(readlink -f "$WORK/vm-results/latest")
check_ab "$D" "$rc" "$(basename "$MODULES")" qemu && pass "6.1 ab.json: 8 boots in ABBA order, verdicts agree with the exit status" || fail "vm ab.json"
expect_contains "$out" "A/A calibration" "the calibration verdict is printed"
expect_contains "$out" "under qemu" "the header says where the kernels ran"
python3 - "$D/ab.json" <<'PY' && pass "KVM probed once, the same accelerator in every round" || fail "accelerator"
import json, sys
ab = json.load(open(sys.argv[1]))
d = sys.argv[1].rsplit("/", 1)[0]
acc = {json.load(open(f"{d}/{r}/latest/vm.json"))["accelerator"] for r in ab["order"]}
assert acc == {ab["accelerator"]}, (acc, ab["accelerator"])
PY
if pgrep -f "qemu-system-x86_64.*$WORK" >/dev/null; then fail "qemu left running"; else pass "no qemu left"; fi
expect_nothing_left "after the guests"
finish
