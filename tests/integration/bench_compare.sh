#!/bin/bash
# `bench` on a self-provisioned loop btrfs, twice, and `compare` of the two
# runs: results saved with label and kernel, every cell with its repetitions
# and the path the kernel took, the seed-002 table in all three formats, a
# chart, and the exit status agreeing with the verdicts. No timing is
# asserted: that is what the benchmark is for.
. "$(dirname "$0")/lib.sh"
cd "$WORK"

for label in vanilla patched; do
  set +e
  "$DT" bench --quick --file-size 16M --label $label --results "$WORK/results" >"$WORK/$label.out" 2>&1
  rc=$?
  set -e
  expect_eq "$rc" 0 "bench $label exits 0"
  cp "$WORK/results/latest/bench.json" "$WORK/$label.json"
  cp "$WORK/results/latest/gbench.json" "$WORK/$label.gbench.json"
done
cat "$WORK/vanilla.out"
python3 - "$WORK/vanilla.json" "$WORK/vanilla.gbench.json" <<'PY' && pass "bench.json: 12 cells x 5 repetitions, label, kernel, paths, layouts" || fail "bench.json content"
import json, os, sys
d = json.load(open(sys.argv[1]))
assert d["kind"] == "diotorture-bench" and d["label"] == "vanilla", d["label"]
assert d["kernel"] == os.uname().release
assert d["config"]["file_size"] == 16 << 20 and d["config"]["block_size"] == 1 << 20 and d["config"]["quick"]
cells = {(c["target"], c["engine"], c["op"]): c for c in d["cells"]}
assert len(cells) == 12, len(cells)
for c in cells.values():
    assert len(c["seconds"]) == 5 and len(c["cpu_seconds"]) == 5 and all(s > 0 for s in c["seconds"]), c
    assert c["mib_per_s"]["median"] > 0
# This kernel: NOCOW writes direct, checksummed writes fall back (968f19c5b1b7).
assert cells[("nodatasum", "psync", "write")]["path"] == "direct", cells[("nodatasum", "psync", "write")]
assert cells[("checksummed", "io_uring", "write")]["path"] == "buffered"
assert cells[("device", "psync", "read")]["path"] == "block device"
assert d["filesystem"]["device"].startswith("/dev/loop")
# The layout as the tree holds it: one item per 1 MiB NOCOW direct write; the
# checksummed file's buffered fallback may merge; a block device has none.
lay = d["layouts"]
assert lay["nodatasum"]["extent_items"] == 16, lay
assert 1 <= lay["checksummed"]["extent_items"] <= 16, lay
assert "device" not in lay, lay
g = json.load(open(sys.argv[2]))
names = {b["name"].split("/iterations")[0] for b in g["benchmarks"]}
assert "write/nodatasum/psync" in names and "read/device/io_uring" in names, names
assert all("bytes_per_second" in b for b in g["benchmarks"] if b.get("run_type") == "iteration")
PY
expect_contains "$(cat "$WORK/vanilla.out")" "Write median" "bench prints its table"
expect_nothing_left "after two bench runs"

# The two runs compared: the table in seed 002's shape, with marks.
set +e
out=$("$DT" compare "$WORK/vanilla.json" "$WORK/patched.json" --chart "$WORK/chart.svg")
rc=$?
set -e
echo "$out"
[ "$rc" = 0 ] || [ "$rc" = 1 ] && pass "compare exits 0 or 1 (verdict), not $rc" || fail "compare exit $rc"
for s in "engine psync" "engine io_uring" "Nodatasum" "Checksummed" "Device" "Read (vanilla)" "Read (patched)" \
  "Write (vanilla)" "Write (patched)" "Diff" "Mann-Whitney U"; do
  expect_contains "$out" "$s" "compare table has '$s'"
done
json_rc=$("$DT" compare "$WORK/vanilla.json" "$WORK/patched.json" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["exit_code"])' || true)
expect_eq "$json_rc" "$rc" "json verdict agrees with the exit status"
expect_contains "$("$DT" compare "$WORK/vanilla.json" "$WORK/patched.json" --format markdown || true)" "|---|---:|" "markdown table"
python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$WORK/chart.svg" && pass "chart is well-formed SVG" || fail "chart"

# A run against itself: no change, not significant, exit 0.
set +e
self=$("$DT" compare "$WORK/vanilla.json" "$WORK/results/$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$WORK/vanilla.json")")
rc=$?
set -e
expect_eq "$rc" 0 "a run compared with itself exits 0"
expect_eq "$(grep -c '^Diff' <<<"$self")" 4 "four Diff rows"
if grep '^Diff' <<<"$self" | grep -q '[*!?]'; then fail "a run against itself marked significant"; else pass "no mark against itself"; fi
expect_contains "$self" "vanilla#2" "duplicate labels are told apart"

# One repetition can never be significant, however large the difference.
python3 - "$WORK/vanilla.json" "$WORK/one.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for c in d["cells"]:
    c["seconds"] = c["seconds"][:1]
    c["cpu_seconds"] = c["cpu_seconds"][:1]
d["label"] = "one"
json.dump(d, open(sys.argv[2], "w"))
PY
slowed_bench "$WORK/one.json" "$WORK/half.json" 2 half
set +e
one=$("$DT" compare "$WORK/one.json" "$WORK/half.json")
rc=$?
set -e
expect_eq "$rc" 0 "single repetitions: no verdict, exit 0"
expect_contains "$one" "-50.0 % ?" "single repetition marked untestable"

expect_usage_error "at least two bench results" "compare one file" "$DT" compare "$WORK/vanilla.json"
expect_usage_error "$WORK/nope.json not found" "compare a missing file" "$DT" compare "$WORK/vanilla.json" "$WORK/nope.json"
echo '{"jobs": []}' >"$WORK/fio.json"
expect_usage_error "is not a diotorture bench result" "compare a foreign JSON" "$DT" compare "$WORK/vanilla.json" "$WORK/fio.json"
expect_usage_error "not a multiple of 4K" "odd block size" "$DT" bench --block-size 1000
expect_usage_error "did you mean 'psync'" "misspelt engine" "$DT" bench --engines psnyc
mkdir -p "$WORK/td"
expect_usage_error "name one with --device DEV" "device target on a test dir" "$DT" bench --test-dir "$WORK/td" --targets device
finish
