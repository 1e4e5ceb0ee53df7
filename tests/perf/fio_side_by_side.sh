#!/bin/bash
# The performance bar of `diotorture bench`: fio and diotorture on the same
# NOCOW file of a loop btrfs, same block size, engine and queue depth, in one
# run; prints the throughput ratio (diotorture / fio, should be >= 1.00x) and
# CPU seconds per GiB of both (diotorture's should be no higher).
# A benchmark, not a test: nothing here runs in CI. Needs root.
#
#   tests/perf/fio_side_by_side.sh [--file-size 1G] [--block-size 1M] [--iodepth 8] [--repetitions 5]
#
# Each tool runs three times, alternating (diotorture, fio, diotorture, ...),
# and the medians are taken over all turns, so slow drift of the machine hits
# both alike. Both drop only the file's cached pages before a pass (fio's
# invalidate, diotorture's POSIX_FADV_DONTNEED). Exit status 1 if any cell misses the bar.
set -euo pipefail

SIZE=1G BS=1M QD=8 REPS=5
while [ $# -gt 0 ]; do
  case $1 in
    --file-size) SIZE=$2; shift 2 ;;
    --block-size) BS=$2; shift 2 ;;
    --iodepth) QD=$2; shift 2 ;;
    --repetitions) REPS=$2; shift 2 ;;
    *) echo "fio_side_by_side.sh: unknown option $1; see the comment at the top" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "fio_side_by_side.sh: run as root (loop devices, mount)" >&2; exit 2; }
command -v fio >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q fio >/dev/null
HERE=$(cd "$(dirname "$0")/../.." && pwd)
DT=${DIOTORTURE:-$HERE/build/diotorture}
[ -x "$DT" ] || { echo "fio_side_by_side.sh: $DT not built; run .ci/setup first" >&2; exit 2; }

WORK=$(mktemp -d /var/tmp/dt-fio.XXXXXX)
LOOP=""
cleanup() {
  umount "$WORK/mnt" 2>/dev/null || true
  [ -n "$LOOP" ] && losetup -d "$LOOP" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
truncate -s 8G "$WORK/img"
LOOP=$(losetup -f --show --direct-io=on "$WORK/img")
mkfs.btrfs -q -f "$LOOP" >/dev/null
mkdir -p "$WORK/mnt" "$WORK/res"
mount "$LOOP" "$WORK/mnt"
# diotorture bench puts its NOCOW file here; fio uses the same path.
FILE=$WORK/mnt/diotorture-bench/nodatasum/data

dt_turn() {  # engine -> appends bench.json paths
  local engine=$1 extra=()
  [ "$engine" = io_uring ] && extra=(--iodepth "$QD")
  "$DT" bench --test-dir "$WORK/mnt" --targets nodatasum --engines "$engine" "${extra[@]}" --file-size "$SIZE" \
    --block-size "$BS" --repetitions "$REPS" --no-progress --results "$WORK/res" >/dev/null
  echo "$WORK/res/$(readlink "$WORK/res/latest")/bench.json" >>"$WORK/dt-$engine.list"
}

fio_turn() {  # engine: one untimed layout pass, then REPS timed passes per op
  local engine=$1
  mkdir -p "$(dirname "$FILE")" && chattr +C "$(dirname "$FILE")"
  local common=(--name=seq --filename="$FILE" --bs="$BS" --size="$SIZE" --direct=1 --ioengine="$engine"
    --iodepth="$QD" --output-format=json)
  [ "$engine" = psync ] && common=(--name=seq --filename="$FILE" --bs="$BS" --size="$SIZE" --direct=1
    --ioengine=psync --output-format=json)
  fio "${common[@]}" --rw=write --end_fsync=1 >/dev/null
  for op in write read; do
    for _ in $(seq "$REPS"); do
      local extra=()
      [ $op = write ] && extra=(--end_fsync=1)
      fio "${common[@]}" --rw=$op "${extra[@]}" >"$WORK/fio-$engine-$op-$RANDOM.json"
    done
  done
  rm -rf "$WORK/mnt/diotorture-bench"
}

for engine in psync io_uring; do
  for turn in 1 2 3; do
    dt_turn $engine
    fio_turn $engine
  done
done

python3 - "$WORK" "$SIZE" "$BS" "$QD" <<'PY'
import glob, json, statistics, sys
work, size, bs, qd = sys.argv[1:5]
GiB = 1 << 30
rows, missed = [], 0
print(f"fio {json.load(open(glob.glob(work + '/fio-*.json')[0]))['fio version']} vs diotorture, "
      f"NOCOW file on a loop btrfs, {bs} blocks, {size} file, io_uring queue depth {qd}")
print("CPU s/GiB: the submitting thread, as fio reports it; dt process = diotorture with every thread, io_uring workers too")
print(f"{'engine':9} {'op':6} {'fio MiB/s':>10} {'dt MiB/s':>10} {'ratio':>7} {'fio CPU s/GiB':>14} {'dt CPU s/GiB':>13} {'dt process':>11}")
for engine in ("psync", "io_uring"):
    for op in ("write", "read"):
        fbw, fcpu = [], []
        for f in glob.glob(f"{work}/fio-{engine}-{op}-*.json"):
            j = json.load(open(f))["jobs"][0]
            io = j[op]
            fbw.append(io["bw_bytes"] / (1 << 20))
            secs = j["job_runtime"] / 1000.0
            fcpu.append((j["usr_cpu"] + j["sys_cpu"]) / 100.0 * secs / (io["io_bytes"] / GiB))
        dbw, dcpu, dproc = [], [], []
        for path in open(f"{work}/dt-{engine}.list").read().split():
            for c in json.load(open(path))["cells"]:
                if c["op"] != op:
                    continue
                dbw += [c["bytes"] / (1 << 20) / s for s in c["seconds"]]
                # fio counts the job thread's CPU (RUSAGE_THREAD): compare like with like,
                # and show the whole process (io_uring workers too) beside it.
                dcpu += [cs / (c["bytes"] / GiB) for cs in c["thread_cpu_seconds"]]
                dproc += [cs / (c["bytes"] / GiB) for cs in c["cpu_seconds"]]
        f_m, d_m = statistics.median(fbw), statistics.median(dbw)
        fc, dc = statistics.median(fcpu), statistics.median(dcpu)
        ok = d_m >= f_m and dc <= fc
        missed += not ok
        print(f"{engine:9} {op:6} {f_m:10.1f} {d_m:10.1f} {d_m / f_m:6.2f}x {fc:14.3f} {dc:13.3f} {statistics.median(dproc):11.3f}"
              f"{'' if ok else '  below the bar'}")
sys.exit(1 if missed else 0)
PY
