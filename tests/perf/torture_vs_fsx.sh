#!/bin/bash
# `diotorture torture` against fstests' fsx -Z, side by side: ops per second
# of each on a fresh loop btrfs of the same size, in alternating turns, with
# comparable op sizes (fsx: a 4 MiB file, ops up to 1 MiB, 4 KiB aligned for
# O_DIRECT; torture: its 4 MiB files, ops up to 1 MiB a request). Cells:
#   fsx-psync   fsx -Z (pread/pwrite)
#   fsx-uring   fsx -Z -U (io_uring)
#   dt-none     diotorture torture --events none
#   dt-events   diotorture torture (every event)
# and for each diotorture cell its ratio to fsx-psync with a 95 % bootstrap
# interval over the turns, and the bytes moved per op (read and write bytes
# over all ops; fsx's from the last 10,000 ops of its --record-ops log).
# diotorture's ops/s is the engine's (summary.json: ops over the engine's
# wall time, its set-up and end checks included; not the filesystem check
# after it); fsx's is ops over its process's wall time. A benchmark, not a
# test: nothing here runs in CI. Needs root.
#
#   FSX=/path/to/fsx tests/perf/torture_vs_fsx.sh [--turns 3] [--ops 3000] [--size 4G] [--seed 1]
#                                                 [--dt-args "more torture options"] [--backing DIR]
#
# fsx is not part of diotorture and none of it is in this project. Build one
# from fstests (xfstests-dev) outside this repository:
#   apt-get install -y xfslibs-dev libtool-bin automake autoconf libacl1-dev libaio-dev \
#     libattr1-dev gawk xfsprogs libgdbm-dev liburing-dev
#   git clone https://git.kernel.org/pub/scm/fs/xfs/xfstests-dev.git /var/tmp/fstests
#   cd /var/tmp/fstests && make configure && ./configure && make -C lib && make -C ltp
#   FSX=/var/tmp/fstests/ltp/fsx tests/perf/torture_vs_fsx.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DT=${DIOTORTURE:-$HERE/../../build/diotorture}
TURNS=3 OPS=3000 SIZE=4G SEED=1 DT_ARGS="" BACKING=/var/tmp
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --turns) TURNS=$2; shift 2 ;;
    --ops) OPS=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --dt-args) DT_ARGS=$2; shift 2 ;;
    --backing) BACKING=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "torture_vs_fsx.sh: unknown option '$1'; see --help" >&2; exit 2 ;;
  esac
done
for v in "$TURNS" "$OPS" "$SEED"; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "torture_vs_fsx.sh: '$v' is not a positive whole number" >&2; exit 2; }
done
if [ -z "${FSX:-}" ] || [ ! -x "${FSX:-}" ]; then
  echo "torture_vs_fsx.sh: set FSX=/path/to/fsx (fstests' ltp/fsx; not part of diotorture). To build one:" >&2
  sed -n '/^# fsx is not part/,/^#   FSX=/p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
[ -x "$DT" ] || { echo "torture_vs_fsx.sh: no diotorture at $DT; build it or set DIOTORTURE" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "torture_vs_fsx.sh: needs root (loop devices, mkfs, mount); rerun as root" >&2; exit 2; }

