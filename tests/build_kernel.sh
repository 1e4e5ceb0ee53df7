#!/bin/bash
# Builds Debian's 6.1 kernel source with some fixes reverted, for proving that
# a catalogue case FAILs where its bug is live:
#
#   tests/build_kernel.sh VARIANT [FIX...]     e.g.  nowait-reads 79d3d1d12e6f a4527e1853f8 ca93e44bfb5f
#
# Each FIX names tests/kernel-reverts/FIX.patch, a hand-made reverse of that
# fix against the 6.1 tree (the Debian source has no git history to revert
# from). Prints the path of the bzImage, for `diotorture vm --kernel PATH`
# (everything the guest needs is built in, so no --modules).
#
# Never run in CI: the first build takes 15+ minutes of both cores. Run it as
#   flock /var/tmp/diotorture-heavy.lock nice -n 19 tests/build_kernel.sh ...
# One source tree is kept under /var/tmp/diotorture-kernels/build and reused:
# a variant restores the files the previous one patched, applies its own
# patches and rebuilds incrementally (about a minute), and its bzImage is
# cached under /var/tmp/diotorture-kernels/built/VARIANT/ with the list of
# patches it was built from.
set -euo pipefail
CACHE=${DT_KERNEL_CACHE:-/var/tmp/diotorture-kernels}
HERE=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 VARIANT [FIX...] (patches from tests/kernel-reverts/FIX.patch)" >&2; exit 2; }
variant=$1; shift
out=$CACHE/built/$variant
want=""
for fix in "$@"; do
  p=$HERE/kernel-reverts/$fix.patch
  [ -f "$p" ] || { echo "build_kernel.sh: no $p; write the reverse patch of $fix first" >&2; exit 2; }
  want+="$fix $(sha1sum < "$p" | cut -c1-12)"$'\n'
done
if [ -f "$out/bzImage" ] && [ "$(cat "$out/patches" 2>/dev/null)" = "$want" ]; then
  echo "$out/bzImage"; exit 0
fi

for tool in flex bison bc gcc make; do
  command -v $tool >/dev/null || { echo "build_kernel.sh: $tool missing: apt-get install -y flex bison bc build-essential libelf-dev libssl-dev" >&2; exit 2; }
done

src=$CACHE/src
tree=$CACHE/build/linux-source-6.1
if [ ! -f "$tree/Makefile" ]; then
  mkdir -p "$src" "$CACHE/build"
  deb=$(ls "$src"/linux-source-6.1_*_all.deb 2>/dev/null | tail -1 || true)
  if [ -z "$deb" ]; then
    (cd "$src" && apt-get download linux-source-6.1 >/dev/null 2>&1)
    deb=$(ls "$src"/linux-source-6.1_*_all.deb | tail -1)
  fi
  rm -rf "$src/x" && dpkg -x "$deb" "$src/x"
  tar -C "$CACHE/build" -xaf "$src"/x/usr/src/linux-source-6.1.tar.xz
fi
cd "$tree"

# Undo the previous variant's patches (newest first), then apply this one's.
if [ -f .dt-applied ]; then
  tac .dt-applied | while read -r fix; do
    patch -p1 -R -s < "$HERE/kernel-reverts/$fix.patch"
  done
  rm -f .dt-applied
fi
for fix in "$@"; do
  patch -p1 -s < "$HERE/kernel-reverts/$fix.patch"
  echo "$fix" >> .dt-applied
done

if [ ! -f .config ]; then
  make -s defconfig kvm_guest.config >/dev/null
  scripts/config --enable BTRFS_FS --enable BTRFS_FS_POSIX_ACL --enable BTRFS_ASSERT \
    --enable IO_URING --enable USERFAULTFD --enable BLK_DEV_LOOP \
    --enable VIRTIO --enable VIRTIO_PCI --enable VIRTIO_BLK --enable VIRTIO_CONSOLE \
    --enable DEVTMPFS --enable DEVTMPFS_MOUNT --enable TMPFS --enable BLK_DEV_INITRD \
    --enable FTRACE --enable KPROBES --enable KPROBE_EVENTS \
    --disable DEBUG_INFO --disable DEBUG_INFO_BTF --set-str LOCALVERSION "-diotorture"
  make -s olddefconfig >/dev/null
fi
make -s -j"$(nproc)" bzImage >/dev/null
mkdir -p "$out"
cp arch/x86/boot/bzImage "$out/bzImage"
printf '%s' "$want" > "$out/patches"
echo "$out/bzImage"
