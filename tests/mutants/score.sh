#!/bin/bash
# The mutation score of diotorture on Debian 12's 6.1 btrfs (issue 26):
#
#   tests/mutants/score.sh [--stages probe,catalogue,torture] [--minutes N] [--seeds "1 2"]
#                          [--out DIR] [MUTANT...]
#
# For each mutant (default: stock, then every tests/mutants/patches/*.patch and
# revert-ID of tests/kernel-reverts/ID.patch): builds it (build.sh), then in
# `diotorture vm` guests, one at a time under /var/tmp/diotorture-heavy.lock
# (released between guests, so other users of the host get their turn):
#   probe      its probe (probes/MUTANT.c) under `exec`: LIVE when the probe
#              reports the wrong outcome, hangs, dies, or the kernel log has a
#              finding; stock runs every probe, which must all pass there;
#   catalogue  `run -g auto`, CHUNK cases per guest; a case kills the mutant
#              when it FAILs or HANGs there and passes on stock;
#   torture    `torture --seed S --duration Nm --ops-mix all,no-mutate` per
#              seed. Stock Debian 6.1 fails default torture within seconds on
#              the seed 002 class (EIO after a write from a changing buffer),
#              so the buffer-mutating writes are left out (no-mutate) for
#              every kernel. A failure kills the mutant only when it is the
#              mutant's doing: its repro.c (built static) fails on the mutant
#              and passes on stock in fresh guests, and its signature (kind
#              and op) is not one stock torture shows with the same options.
# CASES="CASE..." runs only those cases in the catalogue stage.
# Results: OUT/MUTANT/ (each stage's output, resumable: a stage with a result
# is not run again; delete its file to redo it), OUT/score.json, OUT/score.md.
# Never in CI.
set -uo pipefail
MUT=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$MUT/../.." && pwd)
DT=${DIOTORTURE:-$ROOT/build/diotorture}
LOCK=/var/tmp/diotorture-heavy.lock
STAGES=probe,catalogue,torture
MINUTES=5
SEEDS="1 2"
CHUNK=${CHUNK:-6}
OUT=$ROOT/results/mutants
while [ $# -gt 0 ]; do
  case $1 in
    --stages) STAGES=$2; shift 2 ;;
    --minutes) MINUTES=$2; shift 2 ;;
    --seeds) SEEDS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n 2,30p "$0"; exit 0 ;;
    -*) echo "score.sh: unknown option $1; see --help" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ -x "$DT" ] || { echo "score.sh: no diotorture at $DT; build it (cmake --build build) or set DIOTORTURE" >&2; exit 2; }
[[ $MINUTES =~ ^[0-9]+$ ]] && [ "$MINUTES" -ge 1 ] || { echo "score.sh: --minutes takes a whole number >= 1" >&2; exit 2; }
if [ $# -eq 0 ]; then
  set -- stock
  for p in "$MUT"/patches/*.patch; do set -- "$@" "$(basename "$p" .patch)"; done
  for p in "$MUT"/../kernel-reverts/*.patch; do set -- "$@" "revert-$(basename "$p" .patch)"; done
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
PROBES=$("$MUT"/probes/build.sh) || { echo "score.sh: the probes did not build" >&2; exit 1; }
TORTURE_OPTS=(--ops-mix all,no-mutate)

heavy() { flock "$LOCK" nice -n 10 "$@"; }
say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
has_stage() { [[ ,$STAGES, == *,$1,* ]]; }

# build MUTANT: sets K and M (kernel, modules), records the build time.
build() {
  local m=$1 d=$OUT/$1 line t0
  mkdir -p "$d"
  t0=$(date +%s.%N)
  line=$(heavy "$MUT"/build.sh "$m" 2>"$d/build.err") || { say "$m: build failed: $(tail -1 "$d/build.err")"; return 1; }
  read -r _ K M <<<"$line"
  grep -o 'built in [0-9.]* s' "$d/build.err" | awk '{print $3}' > "$d/build.s.new" || true
  [ -s "$d/build.s.new" ] && mv "$d/build.s.new" "$d/build.s" || rm -f "$d/build.s.new"
  printf '%.0f\n' "$(echo "$(date +%s.%N) - $t0" | bc)" > "$d/build.wall"
}

# guest NAME TIMEOUT ARGS...: one `vm` run, output in $d/NAME.txt, exit in $d/NAME.rc.
guest() {
  local name=$1 timeout=$2; shift 2
  rm -rf "$d/$name.results"
  heavy "$DT" vm --kernel "$K" --modules "$M" --timeout "$timeout" --results "$d/$name.results" "$@" >"$d/$name.txt" 2>&1
  echo $? > "$d/$name.rc"
}

# A probe that needs its own filesystem shape (a full one, say) has
# probes/NAME.vmopts: extra `vm` options, and runs in a guest of its own.
vmopts() { [ -f "$MUT/probes/$1.vmopts" ] && cat "$MUT/probes/$1.vmopts"; }

# probe_run NAME VMOPTS PROBE...: the probes under probe-all in one guest.
probe_run() {
  local name=$1 opts=$2 add=(--add-binary "$PROBES/probe-all") guestargs=()
  shift 2
  for b in "$@"; do add+=(--add-binary "$PROBES/probe-$b"); guestargs+=("/bin/probe-$b"); done
  # shellcheck disable=SC2086
  guest "$name" 360 $opts "${add[@]}" -- exec --timeout 120 -- /bin/probe-all "${guestargs[@]}"
}

probe_stage() {
  local m=$1
  [ -f "$d/probe.rc" ] && return
  if [ "$m" = stock ]; then
    # Every probe must pass on stock: one guest for the plain ones, one for
    # each with options of its own.
    local plain=() b n
    for b in "$PROBES"/probe-*; do
      n=${b##*/probe-}
      [ "$n" = all ] && continue
      if [ -n "$(vmopts "$n")" ]; then
        [ -f "$d/probe-$n.rc" ] || { say "stock: probe $n"; probe_run "probe-$n" "$(vmopts "$n")" "$n"; }
      else
        plain+=("$n")
      fi
    done
    say "stock: every probe"
    probe_run probe "" "${plain[@]}"
  elif [ -x "$PROBES/probe-$m" ]; then
    say "$m: probe"
    probe_run probe "$(vmopts "$m")" "$m"
  else
    say "$m: no probe (probes/$m.c); live only through the cases"; echo none > "$d/probe.rc"; return
  fi
  say "$m: probe: $(grep -E '^PROBE|^wrong outcome|^kernel log|^exec:' "$d/probe.txt" | grep -v '^PROBE .*: pass' | head -3 | tr '\n' ' ')"
}

