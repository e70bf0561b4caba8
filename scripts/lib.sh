# Shared settings for dgmm's build and test scripts. Source it; do not run it.
#
# The kernel is built once into a cache outside the work tree, keyed by the
# Debian source package's version and the config fragment's hash:
#   $DGMM_CACHE/src-<version>/                  unpacked linux-source-6.12
#   $DGMM_CACHE/build-<version>-<fragment hash>/ O= build tree, bzImage,
#                                                modroot/ (modules), usr/ (uapi headers)

DGMM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DGMM_CACHE=${DGMM_CACHE:-/var/cache/dgmm}
DGMM_OUT=${DGMM_OUT:-$DGMM_ROOT/out}
DGMM_FRAGMENT=$DGMM_ROOT/configs/dgmm.config
DGMM_KSRC_PKG=linux-source-6.12

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Version of the installed kernel source package, e.g. 6.12.117-1~deb12u1.
dgmm_kernel_pkg_version() {
	dpkg-query -W -f='${Version}' "$DGMM_KSRC_PKG" 2>/dev/null
}

# Sets KSRC, KBUILD and KVER_PKG for the installed source and current fragment.
dgmm_kernel_paths() {
	KVER_PKG=$(dgmm_kernel_pkg_version)
	[ -n "$KVER_PKG" ] || die "$DGMM_KSRC_PKG is not installed (run 'make deps' as root)"
	local hash
	hash=$(sha256sum "$DGMM_FRAGMENT" | cut -c1-12)
	KSRC=$DGMM_CACHE/src-$KVER_PKG/$DGMM_KSRC_PKG
	KBUILD=$DGMM_CACHE/build-$KVER_PKG-$hash
}
