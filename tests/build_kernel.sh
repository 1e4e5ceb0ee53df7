#!/bin/bash
# Debian 12's packaged 6.1 kernel with some btrfs fixes reverted, for proving
# that a catalogue case FAILs where its bug is live:
#
#   tests/build_kernel.sh VARIANT FIX...   e.g.  nowait-reads 79d3d1d12e6f a4527e1853f8 ca93e44bfb5f
#
# Prints "KERNEL MODULES" like tests/vm_kernel.sh, so
#   build/diotorture vm $(tests/build_kernel.sh V FIX... | awk '{print "--kernel", $1, "--modules", $2}') -- run ...
# boots it. Each FIX names tests/kernel-reverts/FIX.patch, a hand-made reverse
# of that fix against Debian's linux-source-6.1 (which has no git history to
# revert from). Only btrfs is rebuilt: the btrfs module is compiled from the
# patched source against the linux-headers package of the very same Debian
# build and put into a copy of that kernel's modules (hard links, except
# btrfs.ko.xz), so the guest runs Debian's kernel with a patched btrfs.ko. A
# whole `make defconfig bzImage` needs 15+ minutes of two idle cores; btrfs
# alone a few minutes, which is what a shared test host can spare.
#
# Never run in CI. Run it as
#   flock /var/tmp/diotorture-heavy.lock nice -n 19 tests/build_kernel.sh ...
# Results are cached under /var/tmp/diotorture-kernels/built/VARIANT/ with the
# list of patches (and their hashes) they were built from.
set -euo pipefail
CACHE=${DT_KERNEL_CACHE:-/var/tmp/diotorture-kernels}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/kernel_lib.sh"
[ $# -ge 2 ] || { echo "usage: $0 VARIANT FIX... (patches from tests/kernel-reverts/FIX.patch)" >&2; exit 2; }
variant=$1; shift
want=""
for fix in "$@"; do
  p=$HERE/kernel-reverts/$fix.patch
  [ -f "$p" ] || { echo "build_kernel.sh: no $p; write the reverse patch of $fix first" >&2; exit 2; }
  want+="$fix $(sha1sum < "$p" | cut -c1-12)"$'\n'
done

# The Debian kernel whose source apt has: linux-source-6.1 is always the newest.
kernel_resolve
out=$CACHE/built/$variant
if [ -f "$out/patches" ] && [ "$(cat "$out/patches")" = "$want$ver $pkgver" ]; then
  echo "$kernel $out/lib/modules/$ver"; exit 0
fi
kernel_headers build_kernel.sh
kernel_btrfs_source build_kernel.sh

work=$CACHE/build/$variant
if [ ! -f "$work/fs/btrfs/btrfs.ko" ] || [ "$(cat "$work/patches" 2>/dev/null)" != "$want$ver $pkgver" ]; then
  rm -rf "$work" && mkdir -p "$work" && cp -a "$tree/fs" "$work/"
  for fix in "$@"; do
    (cd "$work" && patch -p1 -s < "$HERE/kernel-reverts/$fix.patch")
  done
  make -s -C "$headers" M="$work/fs/btrfs" -j"$(nproc)" modules >"$work/build.log" 2>&1 ||
    { tail -20 "$work/build.log" >&2; echo "build_kernel.sh: btrfs did not build; see $work/build.log" >&2; exit 1; }
  printf '%s' "$want$ver $pkgver" > "$work/patches"
fi

kernel_install_module "$work/fs/btrfs/btrfs.ko" "$out" "$want$ver $pkgver"
echo "$kernel $out/lib/modules/$ver"
