# Shared by tests/build_kernel.sh and tests/mutants/build.sh (source it; it
# defines functions only). Both rebuild Debian 12's packaged 6.1 btrfs module
# from linux-source-6.1 against the linux-headers of the very same build and
# install it into a hard-linked copy of that kernel's modules, so a guest runs
# Debian's kernel with a patched btrfs.ko.
KLIB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KCACHE=${DT_KERNEL_CACHE:-/var/tmp/diotorture-kernels}

# Sets kernel, modules, ver (6.1.0-N-amd64) and pkgver (Debian's version) for
# the newest packaged 6.1, downloading it on first use.
kernel_resolve() {
  read -r kernel modules < <("$KLIB_HERE"/vm_kernel.sh)
  ver=$(basename "$modules")
  # awk reads to the end: an early exit would SIGPIPE apt-cache, which under
  # `set -o pipefail` silently fails the caller now and then.
  pkgver=$(apt-cache show "linux-image-$ver-unsigned" | awk '/^Version:/ && !v {v = $2} END {print v}')
}

# Installs linux-headers-$ver; sets headers. $1 names the caller in errors.
kernel_headers() {
  headers=/usr/src/linux-headers-$ver
  if [ ! -f "$headers/Makefile" ]; then
    apt-get install -y "linux-headers-$ver" >/dev/null 2>&1 ||
      { echo "$1: cannot install linux-headers-$ver: apt-get install linux-headers-$ver" >&2; exit 2; }
  fi
}

# Sets tree: the pristine fs/btrfs of linux-source-6.1 $pkgver, extracted once.
kernel_btrfs_source() {
  local src=$KCACHE/src deb
  mkdir -p "$src"
  deb=$(ls "$src"/linux-source-6.1_"$pkgver"_all.deb 2>/dev/null || true)
  if [ -z "$deb" ]; then
    (cd "$src" && apt-get download "linux-source-6.1=$pkgver" >/dev/null 2>&1) ||
      { echo "$1: apt has no linux-source-6.1 $pkgver to match linux-image-$ver" >&2; exit 2; }
    deb=$(ls "$src"/linux-source-6.1_"$pkgver"_all.deb)
  fi
  tree=$src/linux-source-6.1-$pkgver
  if [ ! -d "$tree/fs/btrfs" ]; then
    rm -rf "$src/x" "$tree.tmp" && dpkg -x "$deb" "$src/x" && mkdir -p "$tree.tmp"
    tar -C "$tree.tmp" --strip-components=1 -xaf "$src"/x/usr/src/linux-source-6.1.tar.xz linux-source-6.1/fs/btrfs
    rm -rf "$src/x" && mv "$tree.tmp" "$tree"
  fi
}

# kernel_install_module KO OUT STAMP: OUT/lib/modules/$ver becomes a hard-linked
# copy of $modules with btrfs.ko replaced by KO (stripped), STAMP written to
# OUT/patches. Prints nothing.
kernel_install_module() {
  local ko_built=$1 out=$2 stamp=$3 ko
  rm -rf "$out.tmp" && mkdir -p "$out.tmp/lib/modules"
  cp -al "$modules" "$out.tmp/lib/modules/$ver"
  # Replace the packaged module (btrfs.ko, or btrfs.ko.xz on kernels that
  # compress modules) under the same name: modules.dep names it. Unlink it
  # first: it is a hard link into the package's own tree.
  ko=$(ls "$out.tmp/lib/modules/$ver"/kernel/fs/btrfs/btrfs.ko* | head -1)
  rm -f "$ko"
  strip --strip-debug -o "$out.tmp/btrfs.stripped.ko" "$ko_built"
  case $ko in
    *.xz) xz -c --check=crc32 "$out.tmp/btrfs.stripped.ko" > "$ko" ;;
    *) cp "$out.tmp/btrfs.stripped.ko" "$ko" ;;
  esac
  rm -f "$out.tmp/btrfs.stripped.ko"
  printf '%s' "$stamp" > "$out.tmp/patches"
  rm -rf "$out" && mv "$out.tmp" "$out"
}
