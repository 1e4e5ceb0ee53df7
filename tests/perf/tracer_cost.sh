#!/bin/bash
# What the path tracer costs an I/O: `diotorture bench` on a NOCOW file with
# 1 MiB direct reads and writes, alternating untraced runs and runs with
# DIOTORTURE_BENCH_TRACE=1 (path evidence recorded during every timed pass),
# then the extra CPU time per 1 MiB read, as a share of an untraced read's
# time. The tracer's work is kernel CPU in the I/O path (recording events), so
# CPU per I/O is the measure; wall time on a shared machine scatters far more
# than 5 %. A benchmark, not a test: it is not run in CI.
# Usage: tests/perf/tracer_cost.sh [ROUNDS] [REPETITIONS] [FILE_SIZE]
set -euo pipefail
DT=${DIOTORTURE:-$(dirname "$0")/../../build/diotorture}
ROUNDS=${1:-3}
REPS=${2:-9}
SIZE=${3:-256M}
OUT=$(mktemp -d /var/tmp/dt-tracer-cost.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
for round in $(seq 1 "$ROUNDS"); do
  for mode in plain traced; do
    env $([ $mode = traced ] && echo DIOTORTURE_BENCH_TRACE=1) "$DT" bench --targets nodatasum --engines psync,io_uring \
      --file-size "$SIZE" --repetitions "$REPS" --label "$mode" --results "$OUT/$mode-$round" --no-progress \
      >"$OUT/$mode-$round.log"
    grep -h '^DIOTORTURE_BENCH_TRACE' "$OUT/$mode-$round.log" || true
  done
done
python3 - "$OUT" <<'PY'
import glob, json, statistics as st, sys
rows = {}
for f in glob.glob(sys.argv[1] + "/*/20*/bench.json"):
    d = json.load(open(f))
    for c in d["cells"]:
        if c["op"] != "read":
            continue
        n = c["bytes"] // (1 << 20)
        r = rows.setdefault((d["label"], c["engine"]), {"s": [], "cpu": []})
        r["s"] += [x / n for x in c["seconds"]]
        r["cpu"] += [x / n for x in c["cpu_seconds"]]
for (label, eng), r in sorted(rows.items()):
    print("%-6s %-8s 1 MiB direct read: %.3f ms median (%.3f fastest), CPU %.2f us median (%.2f least), %d passes"
          % (label, eng, 1e3 * st.median(r["s"]), 1e3 * min(r["s"]), 1e6 * st.median(r["cpu"]), 1e6 * min(r["cpu"]),
             len(r["s"])))
for eng in ("psync", "io_uring"):
    p, t = rows[("plain", eng)], rows[("traced", eng)]
    extra = st.median(t["cpu"]) - st.median(p["cpu"])
    print("%s: tracing adds %.2f us CPU per 1 MiB read = %.2f %% of the untraced read's median time (%.3f ms)"
          % (eng, 1e6 * extra, 100 * extra / st.median(p["s"]), 1e3 * st.median(p["s"])))
PY
