#!/bin/bash
# Build a test kernel once: tinyconfig + the flavour's config fragments, into
# the cache (see lib.sh; DGMM_FLAVOUR=check or bench). Prints progress every
# 30 seconds; does nothing when the cached build is complete.
#
# The build runs under strace, which records every program the kernel's build
# system executed into programs.txt beside it: the static checks make sure
# deps.sh installs each of them (headers_install needs rsync, which a fresh
# machine lacked once).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dgmm_kernel_paths
log=$KBUILD/build.log
kmake() { make -C "$KSRC" O="$KBUILD" ARCH=x86_64 "$@"; }

# The build itself, the part strace follows: run as "$0 --steps".
build_steps() {
	{
		kmake tinyconfig
		# shellcheck disable=SC2086 # FRAGMENTS is a list of paths
		(cd "$KSRC" && ARCH=x86_64 scripts/kconfig/merge_config.sh -m -O "$KBUILD" \
			"$KBUILD/.config" $FRAGMENTS)
		kmake olddefconfig
	} >"$log" 2>&1 || { tail -30 "$log"; echo "kernel configuration failed (log: $log)"; return 1; }

	# Every option the fragments ask for must have survived olddefconfig.
	local bad=0 line opt val
	while IFS= read -r line; do
		case "$line" in ''|'#'*) continue ;; esac
		opt=${line%%=*} val=${line#*=}
		if [ "$val" = n ]; then
			grep -qx "$opt=[ym]" "$KBUILD/.config" && { echo "  $opt: wanted n, got set"; bad=1; }
		else
			grep -qx "$opt=$val" "$KBUILD/.config" ||
				{ echo "  $opt: wanted $val, got '$(grep -E "^(# )?$opt[= ]" "$KBUILD/.config")'"; bad=1; }
		fi
	# shellcheck disable=SC2086
	done < <(cat $FRAGMENTS)
	[ $bad = 0 ] || { echo "the kernel configuration lacks options of $FRAGMENTS (dependencies missing?)"; return 1; }

	kmake -j"$(nproc)" bzImage modules >>"$log" 2>&1 ||
		{ tail -40 "$log"; echo "kernel build failed (log: $log)"; return 1; }
	kmake modules_install INSTALL_MOD_PATH="$KBUILD/modroot" INSTALL_MOD_STRIP=1 >>"$log" 2>&1 ||
		{ tail -20 "$log"; echo "modules_install failed (log: $log)"; return 1; }
	kmake headers_install INSTALL_HDR_PATH="$KBUILD/usr" >>"$log" 2>&1 ||
		{ tail -20 "$log"; echo "headers_install failed (log: $log)"; return 1; }
}

if [ "${1:-}" = --steps ]; then
	build_steps
	exit
fi

stamp=$KBUILD/.dgmm-complete
[ -f "$stamp" ] && exit 0

dgmm_cache_lock lock
[ -f "$stamp" ] && exit 0

if [ ! -f "$KSRC/Makefile" ]; then
	say "unpacking $DGMM_KSRC_PKG $KVER_PKG into $DGMM_CACHE"
	rm -rf "$(dirname "$KSRC")"
	mkdir -p "$(dirname "$KSRC")"
	tar -C "$(dirname "$KSRC")" -xf /usr/src/$DGMM_KSRC_PKG.tar.xz
fi

kver=$(make -s -C "$KSRC" kernelversion)
say "building the $DGMM_FLAVOUR kernel $kver (first run only, 4 to 9 min on 2 cores) in $KBUILD"
rm -rf "$KBUILD"
mkdir -p "$KBUILD"

# One line every 30 s: the build says nothing else for minutes. It lets go of
# the cache lock, and takes its sleep along when it is killed.
progress() {
	local t=0 nap
	exec 9>&-
	trap 'kill $nap 2>/dev/null; exit 0' TERM
	while :; do
		sleep 30 &
		nap=$!
		wait $nap
		t=$((t + 30))
		say "  ${t} s: $(find "$KBUILD" -name '*.o' | wc -l) objects built"
	done
}
progress &
progress_pid=$!
trap 'kill $progress_pid 2>/dev/null' EXIT

start=$SECONDS
rc=0
dgmm_record_programs "$KBUILD/programs.txt" "$0" --steps || rc=$?
[ $rc = 0 ] || die "building the $DGMM_FLAVOUR kernel failed"
touch "$stamp"
say "kernel $kver ($DGMM_FLAVOUR) ready after $((SECONDS - start)) s"
