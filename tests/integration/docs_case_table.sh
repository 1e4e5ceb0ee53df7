#!/bin/bash
# The case reference in docs/cases.md is generated from the registry: it must
# say what `diotorture list --format markdown` says, case for case, and the
# README must not grow a case table of its own again.
. "$(dirname "$0")/lib.sh"
DOCS=$(dirname "$0")/../../docs/cases.md
README=$(dirname "$0")/../../README.md
want=$("$DT" list --format markdown)
have=$(awk '/<!-- case-table:/{on=1; next} /<!-- end of case-table -->/{on=0} on' "$DOCS")
if [ "$want" == "$have" ]; then
  pass "docs/cases.md matches the registry"
else
  diff <(echo "$have") <(echo "$want") || true
  fail "docs/cases.md differs from the registry; run tests/update_docs.sh build/diotorture"
fi
if grep -q '<!-- case-table:' "$README"; then
  fail "README.md has a case table again; the generated one lives in docs/cases.md"
else
  pass "README.md links the case reference instead of repeating it"
fi
finish
