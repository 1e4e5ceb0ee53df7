#!/bin/bash
# Builds the probes static (a `diotorture vm` guest has only the libraries of
# the binaries it is given) into OUT (default
# /var/tmp/diotorture-kernels/mutants/probes): probe-NAME per NAME.c, and
# probe-all, the runner. Prints OUT.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-${DT_KERNEL_CACHE:-/var/tmp/diotorture-kernels}/mutants/probes}
mkdir -p "$OUT"
for c in "$HERE"/*.c; do
  n=$(basename "$c" .c)
  bin=$OUT/probe-$n
  [ "$n" = probe-all ] && bin=$OUT/probe-all
  if [ ! -x "$bin" ] || [ "$c" -nt "$bin" ] || [ "$HERE/probe.h" -nt "$bin" ] || [ "$HERE/short_write.h" -nt "$bin" ] || [ "$HERE/nowait_uring.h" -nt "$bin" ]; then
    cc -static -O2 -Wall -Wextra -Werror -pthread -o "$bin" "$c" -luring
  fi
done
echo "$OUT"
