#!/bin/bash
# The known-failures list: a listed failure on this kernel is "known" and does
# not fail the run; --strict, another kernel or an unlisted case do; a bad
# entry is a usage error. selftest-short-read is a real, fast FAIL to list.
. "$(dirname "$0")/lib.sh"

KF=$WORK/known-failures.txt
run_kf() {  # args...: sets rc, out
  set +e
  out=$(cd "$WORK" && "$DT" run selftest-short-read --results "$WORK/results" "$@" 2>&1)
  rc=$?
  set -e
}

printf '# listed for this kernel\nselftest-short-read  %s,9.9.*  PROT_NONE tail: the kernel stops early\n' "$(uname -r)" > "$KF"
run_kf --known-failures "$KF"
echo "$out"
expect_eq "$rc" 0 "a listed failure does not fail the run"
expect_eq "$(case_field "$WORK/results/latest/summary.json" selftest-short-read status)" known "its status is known"
expect_contains "$(case_field "$WORK/results/latest/summary.json" selftest-short-read notes)" "known failure on $(uname -r)" "the note names the kernel"
expect_contains "$out" "Known failures: selftest-short-read" "the summary lists it"
expect_contains "$out" "KNOWN     -- $KF (1 entries)" "the header names the list"
grep -q 'skipped message="known failure' "$WORK/results/latest/junit.xml" && pass "junit marks it skipped as known" || fail "junit does not mark the known failure"

run_kf --known-failures "$KF" --strict
expect_eq "$rc" 1 "--strict: a listed failure fails the run"

printf 'selftest-short-read  0.0.1-other  not this kernel\n' > "$KF"
run_kf --known-failures "$KF"
expect_eq "$rc" 1 "listed for another kernel only: a failure"

# The default list: known-failures.txt in the current directory.
printf 'selftest-short-read  *  listed in the default file\n' > "$KF"
run_kf
expect_eq "$rc" 0 "./known-failures.txt is read by default"

printf 'selftest-short-read  %s\n' "$(uname -r)" > "$KF"
expect_usage_error "known-failures.txt:1" "an entry without a reason" \
  bash -c "cd '$WORK' && '$DT' run selftest-short-read --results '$WORK/results'"
printf 'selftest-shortread  *  typo\n' > "$KF"
expect_usage_error "no case has that id" "an entry naming no case" \
  bash -c "cd '$WORK' && '$DT' run selftest-short-read --results '$WORK/results'"
expect_usage_error "--known-failures $WORK/none: no such file" "a missing list" \
  "$DT" run selftest-short-read --known-failures "$WORK/none"
rm -f "$KF"
finish
