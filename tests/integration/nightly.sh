#!/bin/bash
# Nightly CI at scale, locally: `run -g quick --shard 1/2` and `2/2` are
# disjoint and complete and merge into the unsharded run's counts; every
# kcidb.json passes kcidb-check (and a broken one does not); a 3-seed torture
# campaign over 2 shards with an injected failure merges with its failures
# deduplicated by signature, the smallest repro kept; a known signature lets
# a campaign go on and pass (--strict fails it); `report` on a failing
# self-test names the kernel, the failing line and the reproduce command;
# bad input is exit 2 with the fix.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
KERNEL=$(uname -r)

# ---- bad input -------------------------------------------------------------
expect_usage_error "numbered 1 to 2" "shard I > N" "$DT" run -g quick --shard 3/2
expect_usage_error "numbered 1 to 2" "shard 0" "$DT" run -g quick --shard 0/2
expect_usage_error "is not I/N" "malformed shard" "$DT" run -g quick --shard 1-2
expect_usage_error "give --shard I/1 at most" "more shards than cases" "$DT" run selftest-short-read --shard 2/2
expect_usage_error "add --seeds" "torture --shard without --seeds" "$DT" torture --shard 1/2
expect_usage_error "is not a seed range" "bad seed range" "$DT" torture --seeds 5..x
expect_usage_error "ends before it starts" "reversed seed range" "$DT" torture --seeds 5..3
expect_usage_error "drop --seed" "--seed with --seeds" "$DT" torture --seeds 1..3 --seed 4
expect_usage_error "holds no seed" "a shard with no seed" "$DT" torture --seeds 1..2 --shard 3/4 --ops 1 --results "$WORK/none"

# ---- run: two shards against the whole ------------------------------------
pyq() { python3 -c "$1" "${@:2}"; }
units='import json,sys
d=json.load(open(sys.argv[1]))
for c in d["cases"]:
    if c["combinations"]:
        for n in c["combinations"]: print(c["id"]+"|"+n)
    else: print(c["id"])'
t0=$(date +%s)
set +e
"$DT" run -g quick --results "$WORK/whole" >"$WORK/whole.out" 2>&1; rc_whole=$?
"$DT" run -g quick --shard 1/2 --results "$WORK/s1" >"$WORK/s1.out" 2>&1; rc1=$?
"$DT" run -g quick --shard 2/2 --results "$WORK/s2" >"$WORK/s2.out" 2>&1; rc2=$?
set -e
echo "three quick runs: $(( $(date +%s) - t0 ))s (exit $rc_whole, $rc1, $rc2)"
W=$(readlink -f "$WORK/whole/latest") S1=$(readlink -f "$WORK/s1/latest") S2=$(readlink -f "$WORK/s2/latest")
pyq "$units" "$W/summary.json" | sort >"$WORK/u.whole"
pyq "$units" "$S1/summary.json" | sort >"$WORK/u.1"
pyq "$units" "$S2/summary.json" | sort >"$WORK/u.2"
[ -s "$WORK/u.1" ] && [ -s "$WORK/u.2" ] && pass "both shards ran something ($(wc -l <"$WORK/u.1") and $(wc -l <"$WORK/u.2") units)" || fail "a shard ran nothing"
expect_eq "$(comm -12 "$WORK/u.1" "$WORK/u.2" | wc -l)" 0 "the shards are disjoint"
sort "$WORK/u.1" "$WORK/u.2" >"$WORK/u.union"
if cmp -s "$WORK/u.union" "$WORK/u.whole"; then pass "the shards together are the whole run ($(wc -l <"$WORK/u.whole") units)"
else fail "the shards' union is not the whole run"; diff "$WORK/u.union" "$WORK/u.whole" | head; fi
expect_eq "$(pyq 'import json,sys; print(json.load(open(sys.argv[1]))["shard"])' "$S1/summary.json")" "1/2" "summary.json records the shard"

"$DT" merge --results "$WORK/merged" "$S1" "$S2" >"$WORK/merge.out" 2>&1 && rc=0 || rc=$?
cat "$WORK/merge.out"
expect_eq "$rc" "$rc_whole" "merge exits as the whole run did"
counts='import json,sys
d=json.load(open(sys.argv[1])); cs=d["cases"]
st={}
for c in cs: st[c["status"]]=st.get(c["status"],0)+1
print(len(cs), sum(len(c["combinations"]) for c in cs), sorted(st.items()), sorted(d["selected"]))'
expect_eq "$(pyq "$counts" "$WORK/merged/summary.json")" "$(pyq "$counts" "$W/summary.json")" \
  "merged cases, combinations, statuses and selection equal the whole run's"
grep -q '<testsuite name="diotorture"' "$WORK/merged/junit.xml" && pass "merged junit.xml" || fail "no merged junit.xml"
tail -n 3 "$WORK/merged/check.log" | grep -Eq 'Passed|Failed' && pass "merged check.log has the verdict" || fail "merged check.log"

