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
[ $# -ge 2 ] || { echo "usage: $0 VARIANT FIX... (patches from tests/kernel-reverts/FIX.patch)" >&2; exit 2; }
variant=$1; shift
want=""
for fix in "$@"; do
  p=$HERE/kernel-reverts/$fix.patch
  [ -f "$p" ] || { echo "build_kernel.sh: no $p; write the reverse patch of $fix first" >&2; exit 2; }
  want+="$fix $(sha1sum < "$p" | cut -c1-12)"$'\n'
done

# The Debian kernel whose source apt has: linux-source-6.1 is always the newest.
read -r kernel modules < <("$HERE"/vm_kernel.sh)
ver=$(basename "$modules")
pkgver=$(apt-cache show "linux-image-$ver-unsigned" | awk '/^Version:/{print $2; exit}')
out=$CACHE/built/$variant
if [ -f "$out/patches" ] && [ "$(cat "$out/patches")" = "$want$ver $pkgver" ]; then
  echo "$kernel $out/lib/modules/$ver"; exit 0
fi

headers=/usr/src/linux-headers-$ver
if [ ! -f "$headers/Makefile" ]; then
  apt-get install -y "linux-headers-$ver" >/dev/null 2>&1 ||
    { echo "build_kernel.sh: cannot install linux-headers-$ver: apt-get install linux-headers-$ver" >&2; exit 2; }
fi

src=$CACHE/src
mkdir -p "$src"
deb=$(ls "$src"/linux-source-6.1_"$pkgver"_all.deb 2>/dev/null || true)
if [ -z "$deb" ]; then
  (cd "$src" && apt-get download "linux-source-6.1=$pkgver" >/dev/null 2>&1) ||
    { echo "build_kernel.sh: apt has no linux-source-6.1 $pkgver to match linux-image-$ver" >&2; exit 2; }
  deb=$(ls "$src"/linux-source-6.1_"$pkgver"_all.deb)
fi
tree=$src/linux-source-6.1-$pkgver
if [ ! -d "$tree/fs/btrfs" ]; then
  rm -rf "$src/x" "$tree.tmp" && dpkg -x "$deb" "$src/x" && mkdir -p "$tree.tmp"
  tar -C "$tree.tmp" --strip-components=1 -xaf "$src"/x/usr/src/linux-source-6.1.tar.xz linux-source-6.1/fs/btrfs
  rm -rf "$src/x" && mv "$tree.tmp" "$tree"
fi

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

rm -rf "$out.tmp" && mkdir -p "$out.tmp/lib/modules"
cp -al "$modules" "$out.tmp/lib/modules/$ver"
# Replace the packaged module (btrfs.ko, or btrfs.ko.xz on kernels that
# compress modules) under the same name: modules.dep names it. Unlink it
# first: it is a hard link into the package's own tree.
ko=$(ls "$out.tmp/lib/modules/$ver"/kernel/fs/btrfs/btrfs.ko* | head -1)
rm -f "$ko"
strip --strip-debug -o "$work/btrfs.stripped.ko" "$work/fs/btrfs/btrfs.ko"
case $ko in
  *.xz) xz -c --check=crc32 "$work/btrfs.stripped.ko" > "$ko" ;;
  *) cp "$work/btrfs.stripped.ko" "$ko" ;;
esac
printf '%s' "$want$ver $pkgver" > "$out.tmp/patches"
rm -rf "$out" && mv "$out.tmp" "$out"
echo "$kernel $out/lib/modules/$ver"
