#!/bin/bash
# Pack the test VM's initramfs: busybox, the kernel's modules with dgmm.ko and
# dgmm_test.ko added, the userspace tests, the guest scripts, trace-cmd and,
# optionally, a user's directory and script.
#   mkinitramfs.sh [--kernel check|bench|distro] OUTPUT [EXTRA_DIR] [RUN_SCRIPT]
# check and bench are the project's kernels (every module of theirs goes in);
# distro is Debian's own kernel, of which only the modules dgmm needs go in.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel=check
if [ "${1:-}" = --kernel ]; then
	kernel=$2
	shift 2
fi
out=$1 extra=${2:-} run=${3:-}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,dgmm/bin,extra,lib/modules}
# Processes that drop root must still reach /dev, /proc and /sys.
chmod 0755 "$root"
cp /bin/busybox "$root/bin/busybox"
cp "$DGMM_ROOT/scripts/guest/init" "$root/init"
cp "$DGMM_ROOT/scripts/guest/lib.sh" "$DGMM_ROOT/scripts/guest/run-tests.sh" \
	"$DGMM_ROOT/scripts/guest/demo.sh" "$root/dgmm/"
chmod +x "$root/init"
cp "$DGMM_OUT"/bin/* "$root/dgmm/bin/"

if [ "$kernel" = distro ]; then
	dgmm_distro_paths
	kver=$DISTRO_KREL
	moddir=$(dgmm_module_dir distro)
	mkdir -p "$root/lib/modules/$kver"
	# dgmm's dependencies and theirs, from Debian's modules.dep, unpacked:
	# busybox's modprobe does not read .ko.xz.
	# shellcheck disable=SC2046
	python3 - "$DISTRO_MODULES/modules.dep" $(modinfo -F depends "$moddir/dgmm.ko" | tr , ' ') \
		<<'EOF' >"$root/modules.list"
import sys
def name(path):  # kernel/drivers/gpu/drm/drm-foo.ko.xz -> drm_foo
    return path.rsplit("/", 1)[-1].split(".ko")[0].replace("-", "_")
deps = {}
for line in open(sys.argv[1]):
    mod, _, rest = line.partition(":")
    deps[name(mod)] = [mod] + rest.split()
want, todo = set(), [name(m) for m in sys.argv[2:]]
while todo:
    for path in deps[todo.pop()]:
        if path not in want:
            want.add(path)
            todo.append(name(path))
print("\n".join(sorted(want)))
EOF
	while read -r mod; do
		mkdir -p "$root/lib/modules/$kver/$(dirname "$mod")"
		case "$mod" in
		*.xz) xz -dc "$DISTRO_MODULES/$mod" >"$root/lib/modules/$kver/${mod%.xz}" ;;
		*) cp "$DISTRO_MODULES/$mod" "$root/lib/modules/$kver/$mod" ;;
		esac
	done <"$root/modules.list"
	rm "$root/modules.list"
	cp "$DISTRO_MODULES"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$kver/"
else
	DGMM_FLAVOUR=$kernel dgmm_kernel_paths
	kver=$(ls "$KBUILD/modroot/lib/modules")
	moddir=$(dgmm_module_dir "$kernel")
	cp -a "$KBUILD/modroot/lib/modules/$kver" "$root/lib/modules/"
	rm -f "$root/lib/modules/$kver"/{build,source}
fi
mkdir -p "$root/lib/modules/$kver/extra"
for ko in dgmm.ko dgmm_test.ko; do
	[ -f "$moddir/$ko" ] && cp "$moddir/$ko" "$root/lib/modules/$kver/extra/"
done
depmod -b "$root" "$kver"

# trace-cmd (Debian's, with the libraries it links and its event plugins),
# so that the guest can record what the host reports (make trace).
if tc=$(command -v trace-cmd); then
	for f in "$tc" $(ldd "$tc" | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$f")"
		cp -L "$f" "$root$f"
	done
	for d in /usr/lib/x86_64-linux-gnu/traceevent /usr/lib/x86_64-linux-gnu/trace-cmd; do
		if [ -d "$d" ]; then
			mkdir -p "$root$d"
			cp -a "$d"/. "$root$d/"
		fi
	done
fi

if [ -n "$extra" ]; then
	[ -d "$extra" ] || die "EXTRA=$extra is not a directory"
	cp -a "$extra"/. "$root/extra/"
fi
if [ -n "$run" ]; then
	[ -f "$run" ] || die "RUN=$run is not a file"
	cp "$run" "$root/extra/run"
	chmod +x "$root/extra/run"
fi

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
