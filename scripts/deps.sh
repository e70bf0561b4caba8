#!/bin/bash
# Install the Debian packages dgmm needs, if any is missing. Needs root for
# that; without root it prints the one command to run and stops.
#   deps.sh          install what is missing
#   deps.sh --list   print the package list (the static checks read it)
#
# Every program the scripts, the kernel build and the module builds run must
# come from one of these packages (or what they depend on) or from Debian's
# essential base: scripts/check-programs.py checks it in 'make check'.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PACKAGES=(
	build-essential bc bison flex libelf-dev libssl-dev	# kernel build
	rsync							# headers_install
	linux-source-6.12					# the kernel
	pahole							# BTF of modules for Debian's kernel
	pkgconf							# the kernel build asks it for libelf, openssl
	sparse							# make check: C=2
	strace							# records what the builds run
	qemu-system-x86 busybox-static cpio kmod xz-utils	# the test VM
	python3							# log checker
	git							# static checks list the tracked sources
	trace-cmd						# make trace: record in the VM, report here
	python3-matplotlib					# make demo: the picture of the moves
)

if [ "${1:-}" = --list ]; then
	echo "${PACKAGES[*]}"
	exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
	[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] ||
		missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "dgmm needs these Debian packages: ${missing[*]}" >&2
	echo "Install them as root, then run make again:" >&2
	echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
	exit 1
fi

say "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