# ---- merge refusals --------------------------------------------------------
expect_usage_error "given twice" "the same shard twice" "$DT" merge --results "$WORK/m2" "$S1" "$S1"
expect_usage_error "overlap" "a whole run beside its shards" "$DT" merge --results "$WORK/m3" "$W" "$S1"
expect_usage_error "already holds results" "merging into results" "$DT" merge --results "$WORK/merged" "$S1" "$S2"
cp -r "$S2" "$WORK/other-kernel"
python3 - "$WORK/other-kernel/summary.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["kernel"] = "6.1.0-50-amd64"; json.dump(d, open(sys.argv[1], "w"))
PY
expect_usage_error "--allow-mixed" "merging two kernels" "$DT" merge --results "$WORK/m4" "$S1" "$WORK/other-kernel"
"$DT" merge --allow-mixed --results "$WORK/m5" "$S1" "$WORK/other-kernel" >/dev/null 2>&1 && rc=0 || rc=$?
[ "$rc" -ne 2 ] && pass "--allow-mixed merges them (exit $rc)" || fail "--allow-mixed refused"
set +e; "$DT" merge --results "$WORK/m6" "$S1" >"$WORK/m6.out" 2>&1; rc=$?; set -e
expect_eq "$rc" 2 "a merge with a shard missing exits 2"
expect_contains "$(cat "$WORK/m6.out")" "missing shard" "and says which"

# ---- torture campaign: 3 seeds over 2 shards, an injected failure ----------
printf '# nothing known\n' >"$WORK/empty-kf.txt"
TARGS=(--ops 120 --events none --files 2 --shrink-budget 10 --no-progress --known-failures "$WORK/empty-kf.txt")
t0=$(date +%s)
for i in 1 2; do
  set +e
  DIOTORTURE_TORTURE_INJECT=uffd-wrong-page "$DT" torture --seeds 11..13 --shard $i/2 "${TARGS[@]}" \
    --results "$WORK/t$i" >"$WORK/t$i.out" 2>&1
  rc=$?
  set -e
  expect_eq "$rc" 1 "campaign shard $i/2 fails on the injected wrong page"
done
echo "campaign shards: $(( $(date +%s) - t0 ))s"
T1=$(readlink -f "$WORK/t1/latest") T2=$(readlink -f "$WORK/t2/latest")
seeds='import json,sys
print(" ".join(str(s["seed"]) for s in json.load(open(sys.argv[1]))["torture"]["subruns"]))'
expect_eq "$(pyq "$seeds" "$T1/campaign.json")" "11 13" "shard 1/2 ran seeds 11 and 13, one sub-run each"
expect_eq "$(pyq "$seeds" "$T2/campaign.json")" "12" "shard 2/2 ran seed 12"
"$DT" merge --results "$WORK/tmerged" "$T1" "$T2" >"$WORK/tmerge.out" 2>&1 && rc=0 || rc=$?
cat "$WORK/tmerge.out"
expect_eq "$rc" 1 "the merged campaign fails"
dedup='import json,sys
d=json.load(open(sys.argv[1]))["torture"]
subs=[s for s in d["subruns"] if "failure" in s]
sigs={s["signature"] for s in subs}
ok=len(d["failures"])==len(sigs) and sum(f["count"] for f in d["failures"])==len(subs)
for f in d["failures"]:
    same=[s for s in subs if s["signature"]==f["signature"]]
    steps=[s.get("steps",1<<40) for s in same if "repro" in s]
    if steps and f["kept"].get("steps")!=min(steps): ok=False
print(len(subs), len(sigs), ok)'
res=$(pyq "$dedup" "$WORK/tmerged/summary.json")
read -r nfail nsig ok <<<"$res"
expect_eq "$nfail" 3 "three failing sub-runs merged"
expect_eq "$ok" True "failures deduplicated by signature ($nsig signatures for $nfail failures), smallest repro kept"
[ "$nsig" -lt "$nfail" ] && pass "at least two seeds share a signature" || echo "note: every seed failed differently ($nsig signatures)"
expect_eq "$(grep -c '<testcase classname="diotorture" name="torture-signature' "$WORK/tmerged/junit.xml")" "$nsig" "junit has one testcase per signature"

# ---- known signatures: the campaign goes on and passes; --strict fails ------
printf 'torture:data:*:*   %s   the injected wrong page (test)\n' "$KERNEL" >"$WORK/kf.txt"
set +e
DIOTORTURE_TORTURE_INJECT=uffd-wrong-page "$DT" torture --seeds 21..21 --ops 40 --events none --files 2 --no-progress \
  --known-failures "$WORK/kf.txt" --results "$WORK/tk" >"$WORK/tk.out" 2>&1