W=$(mktemp -d "$BACKING/torture_vs_fsx.XXXXXX")
MNT=$W/mnt LOOP=""
mkdir -p "$MNT"
cleanup() {
  mountpoint -q "$MNT" && umount "$MNT"
  [ -n "$LOOP" ] && losetup -d "$LOOP" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT
fresh_fs() {
  truncate -s "$SIZE" "$W/img"
  LOOP=$(losetup -f --show "$W/img")
  mkfs.btrfs -q -f "$LOOP" >/dev/null
  mount "$LOOP" "$MNT"
}
drop_fs() {
  umount "$MNT"
  losetup -d "$LOOP"
  LOOP=""
  rm -f "$W/img"
}
now() { date +%s.%N; }

# One turn of one cell: prints "cell ops seconds bytes_per_op".
run_cell() {
  local cell=$1 t0 t1
  fresh_fs
  case $cell in
    fsx-psync|fsx-uring)
      local u=""; [ "$cell" = fsx-uring ] && u=-U
      t0=$(now)
      "$FSX" -Z $u -q -N "$OPS" -S "$SEED" -l 4194304 -o 1048576 -r 4096 -w 4096 -t 4096 \
        --record-ops="$W/fsx.ops" "$MNT/fsx.file" >"$W/fsx.out" 2>&1 \
        || { echo "fsx failed:" >&2; tail -5 "$W/fsx.out" >&2; exit 1; }
      t1=$(now)
      python3 - "$cell" "$OPS" "$t0" "$t1" "$W/fsx.ops" <<'PY'
import sys
cell, ops, t0, t1, path = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
moved = n = 0
for line in open(path):
    w = line.split()
    if not w: continue
    n += 1
    if w[0] in ("read", "write", "mapread", "mapwrite") and len(w) >= 3:
        moved += int(w[2], 16)
print(cell, ops, t1 - t0, moved / n if n else 0)
PY
      ;;
    dt-none|dt-events)
      local ev=all; [ "$cell" = dt-none ] && ev=none
      # shellcheck disable=SC2086
      "$DT" torture --test-dir "$MNT" --seed "$SEED" --ops "$OPS" --events "$ev" --no-progress --no-shrink \
        --results "$W/res" $DT_ARGS >"$W/dt.out" 2>&1 || { echo "diotorture failed:" >&2; tail -5 "$W/dt.out" >&2; exit 1; }
      python3 - "$cell" "$W/res/latest/torture" <<'PY'
import json, sys
cell, d = sys.argv[1], sys.argv[2]
s = json.load(open(d + "/summary.json"))
moved = n = 0
for line in open(d + "/oplog.jsonl"):
    r = json.loads(line)
    if "op" not in r: continue
    n += 1
    if any(k in r["op"] for k in ("read", "write")):
        moved += r["len"] * r.get("qd", 1)
print(cell, s["ops"], s["seconds"], moved / n if n else 0)
PY
      rm -rf "$W/res"
      ;;
  esac
  drop_fs
}

CELLS=(fsx-psync dt-none fsx-uring dt-events)
: >"$W/rows"
for ((t = 1; t <= TURNS; t++)); do
  order=("${CELLS[@]}")
  if ((t % 2 == 0)); then order=(); for ((i = ${#CELLS[@]} - 1; i >= 0; i--)); do order+=("${CELLS[i]}"); done; fi
  for c in "${order[@]}"; do
    row=$(run_cell "$c")
    echo "turn $t: $row" >&2
    echo "$t $row" >>"$W/rows"
  done
done

echo
echo "KERNEL $(uname -r), loop btrfs $SIZE on $BACKING, $TURNS turns, $OPS ops a turn, seed $SEED"
python3 - "$W/rows" <<'PY'
import random, statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
by = {}
for t, cell, ops, secs, bpo in rows:
    by.setdefault(cell, []).append((int(t), int(ops) / float(secs), float(bpo)))
print(f"{'cell':<10} {'ops/s (median)':>15} {'min':>8} {'max':>8} {'KiB/op':>8}  {'vs fsx-psync (95% CI)':<24} {'vs fsx-uring':<24}")
def ratio(a, b):
    ta = {t: r for t, r, _ in by[a]}
    tb = {t: r for t, r, _ in by[b]}
    turns = sorted(set(ta) & set(tb))
    point = statistics.mean(ta[t] for t in turns) / statistics.mean(tb[t] for t in turns)
    rnd = random.Random(1)
    boots = []
    for _ in range(2000):
        s = [rnd.choice(turns) for _ in turns]
        boots.append(statistics.mean(ta[t] for t in s) / statistics.mean(tb[t] for t in s))
    boots.sort()
    return f"{point:.2f}x ({boots[50]:.2f}-{boots[1949]:.2f})"
for cell in ("fsx-psync", "fsx-uring", "dt-none", "dt-events"):
    if cell not in by: continue
    rates = [r for _, r, _ in by[cell]]
    kib = statistics.mean(b for _, _, b in by[cell]) / 1024
    r1 = ratio(cell, "fsx-psync") if cell.startswith("dt") else ""
    r2 = ratio(cell, "fsx-uring") if cell.startswith("dt") else ""
    print(f"{cell:<10} {statistics.median(rates):>15.0f} {min(rates):>8.0f} {max(rates):>8.0f} {kib:>8.1f}  {r1:<24} {r2:<24}")
PY
