#!/bin/bash
# Pack the test VM's initramfs: busybox, the kernel's modules with dgmm.ko and
# dgmm_test.ko added, the userspace tests, the guest scripts and, optionally,
# a user's directory and script.
#   mkinitramfs.sh OUTPUT [EXTRA_DIR] [RUN_SCRIPT]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
dgmm_kernel_paths

out=$1 extra=${2:-} run=${3:-}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,dgmm/bin,extra,lib/modules}
cp /bin/busybox "$root/bin/busybox"
cp "$DGMM_ROOT/scripts/guest/init" "$root/init"
cp "$DGMM_ROOT/scripts/guest/lib.sh" "$DGMM_ROOT/scripts/guest/run-tests.sh" "$root/dgmm/"
chmod +x "$root/init"
cp "$DGMM_OUT"/bin/* "$root/dgmm/bin/"

kver=$(ls "$KBUILD/modroot/lib/modules")
cp -a "$KBUILD/modroot/lib/modules/$kver" "$root/lib/modules/"
rm -f "$root/lib/modules/$kver"/{build,source}
mkdir -p "$root/lib/modules/$kver/extra"
for ko in dgmm.ko dgmm_test.ko; do
	[ -f "$DGMM_ROOT/$ko" ] && cp "$DGMM_ROOT/$ko" "$root/lib/modules/$kver/extra/"
done
depmod -b "$root" "$kver"

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