rc=$?
set -e
expect_eq "$rc" 0 "a known signature does not fail the campaign"
TK=$(readlink -f "$WORK/tk/latest")
known='import json,sys
s=json.load(open(sys.argv[1]))["torture"]["subruns"]
print(len(s), sum(x["status"]=="known" for x in s), sum("failure" in x for x in s), sum(x["ops"] for x in s))'
read -r nsub nknown nfailed nops <<<"$(pyq "$known" "$TK/campaign.json")"
[ "$nknown" -ge 1 ] && [ "$nknown" = "$nfailed" ] && pass "$nknown known sub-runs, no other failure" || fail "known: $nknown of $nfailed failures"
[ "$nsub" -gt 1 ] && pass "it went on after the known failure ($nsub sub-runs, $nops ops)" || fail "it stopped at the known failure ($nsub sub-run)"
grep -q "known failure, not shrunk" "$WORK/tk.out" && pass "known failures are not shrunk" || fail "a known failure was shrunk"
set +e
DIOTORTURE_TORTURE_INJECT=uffd-wrong-page "$DT" torture --seeds 21..21 --ops 40 --events none --files 2 --no-progress \
  --known-failures "$WORK/kf.txt" --strict --no-shrink --results "$WORK/tks" >"$WORK/tks.out" 2>&1
rc=$?
set -e
expect_eq "$rc" 1 "--strict: a known signature fails the campaign"
printf 'torture:data  *  no ops\n' >"$WORK/bad-kf.txt"
expect_usage_error "bad-kf.txt:1" "a malformed signature line" "$DT" torture --seeds 1..2 --known-failures "$WORK/bad-kf.txt"
expect_usage_error "bad-kf.txt:1" "run refuses it too" "$DT" run selftest-short-read --known-failures "$WORK/bad-kf.txt"

# ---- KCIDB -------------------------------------------------------------------
for f in "$W" "$S1" "$S2" "$WORK/merged" "$T1" "$WORK/tmerged" "$TK"; do
  out=$("$DT" kcidb-check "$f/kcidb.json" 2>&1) && rc=0 || rc=$?
  expect_eq "$rc" 0 "kcidb.json of $(basename "$f") validates"
done
paths='import json,sys
d=json.load(open(sys.argv[1])); print(len(d["tests"]), sorted({t["status"] for t in d["tests"]}), any(t["path"].count(".")==2 for t in d["tests"]))'
echo "merged kcidb: $(pyq "$paths" "$WORK/merged/kcidb.json")"
expect_eq "$(pyq 'import json,sys; d=json.load(open(sys.argv[1])); print(all(t["path"].startswith("diotorture.") for t in d["tests"]))' "$WORK/merged/kcidb.json")" True "every test path is diotorture.*"
python3 - "$WORK/merged/kcidb.json" "$WORK/broken.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["tests"][0]["status"] = "OK"; d["tests"][0]["id"] = "no origin"
json.dump(d, open(sys.argv[2], "w"))
PY
out=$("$DT" kcidb-check "$WORK/broken.json" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" 1 "a broken kcidb.json fails kcidb-check"
expect_contains "$out" "tests[0].status: 'OK' is not one of" "it names the bad status"
KCIDB_ORIGIN=my_lab KCIDB_BUILD_ID=kernelci:b42 "$DT" merge --results "$WORK/kmerged" "$S1" "$S2" >/dev/null 2>&1 || true
expect_eq "$(pyq 'import json,sys; d=json.load(open(sys.argv[1])); print(d["tests"][0]["origin"], d["tests"][0]["build_id"])' "$WORK/kmerged/kcidb.json")" \
  "my_lab kernelci:b42" "origin and build id from the environment"
expect_usage_error "KCIDB origin" "a bad origin" "$DT" merge --kcidb-origin My-Lab --results "$WORK/k2" "$S1" "$S2"

# ---- report on a failing self-test -----------------------------------------
set +e
"$DT" run selftest-short-read --known-failures "$WORK/empty-kf.txt" --results "$WORK/st" >/dev/null 2>&1
set -e
ST=$(readlink -f "$WORK/st/latest")
rep=$("$DT" report "$ST" --passed-in "$S1")
failline=$(grep -m1 '^FAIL: ' "$ST/selftest-short-read.full" | cut -c7-)
expect_contains "$rep" "Subject: [BUG] btrfs: direct I/O: selftest-short-read" "report: subject line"
expect_contains "$rep" "    $KERNEL" "report: the kernel"
[ -n "$failline" ] && expect_contains "$rep" "$failline" "report: the failing check's own line" || fail "no FAIL line in the .full"
expect_contains "$rep" "diotorture run selftest-short-read --seed 1" "report: the reproduce command"
rep=$("$DT" report "$T1" --torture)
expect_contains "$rep" "diotorture torture --replay" "torture report: the replay command"
expect_contains "$rep" '```c' "torture report: repro.c inline"
expect_usage_error "no case nope" "report on a case the run does not have" "$DT" report "$S1" --case nope

expect_nothing_left "nightly"
finish