catalogue_stage() {
  local cases i=0 chunk=()
  # CASES="a b" narrows the catalogue to those cases (their chunks are named
  # catalogue-sel-N, apart from the whole group's).
  local prefix=catalogue
  if [ -n "${CASES:-}" ]; then
    read -ra cases <<<"$CASES"; prefix=catalogue-sel
  else
    mapfile -t cases < <("$DT" list -g auto 2>/dev/null | awk '/^[^ ]/ {print $1}')
  fi
  [ ${#cases[@]} -gt 0 ] || { say "cannot list the auto group"; return; }
  flush() {
    [ ${#chunk[@]} -gt 0 ] || return
    local n=$prefix-$i
    if [ ! -f "$d/$n.rc" ]; then
      say "$1: catalogue chunk $i: ${chunk[*]}"
      guest "$n" 2400 -- run "${chunk[@]}"
    fi
    i=$((i + 1)); chunk=()
  }
  for c in "${cases[@]}"; do
    chunk+=("$c")
    [ ${#chunk[@]} -ge "$CHUNK" ] && flush "$1"
  done
  flush "$1"
  [ "$1" = stock ] && return
  # The cases that failed here must pass on stock for a kill: run those on
  # stock (once per case; a full stock catalogue run counts as well).
  local failed=() c
  mapfile -t failed < <(python3 "$MUT"/table.py --failed-cases "$d")
  local todo=()
  for c in "${failed[@]}"; do
    [ -n "$(python3 "$MUT"/table.py --case-status "$OUT/stock" "$c")" ] || todo+=("$c")
  done
  if [ ${#todo[@]} -gt 0 ]; then
    say "$1: the cases it fails, on stock: ${todo[*]}"
    local K0=$K M0=$M d0=$d
    read -r _ K M < <(heavy "$MUT"/build.sh stock)
    d=$OUT/stock; mkdir -p "$d"
    guest "catalogue-for-$1" 2400 -- run "${todo[@]}"
    K=$K0 M=$M0 d=$d0
  fi
}

torture_stage() {
  local m=$1 s
  for s in $SEEDS; do
    local n=torture-$s
    if [ ! -f "$d/$n.rc" ]; then
      say "$m: torture seed $s, up to $MINUTES min"
      guest "$n" $((MINUTES * 60 + 1500)) -- torture --seed "$s" --duration "${MINUTES}m" "${TORTURE_OPTS[@]}"
    fi
    # A failure: is it the mutant's doing? Its repro.c on the mutant and on stock.
    local repro
    repro=$(find "$d/$n.results" -name repro.c 2>/dev/null | head -1)
    [ -n "$repro" ] || continue
    if [ ! -f "$d/$n.repro-mutant.rc" ]; then
      cc -static -O2 -o "$d/$n.repro" "$repro" -luring 2>"$d/$n.repro.cc" || { echo cc-failed > "$d/$n.repro-mutant.rc"; continue; }
      say "$m: seed $s failed; its repro.c on the mutant"
      guest "$n.repro-mutant" 900 --add-binary "$d/$n.repro:/bin/repro" -- exec --timeout 300 -- /bin/repro
    fi
    if [ ! -f "$d/$n.repro-stock.rc" ] && [ -x "$d/$n.repro" ]; then
      say "$m: seed $s: its repro.c on stock"
      local K0=$K M0=$M
      read -r _ K M < <(heavy "$MUT"/build.sh stock)
      guest "$n.repro-stock" 900 --add-binary "$d/$n.repro:/bin/repro" -- exec --timeout 300 -- /bin/repro
      K=$K0 M=$M0
    fi
  done
}

total=$#
idx=0
for m in "$@"; do
  idx=$((idx + 1))
  d=$OUT/$m
  say "== $m ($idx of $total)"
  build "$m" || continue
  has_stage probe && probe_stage "$m"
  has_stage catalogue && catalogue_stage "$m"
  has_stage torture && torture_stage "$m"
  python3 "$MUT"/table.py "$OUT" "$MUT" || true
done
python3 "$MUT"/table.py "$OUT" "$MUT"
say "table: $OUT/score.md, $OUT/score.json"
