#!/bin/bash
# Prints "KERNEL MODULES" for Debian's newest packaged 6.1 kernel (or, with an
# ABI number such as 50, for linux-image-6.1.0-50: an older stable release
# where a later fix is missing), downloading
# and extracting it (apt-get download + dpkg -x, no install) into a cache
# under /var/tmp on first use. This is how `diotorture vm` is pointed at a
# distro kernel; the vm integration test uses it.
set -euo pipefail
CACHE=${DT_KERNEL_CACHE:-/var/tmp/diotorture-kernels}
abi=${1:-[0-9]+}
pkg=$(apt-cache search --names-only "^linux-image-6\\.1\\.0-$abi-amd64-unsigned\$" | awk '{print $1}' | sort -V | tail -1)
if [ -z "$pkg" ]; then
  apt-get update -qq >/dev/null
  pkg=$(apt-cache search --names-only "^linux-image-6\\.1\\.0-$abi-amd64-unsigned\$" | awk '{print $1}' | sort -V | tail -1)
fi
[ -n "$pkg" ] || { echo "vm_kernel.sh: no linux-image-6.1.0-*-amd64-unsigned package in the apt lists" >&2; exit 1; }
ver=${pkg#linux-image-}
ver=${ver%-unsigned}
dir=$CACHE/$pkg
if [ ! -f "$dir/boot/vmlinuz-$ver" ]; then
  mkdir -p "$CACHE/dl"
  (cd "$CACHE/dl" && apt-get download "$pkg" >/dev/null 2>&1)
  rm -rf "$dir.tmp" && dpkg -x "$CACHE"/dl/"$pkg"_*.deb "$dir.tmp" && mv "$dir.tmp" "$dir"
  rm -f "$CACHE"/dl/"$pkg"_*.deb
fi
echo "$dir/boot/vmlinuz-$ver $dir/lib/modules/$ver"
