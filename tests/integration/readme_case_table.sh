#!/bin/bash
# The README's case table is generated from the registry: it must say what
# `diotorture list --format markdown` says, case for case.
. "$(dirname "$0")/lib.sh"
README=$(dirname "$0")/../../README.md
want=$("$DT" list --format markdown)
have=$(awk '/<!-- case-table:/{on=1; next} /<!-- end of case-table -->/{on=0} on' "$README")
if [ "$want" == "$have" ]; then
  pass "README case table matches the registry"
else
  diff <(echo "$have") <(echo "$want") || true
  fail "README case table differs from the registry; run tests/update_readme.sh build/diotorture"
fi
finish
