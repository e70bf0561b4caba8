# Shared settings for dgmm's build and test scripts. Source it; do not run it.
#
# Two kernels are built from Debian's linux-source-6.12, each once, into a
# cache outside the work tree, keyed by the source package's version, the
# flavour and the hash of its config fragments:
#   check  tinyconfig + configs/dgmm.config + configs/debug.config: lockdep,
#          kmemleak, fault injection... 'make check', 'make demo', 'make shell'
#   bench  tinyconfig + configs/dgmm.config only: 'make bench'
# DGMM_FLAVOUR picks one (default check). In the cache:
#   $DGMM_CACHE/src-<version>/                          unpacked linux-source-6.12
#   $DGMM_CACHE/build-<version>-<flavour>-<hash>/       O= build tree, bzImage,
#       modroot/ (modules), usr/ (uapi headers), programs.txt (what the build ran)
#   $DGMM_CACHE/distro-<abi>/                           Debian's own kernel, its
#       headers and modules (scripts/fetch-distro-kernel.sh)

DGMM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Debian's programs only: a python3, make or rustc of the user's own (pyenv,
# cargo, /usr/local, /opt) must not decide how the kernel builds, nor hide a
# package that deps.sh forgot (see scripts/check-programs.py).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
DGMM_CACHE=${DGMM_CACHE:-/var/cache/dgmm}
DGMM_OUT=${DGMM_OUT:-$DGMM_ROOT/out}
DGMM_FLAVOUR=${DGMM_FLAVOUR:-check}
DGMM_KSRC_PKG=linux-source-6.12

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Version of the installed kernel source package, e.g. 6.12.117-1~deb12u1.
dgmm_kernel_pkg_version() {
	dpkg-query -W -f='${Version}' "$DGMM_KSRC_PKG" 2>/dev/null
}

# The config fragments of a flavour, in merge order.
dgmm_fragments() { # flavour
	case "$1" in
	check) echo "$DGMM_ROOT/configs/dgmm.config $DGMM_ROOT/configs/debug.config" ;;
	bench) echo "$DGMM_ROOT/configs/dgmm.config" ;;
	*) die "unknown kernel flavour '$1' (check or bench)" ;;
	esac
}

# Takes the cache's lock NAME on fd 9 for the rest of the script: two makes
# of the same checkout, or of two checkouts, never fill one cache entry at once.
dgmm_cache_lock() { # name
	mkdir -p "$DGMM_CACHE"
	exec 9>"$DGMM_CACHE/$1"
	flock 9
}

# Sets KSRC, KBUILD, KVER_PKG and FRAGMENTS for the installed source, the
# flavour DGMM_FLAVOUR and the current fragments.
dgmm_kernel_paths() {
	KVER_PKG=$(dgmm_kernel_pkg_version)
	[ -n "$KVER_PKG" ] || die "$DGMM_KSRC_PKG is not installed (run 'make deps' as root)"
	local hash
	FRAGMENTS=$(dgmm_fragments "$DGMM_FLAVOUR")
	# shellcheck disable=SC2086 # a list of paths without spaces
	hash=$(cat $FRAGMENTS | sha256sum | cut -c1-12)
	KSRC=$DGMM_CACHE/src-$KVER_PKG/$DGMM_KSRC_PKG
	KBUILD=$DGMM_CACHE/build-$KVER_PKG-$DGMM_FLAVOUR-$hash
}

# Takes the trace the guest printed (dgmm_print_trace in scripts/guest/lib.sh)
# out of console log @1 into trace.dat @2.
dgmm_take_trace() { # log trace.dat
	sed -n '/^DGMM-TRACE-BEGIN/,/^DGMM-TRACE-END/p' "$1" | sed '1d;$d' | tr -d '\r' |
		base64 -d | gunzip >"$2"
}

# Where the flavour's dgmm.ko is built: in the work tree for the check kernel,
# as kernel developers expect of M=; in a copy under out/ for the others, so
# that building for one kernel never overwrites the objects of another.
dgmm_module_dir() { # flavour
	if [ "$1" = check ]; then echo "$DGMM_ROOT"; else echo "$DGMM_OUT/build-$1"; fi
}

# Makes DIR a fresh copy of the project's tracked (and new, not ignored)
# files, which then builds like the work tree.
dgmm_copy_sources() { # dir
	rm -rf "$1"
	mkdir -p "$1"
	(cd "$DGMM_ROOT" && git ls-files -z --cached --others --exclude-standard |
		tar --null --no-recursion -T - -cf -) | tar -C "$1" -xf -
}

# Runs a command, recording every program it (and its children) executed:
# writes FILE with one "path<TAB>errno" line per distinct execve, errno 0 for
# those that ran. scripts/check-programs.py reads it. Returns the command's
# exit status. Where strace cannot trace (ptrace forbidden), the command
# runs untraced and FILE says so, which fails the programs check.
dgmm_record_programs() { # file command...
	local file=$1 rc=0
	shift
	if ! strace -f -qq -o /dev/null -- true 2>/dev/null; then
		echo "# not recorded: strace cannot trace here" >"$file"
		"$@" || rc=$?
		return $rc
	fi
	strace -f -qq -e trace=execve,execveat -e signal=none --seccomp-bpf -s 4096 \
		-o "$file.strace" -- "$@" || rc=$?
	if python3 "$DGMM_ROOT/scripts/check-programs.py" reduce "$file.strace" >"$file"; then
		rm -f "$file.strace"
	else
		echo "# not recorded: reading $file.strace failed" >"$file"
	fi
	return $rc
}

# Debian's own kernel of the same upstream version as linux-source-6.12:
# 6.12.117-1~deb12u1 gives ABI 6.12.117+deb12 and release 6.12.117+deb12-amd64
# (DGMM_DISTRO_ABI overrides the ABI). Sets DISTRO_ABI, DISTRO_KREL,
# DISTRO_ROOT (where the packages are unpacked), DISTRO_KDIR (the headers to
# build against), DISTRO_IMAGE (the kernel) and DISTRO_MODULES.
dgmm_distro_paths() {
	local ver release
	ver=$(dgmm_kernel_pkg_version)
	[ -n "$ver" ] || die "$DGMM_KSRC_PKG is not installed (run 'make deps' as root)"
	release=$(. /etc/os-release && echo "$VERSION_ID")
	DISTRO_ABI=${DGMM_DISTRO_ABI:-${ver%%-*}+deb$release}
	DISTRO_KREL=$DISTRO_ABI-amd64
	DISTRO_ROOT=$DGMM_CACHE/distro-$DISTRO_ABI
	DISTRO_KDIR=$DISTRO_ROOT/usr/src/linux-headers-$DISTRO_KREL
	DISTRO_IMAGE=$DISTRO_ROOT/boot/vmlinuz-$DISTRO_KREL
	DISTRO_MODULES=$DISTRO_ROOT/lib/modules/$DISTRO_KREL
}
