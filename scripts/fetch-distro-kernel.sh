#!/bin/bash
# Fetch Debian's own 6.12 kernel, the one people run dgmm on outside this
# project: its image, modules and headers, of the same upstream version as
# linux-source-6.12. 'make check' builds dgmm against these headers (without
# KUnit or DMABUF_MOVE_NOTIFY, as a user would) and boots the image with
# Debian's own drm, ttm and buddy modules.
#
# The packages are downloaded and unpacked into the cache, never installed:
# installing linux-image would add a kernel to this machine's boot menu and
# regenerate its initramfs. Does nothing when the cache is complete. The
# layout is in lib.sh (dgmm_distro_paths).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dgmm_distro_paths
stamp=$DISTRO_ROOT/.dgmm-complete
[ -f "$stamp" ] && exit 0

dgmm_cache_lock lock-distro
[ -f "$stamp" ] && exit 0

pkgs=("linux-image-$DISTRO_KREL" "linux-headers-$DISTRO_KREL"
	"linux-headers-$DISTRO_ABI-common" "linux-kbuild-$DISTRO_ABI")
say "fetching Debian's kernel $DISTRO_KREL (${pkgs[*]}) into $DISTRO_ROOT"

download=$DISTRO_ROOT.download
rm -rf "$download" "$DISTRO_ROOT"
mkdir -p "$download"
fetch() {
	# Root downloads unsandboxed: the cache is not the _apt user's.
	(cd "$download" && apt-get download -q -o APT::Sandbox::User=root "${pkgs[@]}") \
		>"$download/apt.log" 2>&1
}
if ! fetch; then
	# A fresh machine may not know the packages yet.
	[ "$(id -u)" = 0 ] || { cat "$download/apt.log" >&2
		die "cannot download ${pkgs[*]}: as root, run 'apt-get update' first"; }
	apt-get update -q >/dev/null
	fetch || { cat "$download/apt.log" >&2; die "cannot download ${pkgs[*]}"; }
fi

mkdir -p "$DISTRO_ROOT"
for deb in "$download"/*.deb; do
	dpkg-deb -x "$deb" "$DISTRO_ROOT"
done
rm -rf "$download"

# The headers' Makefile includes the common headers by absolute path.
sed -i "s|^include /usr/src/|include $DISTRO_ROOT/usr/src/|" "$DISTRO_KDIR/Makefile"
# modules.dep is made by the package's postinst, which never ran.
depmod -b "$DISTRO_ROOT" "$DISTRO_KREL"
[ -f "$DISTRO_IMAGE" ] && [ -f "$DISTRO_KDIR/Module.symvers" ] ||
	die "the unpacked packages lack $DISTRO_IMAGE or $DISTRO_KDIR/Module.symvers"
touch "$stamp"
say "Debian kernel $DISTRO_KREL ready"
