#!/bin/bash
# The source tree is layered: a folder may include itself and the folders
# declared BEFORE it in LAYERS, nothing above it. That keeps lib/ free of
# upward includes and of cycles (a newcomer can read it bottom-up, and a
# helper that needs the case harness cannot sneak into io or btrfs).
# Prints the include matrix (row includes column, counted in #include lines;
# '!' marks an upward one) and exits 1 on an upward include, a cycle, or a
# folder of lib/ that is not in LAYERS.
# Usage: tests/layering.sh [SOURCE_DIR] | --self-test   (ctest: layering, layering.selftest)
set -euo pipefail

# --self-test: the check must fail on a planted upward include (and name the
# cycle it makes) and pass on the same tree without it.
if [[ ${1:-} == --self-test ]]; then
  t=$(mktemp -d)
  trap 'rm -rf "$t"' EXIT
  mkdir -p "$t"/lib/{sys,run,io} "$t"/cases/common "$t"/cmd
  echo '#include "lib/sys/a.hpp"' >"$t/lib/run/b.hpp"
  echo '#include "lib/run/b.hpp"' >"$t/lib/io/c.hpp"
  touch "$t/lib/sys/a.hpp"
  out=$(bash "$0" "$t" 2>&1) || { echo "$out"; echo "layering self-test: a clean tree failed"; exit 1; }
  echo '#include "lib/io/c.hpp"' >>"$t/lib/sys/a.hpp"
  if out=$(bash "$0" "$t" 2>&1); then echo "$out"; echo "layering self-test: an upward include passed"; exit 1; fi
  for want in "upward include: lib/sys/a.hpp:1 (lib/sys) includes lib/io" "include cycle"; do
    [[ $out == *"$want"* ]] || { echo "$out"; echo "layering self-test: no '$want'"; exit 1; }
  done
  echo "layering self-test: ok (a planted upward include and its cycle are caught)"
  exit 0
fi

cd "${1:-$(dirname "$0")/..}"

# Lowest first; the one place the order is declared.
#   lib/sys      system calls, owned resources, small pure helpers
#   lib/run      one run of the tool: the supervisor (watched child, hang
#                stacks), kernel log, results directory, fstests config,
#                running a program
#   lib/io       I/O paths, patterns, io_uring, userfaultfd
#   lib/trace    kernel coverage from the function tracer
#   lib/btrfs    the filesystem: scratch devices, layout, copies, fsck
#   lib/harness  the case harness: registry, context, runner, session, results
#                (summary.json, junit.xml, kcidb.json), shards of a selection
#   lib/nightly  what a nightly CI job needs beyond one run: merge, signatures, reports
#   lib/torture, lib/vm, lib/crash, lib/bench   the engines of the commands
#   cases/common the helpers the cases share (fstests' common/)
#   cases, cmd   the cases and the command-line front end
LAYERS=(lib/sys lib/run lib/io lib/trace lib/btrfs lib/harness lib/nightly lib/torture lib/vm lib/crash lib/bench cases/common cases cmd)

declare -A rank
for i in "${!LAYERS[@]}"; do rank[${LAYERS[$i]}]=$i; done

fail=0
for d in lib/*/; do
  d=${d%/}
  if [[ -z ${rank[$d]+x} ]]; then
    echo "layering: $d is not in LAYERS; add it to the order in tests/layering.sh"
    fail=1
  fi
done

# "from to file:line" for every #include of a project header.
if git rev-parse --show-toplevel >/dev/null 2>&1 && [[ $(git rev-parse --show-toplevel) -ef . ]]; then
  edges=$(git ls-files -co --exclude-standard -- 'lib/*.cpp' 'lib/*.hpp' 'cases/*.cpp' 'cases/*.hpp' 'cmd/*.cpp' 'cmd/*.hpp')
else
  edges=$(find lib cases cmd -name '*.[ch]pp' 2>/dev/null)
fi
edges=$(for f in $edges; do
  [[ -f $f ]] || continue
  grep -n '^#include "\(lib\|cases\|cmd\)/' "$f" | sed -E "s@^([0-9]+):#include \"([^\"]*)/[^/\"]*\".*@$(dirname "$f") \\2 $f:\\1@"
done)

matrix() {
  local from to n mark
  printf '%-13s' 'includes ->'
  for to in "${LAYERS[@]}"; do printf ' %7s ' "${to#*/}"; done
  echo
  for from in "${LAYERS[@]}"; do
    printf '%-13s' "$from"
    for to in "${LAYERS[@]}"; do
      n=$(awk -v a="$from" -v b="$to" '$1==a && $2==b' <<<"$edges" | wc -l)
      mark=' '
      ((n > 0 && rank[$to] > rank[$from])) && mark='!'
      if ((n == 0)); then printf ' %7s ' '.'; elif [[ $from == "$to" ]]; then printf ' %7s ' "($n)"; else printf ' %7s%s' "$n" "$mark"; fi
    done
    echo
  done
}
matrix

while read -r from to where; do
  [[ -n $from ]] || continue
  if [[ -z ${rank[$to]+x} ]]; then
    [[ -d $to ]] && { echo "layering: $where includes $to/, which is not in LAYERS"; fail=1; }
    continue
  fi
  [[ -z ${rank[$from]+x} ]] && continue
  if ((rank[$to] > rank[$from])); then
    echo "layering: upward include: $where ($from) includes $to, which is above it"
    fail=1
  fi
done <<<"$edges"

# A cycle is caught above as an upward include too; tsort names it outright.
if ! loops=$(awk '$1!=$2 {print $1, $2}' <<<"$edges" | sort -u | tsort 2>&1 >/dev/null) || [[ -n $loops ]]; then
  echo "layering: include cycle between folders:"
  echo "$loops"
  fail=1
fi

((fail == 0)) && echo "layering: ok (${#LAYERS[@]} layers, no upward include, no cycle)"
exit $fail
