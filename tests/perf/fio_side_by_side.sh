#!/bin/bash
# The performance bar of `diotorture bench`: fio and diotorture on the same
# NOCOW file of a loop btrfs, same block size, engine and queue depth, in one
# run; prints the throughput ratio (diotorture / fio, should be >= 1.00x) and
# CPU seconds per GiB of both (diotorture's should be no higher), for the
# sequential workloads (--block-size, io_uring at --iodepth) and random 4 KiB
# reads and writes at queue depth 1 (psync and io_uring) and 32 (io_uring),
# --random-bytes per pass, offsets uniformly at random (fio: norandommap).
# A benchmark, not a test: nothing here runs in CI. Needs root.
#
#   tests/perf/fio_side_by_side.sh [--file-size 1G] [--block-size 1M] [--iodepth 8] [--repetitions 5]
#                                  [--random-bytes 64M] [--workloads "read write randread-4k-qd1 ..."]
#
# Each tool runs three times per workload, alternating (diotorture, fio,
# diotorture, ...), and the medians are taken over all turns, so slow drift
# of the machine hits both alike. Both drop only the file's cached pages before a pass (fio's
# invalidate, diotorture's POSIX_FADV_DONTNEED). Exit status 1 if any cell misses the bar.
set -euo pipefail

SIZE=1G BS=1M QD=8 REPS=5 RBYTES=64M
WORKLOADS="read write randread-4k-qd1 randwrite-4k-qd1 randread-4k-qd32 randwrite-4k-qd32"
while [ $# -gt 0 ]; do
  case $1 in
    --random-bytes) RBYTES=$2; shift 2 ;;
    --workloads) WORKLOADS=$2; shift 2 ;;
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

# The workloads an engine can run: psync has no queue.
engine_workloads() {
  local w out=()
  for w in $WORKLOADS; do
    [ "$1" = psync ] && [[ $w == *qd32 ]] && continue
    out+=("$w")
  done
  echo "${out[@]}"
}

dt_turn() {  # engine workload -> appends bench.json paths
  local engine=$1 workload=$2 extra=()
  [ "$engine" = io_uring ] && extra=(--iodepth "$QD")
  "$DT" bench --test-dir "$WORK/mnt" --targets nodatasum --engines "$engine" "${extra[@]}" --file-size "$SIZE" \
    --block-size "$BS" --repetitions "$REPS" --random-bytes "$RBYTES" --no-progress --results "$WORK/res" \
    --workloads "$workload" >/dev/null
  echo "$WORK/res/$(readlink "$WORK/res/latest")/bench.json" >>"$WORK/dt-$engine.list"
}

fio_turn() {  # engine workload: one untimed layout pass, then REPS timed passes
  local engine=$1 w=$2
  mkdir -p "$(dirname "$FILE")" && chattr +C "$(dirname "$FILE")"
  fio --name=layout --filename="$FILE" --bs="$BS" --size="$SIZE" --direct=1 --ioengine=psync --rw=write \
    --end_fsync=1 --output-format=json >/dev/null
  local args=(--name="$w" --filename="$FILE" --size="$SIZE" --direct=1 --ioengine="$engine" --output-format=json)
  case $w in
    read | write) args+=(--rw="$w" --bs="$BS") ;;
    randread-4k-qd*) args+=(--rw=randread --bs=4k --io_size="$RBYTES" --norandommap --randrepeat=0) ;;
    randwrite-4k-qd*) args+=(--rw=randwrite --bs=4k --io_size="$RBYTES" --norandommap --randrepeat=0) ;;
  esac
  local depth=$QD
  [[ $w == *qd1 ]] && depth=1
  [[ $w == *qd32 ]] && depth=32
  [ "$engine" = io_uring ] && args+=(--iodepth="$depth")
  [[ $w == *write* ]] && args+=(--end_fsync=1)
  for _ in $(seq "$REPS"); do
    fio "${args[@]}" >"$WORK/fio-$engine-$w-$RANDOM$RANDOM.json"
  done
  rm -rf "$WORK/mnt/diotorture-bench"
}

# Turns alternate per workload (diotorture, fio, diotorture, ...), so a burst
# of load from elsewhere on the host hits one workload of both tools, not one
# tool's every workload.
for engine in psync io_uring; do
  for w in $(engine_workloads "$engine"); do
    for turn in 1 2 3; do
      dt_turn $engine "$w"
      fio_turn $engine "$w"
    done
  done
done

python3 - "$WORK" "$SIZE" "$BS" "$QD" "$RBYTES" "$WORKLOADS" <<'PY'
import glob, json, statistics, sys
work, size, bs, qd, rbytes, workloads = sys.argv[1:7]
GiB = 1 << 30
missed = 0
print(f"fio {json.load(open(glob.glob(work + '/fio-*.json')[0]))['fio version']} vs diotorture, "
      f"NOCOW file on a loop btrfs, {size} file; sequential: {bs} blocks, io_uring queue depth {qd}; "
      f"random: 4 KiB, {rbytes} per pass")
print("rate: MiB/s (sequential) or IOPS (random), median over every pass of three alternating turns")
print("CPU s/GiB: the submitting thread, as fio reports it; dt process = diotorture with every thread, io_uring workers too")
print(f"{'engine':9} {'workload':18} {'fio':>10} {'dt':>10} {'ratio':>7} {'fio CPU s/GiB':>14} {'dt CPU s/GiB':>13} {'dt process':>11}")
for engine in ("psync", "io_uring"):
    for w in workloads.split():
        files = glob.glob(f"{work}/fio-{engine}-{w}-*.json")
        if not files:
            continue
        op = "write" if "write" in w else "read"
        random = w.startswith("rand")
        frate, fcpu = [], []
        for f in files:
            j = json.load(open(f))["jobs"][0]
            io = j[op]
            frate.append(io["iops"] if random else io["bw_bytes"] / (1 << 20))
            secs = j["job_runtime"] / 1000.0
            fcpu.append((j["usr_cpu"] + j["sys_cpu"]) / 100.0 * secs / (io["io_bytes"] / GiB))
        drate, dcpu, dproc = [], [], []
        for path in open(f"{work}/dt-{engine}.list").read().split():
            for c in json.load(open(path))["cells"]:
                if c["op"] != w:
                    continue
                unit = c["block_size"] if random else (1 << 20)
                drate += [c["bytes"] / unit / s for s in c["seconds"]]
                # fio counts the job thread's CPU (RUSAGE_THREAD): compare like with like,
                # and show the whole process (io_uring workers too) beside it.
                dcpu += [cs / (c["bytes"] / GiB) for cs in c["thread_cpu_seconds"]]
                dproc += [cs / (c["bytes"] / GiB) for cs in c["cpu_seconds"]]
        f_m, d_m = statistics.median(frate), statistics.median(drate)
        fc, dc = statistics.median(fcpu), statistics.median(dcpu)
        ok = d_m >= f_m and dc <= fc
        missed += not ok
        print(f"{engine:9} {w:18} {f_m:10.1f} {d_m:10.1f} {d_m / f_m:6.2f}x {fc:14.3f} {dc:13.3f} {statistics.median(dproc):11.3f}"
              f"{'' if ok else '  below the bar'}")
sys.exit(1 if missed else 0)
PY
