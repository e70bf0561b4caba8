#!/bin/bash
# Build the test kernel once: tinyconfig + configs/dgmm.config, into the cache.
# Prints nothing but progress; does nothing when the cached build is complete.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dgmm_kernel_paths
stamp=$KBUILD/.dgmm-complete
[ -f "$stamp" ] && exit 0

mkdir -p "$DGMM_CACHE"
exec 9>"$DGMM_CACHE/lock"
flock 9
[ -f "$stamp" ] && exit 0

if [ ! -f "$KSRC/Makefile" ]; then
	say "unpacking $DGMM_KSRC_PKG $KVER_PKG into $DGMM_CACHE"
	rm -rf "$(dirname "$KSRC")"
	mkdir -p "$(dirname "$KSRC")"
	tar -C "$(dirname "$KSRC")" -xf /usr/src/$DGMM_KSRC_PKG.tar.xz
fi

kver=$(make -s -C "$KSRC" kernelversion)
say "building kernel $kver (first run only, about 6 min on 2 cores) in $KBUILD"
rm -rf "$KBUILD"
mkdir -p "$KBUILD"
kmake() { make -C "$KSRC" O="$KBUILD" ARCH=x86_64 "$@"; }
log=$KBUILD/build.log

{
	kmake tinyconfig
	(cd "$KSRC" && ARCH=x86_64 scripts/kconfig/merge_config.sh -m -O "$KBUILD" \
		"$KBUILD/.config" "$DGMM_FRAGMENT")
	kmake olddefconfig
} >"$log" 2>&1 || { tail -30 "$log"; die "kernel configuration failed (log: $log)"; }

# Every option the fragment asks for must have survived olddefconfig.
bad=0
while IFS= read -r line; do
	case "$line" in ''|'#'*) continue ;; esac
	opt=${line%%=*} val=${line#*=}
	if [ "$val" = n ]; then
		grep -qx "$opt=[ym]" "$KBUILD/.config" && { echo "  $opt: wanted n, got set" >&2; bad=1; }
	else
		grep -qx "$opt=$val" "$KBUILD/.config" ||
			{ echo "  $opt: wanted $val, got '$(grep -E "^(# )?$opt[= ]" "$KBUILD/.config")'" >&2; bad=1; }
	fi
done <"$DGMM_FRAGMENT"
[ $bad = 0 ] || die "kernel configuration lacks options of configs/dgmm.config (dependencies missing?)"

kmake -j"$(nproc)" bzImage modules >>"$log" 2>&1 ||
	{ tail -40 "$log"; die "kernel build failed (log: $log)"; }
kmake modules_install INSTALL_MOD_PATH="$KBUILD/modroot" INSTALL_MOD_STRIP=1 >>"$log" 2>&1 ||
	{ tail -20 "$log"; die "modules_install failed (log: $log)"; }
kmake headers_install INSTALL_HDR_PATH="$KBUILD/usr" >>"$log" 2>&1 ||
	{ tail -20 "$log"; die "headers_install failed (log: $log)"; }
touch "$stamp"
say "kernel $kver ready"
