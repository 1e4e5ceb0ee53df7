#!/bin/bash
# Builds btrfs.ko mutants of Debian 12's 6.1 kernel, incrementally:
#
#   tests/mutants/build.sh MUTANT...     prints "MUTANT KERNEL MODULES" per mutant
#
# MUTANT names tests/mutants/patches/MUTANT.patch (a small patch against
# Debian's linux-source-6.1, first line a comment of what it breaks),
# revert-ID for tests/kernel-reverts/ID.patch (the reverted fixes the catalogue
# cases were proven with), or "stock" for Debian's own packaged module. One extracted fs/btrfs tree is
# built once under /var/tmp/diotorture-kernels/mutants/tree (a full module
# build, ~2 min of two idle cores); then per mutant the patch is applied,
# kbuild recompiles only the changed file(s) and relinks btrfs.ko, the module
# is installed into a per-mutant hard-linked modules copy
# (mutants/built/MUTANT, as tests/build_kernel.sh does), and the patch is
# reverted (the reverted file is newer than its object, so the next build
# recompiles it back). A mutant whose patch and kernel are unchanged is not
# rebuilt. Never run in CI. Run it as
#   flock /var/tmp/diotorture-heavy.lock nice -n 10 tests/mutants/build.sh ...
set -euo pipefail
MUT=$(cd "$(dirname "$0")" && pwd)
. "$MUT/../kernel_lib.sh"
[ $# -ge 1 ] || { echo "usage: $0 MUTANT... (tests/mutants/patches/MUTANT.patch, or stock)" >&2; exit 2; }
patch_of() {
  if [ -f "$MUT/patches/$1.patch" ]; then echo "$MUT/patches/$1.patch"
  elif [[ $1 == revert-* ]] && [ -f "$MUT/../kernel-reverts/${1#revert-}.patch" ]; then echo "$MUT/../kernel-reverts/${1#revert-}.patch"
  fi
}
for m in "$@"; do
  [ "$m" = stock ] || [ -n "$(patch_of "$m")" ] ||
    { echo "build.sh: no $MUT/patches/$m.patch; name a mutant from tests/mutants/patches/, revert-ID of tests/kernel-reverts/ID.patch, or stock" >&2; exit 2; }
done

kernel_resolve
base=$KCACHE/mutants
mkdir -p "$base"
# One builder of the shared tree at a time (score.sh and a hand-run build.sh).
exec 9>"$base/tree.lock"
flock 9

ensure_tree() {
  [ -f "$base/tree/stamp" ] && [ "$(cat "$base/tree/stamp")" = "$ver $pkgver" ] && return
  kernel_headers build.sh
  kernel_btrfs_source build.sh
  echo "build.sh: building the pristine btrfs tree once ($base/tree)" >&2
  rm -rf "$base/tree" && mkdir -p "$base/tree" && cp -a "$tree/fs" "$base/tree/"
  make -s -C "$headers" M="$base/tree/fs/btrfs" -j"$(nproc)" modules >"$base/tree/build.log" 2>&1 ||
    { tail -20 "$base/tree/build.log" >&2; echo "build.sh: pristine btrfs did not build; see $base/tree/build.log" >&2; exit 1; }
  printf '%s' "$ver $pkgver" > "$base/tree/stamp"
}

for m in "$@"; do
  if [ "$m" = stock ]; then echo "stock $kernel $modules"; continue; fi
  p=$(patch_of "$m")
  stamp="$m $(sha1sum < "$p" | cut -c1-12) $ver $pkgver"
  out=$base/built/$m
  if [ -f "$out/patches" ] && [ "$(cat "$out/patches")" = "$stamp" ]; then
    echo "$m $kernel $out/lib/modules/$ver"; continue
  fi
  ensure_tree
  kernel_headers build.sh
  t0=$(date +%s.%N)
  # The objects of the files the patch changes, as built from pristine
  # source: put back after the revert, so the next mutant does not recompile
  # them (a reverted file is newer than its mutated object).
  objs=()
  for f in $(sed -n 's|^+++ b/\(fs/btrfs/[^[:space:]]*\)\.c.*|\1|p' "$p"); do
    [ -f "$base/tree/$f.o" ] && cp -p "$base/tree/$f.o" "$base/tree/$f.o.pristine" && objs+=("$f")
  done
  (cd "$base/tree" && patch -p1 -s --no-backup-if-mismatch < "$p") ||
    { echo "build.sh: $m.patch does not apply to linux-source-6.1 $pkgver" >&2; exit 1; }
  rc=0
  make -s -C "$headers" M="$base/tree/fs/btrfs" -j"$(nproc)" modules >"$base/tree/build-$m.log" 2>&1 || rc=$?
  mkdir -p "$base/ko"
  [ $rc -ne 0 ] || cp "$base/tree/fs/btrfs/btrfs.ko" "$base/ko/$m.ko"
  # Always revert, also after a failed build, so the tree stays pristine.
  (cd "$base/tree" && patch -p1 -R -s --no-backup-if-mismatch < "$p")
  for f in "${objs[@]}"; do mv "$base/tree/$f.o.pristine" "$base/tree/$f.o" && touch "$base/tree/$f.o"; done
  if [ $rc -ne 0 ]; then
    tail -20 "$base/tree/build-$m.log" >&2
    echo "build.sh: mutant $m did not build; see $base/tree/build-$m.log" >&2; exit 1
  fi
  kernel_install_module "$base/ko/$m.ko" "$out" "$stamp"
  printf 'build.sh: %s built in %.1f s\n' "$m" "$(echo "$(date +%s.%N) - $t0" | bc)" >&2
  echo "$m $kernel $out/lib/modules/$ver"
done
