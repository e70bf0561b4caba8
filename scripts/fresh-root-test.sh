#!/bin/bash
# The README's two commands on a fresh Debian 12: makes a minimal root with
# debootstrap from the Debian archive (what 'debootstrap --variant=minbase'
# installs, plus git and make, the README's prerequisites), clones this
# repository's HEAD into it, and runs 'make demo' then 'make check' there in
# a chroot, reporting the wall time of each. Not part of 'make check': it
# downloads a system and builds a kernel, about 25 minutes in all.
#
#   scripts/fresh-root-test.sh [DIR]     (as root; DIR: /var/tmp/dgmm-fresh-root)
#
# Logs go to out/fresh-root/; the root is removed when both commands passed
# and kept for a look when one failed. Exits non-zero if either failed.
# The mounts it needs (proc, sys, dev) live in a mount namespace of its own,
# which goes away with it, however it ends. This script installs debootstrap
# on the host itself; scripts/check-programs.py leaves it out of the
# programs deps.sh must provide.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || die "run this as root: it uses debootstrap, mount and chroot"
if [ -z "${DGMM_FRESH_NS:-}" ]; then
	DGMM_FRESH_NS=1 exec unshare --mount --propagation private "$0" "$@"
fi
root=${1:-/var/tmp/dgmm-fresh-root}
logs=$DGMM_OUT/fresh-root
mirror=http://deb.debian.org/debian
mkdir -p "$logs"

# Never delete through a mount (a /dev bind left by a killed run elsewhere).
if [ -e "$root" ] && findmnt -R -n -o TARGET | grep -q "^$root/"; then
	die "something is mounted below $root: unmount it first"
fi

if ! command -v debootstrap >/dev/null; then
	say "installing debootstrap on this machine"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends debootstrap >/dev/null 2>&1 || {
		apt-get update -q >/dev/null
		apt-get install -y -q --no-install-recommends debootstrap >/dev/null
	}
fi

# Wall time of a command, its output to a log; sets $secs and returns its status.
timed() { # log command...
	local log=$1 start=$SECONDS rc=0
	shift
	"$@" >"$log" 2>&1 || rc=$?
	secs=$((SECONDS - start))
	return $rc
}

say "debootstrap bookworm (minbase) into $root"
rm -rf --one-file-system "$root"
timed "$logs/debootstrap.log" debootstrap --variant=minbase --include=git,make,ca-certificates \
	bookworm "$root" "$mirror" || { tail -20 "$logs/debootstrap.log"; die "debootstrap failed"; }
debootstrap_s=$secs
# The suites of an installed Debian 12: the kernel source lives in -security.
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
cp /etc/resolv.conf "$root/etc/resolv.conf"

for m in proc sys dev dev/pts; do
	mkdir -p "$root/$m"
	case "$m" in
	proc) mount -t proc proc "$root/proc" ;;
	sys) mount -t sysfs sys "$root/sys" ;;
	dev) mount --bind /dev "$root/dev" ;;
	dev/pts) mount -t devpts devpts "$root/dev/pts" ;;
	esac
done

say "cloning $(git -C "$DGMM_ROOT" rev-parse --short HEAD) into $root/root/dgmm"
git clone -q --no-hardlinks "$DGMM_ROOT" "$root/root/dgmm"

in_root() { chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	/bin/bash -c "cd /root/dgmm && $*"; }

rc=0
say "make demo in the fresh root (installs the packages, builds the kernel)"
if timed "$logs/demo.log" in_root make demo; then demo="ok"; else demo="FAILED"; rc=1; fi
demo_s=$secs
say "make check in the fresh root"
if timed "$logs/check.log" in_root make check; then check="ok"; else check="FAILED"; rc=1; fi
check_s=$secs

{
	echo "fresh Debian 12 root ($root), dgmm $(git -C "$DGMM_ROOT" rev-parse --short HEAD)"
	printf '  debootstrap --variant=minbase  %4d s\n' "$debootstrap_s"
	printf '  make demo                      %4d s  %s\n' "$demo_s" "$demo"
	printf '  make check                     %4d s  %s  (%s)\n' "$check_s" "$check" \
		"$(tail -n 1 "$logs/check.log")"
} | tee "$logs/summary.txt"
if [ $rc = 0 ]; then
	umount -R "$root/proc" "$root/sys" "$root/dev" 2>/dev/null || true
	rm -rf --one-file-system "$root"
else
	say "keeping $root for a look"
fi
exit $rc
