#!/bin/bash
# Boot the test VM: two ivshmem-plain devices as discrete devices, the
# project's kernel and an initramfs made for the run.
#
#   run-vm.sh [--mode check|demo|shell|run|bench|trace|distro] [--extra DIR] [--run SCRIPT]
#             [--kernel check|bench|distro] [--log FILE] [--timeout SECONDS]
#
# --kernel picks the kernel: the project's test kernel (check, the default),
# its kernel without debug options (bench, the default of --mode bench), or
# Debian's own (distro, the default of --mode distro; scripts/fetch-distro-kernel.sh).
# Environment: VRAM0_MB, VRAM1_MB (VRAM sizes, default 256 and 128),
# DGMM_ARGS (module parameters of dgmm.ko, space separated), VM_MEM_MB,
# DGMM_PLATFORM: "root" (the default: both devices on the root bus, no
# IOMMU, so peer-to-peer is refused) or "iommu-switch" (QEMU's intel-iommu
# translating every DMA address, and both devices behind one PCIe switch,
# where pci_p2pdma_distance() allows peer-to-peer). DGMM_FULL=1 runs every
# test there, not the subset 'make check' runs on that platform.
# The whole serial console (kernel log and test output) goes to the log file.
# Exits 124 if the guest had to be killed after the timeout.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mode=shell extra='' run='' log='' timeout_s=900 kernel=''
while [ $# -gt 0 ]; do
	case "$1" in
	--mode) mode=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	--extra) extra=$2; shift 2 ;;
	--run) run=$2; mode=run; shift 2 ;;
	--log) log=$2; shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	*) die "unknown option $1" ;;
	esac
done

vram0=${VRAM0_MB:-256} vram1=${VRAM1_MB:-128} mem=${VM_MEM_MB:-1024}
for v in "$vram0" "$vram1"; do
	case "$v" in
	''|*[!0-9]*) die "VRAM size '$v' is not a number of MiB" ;;
	esac
	# ivshmem needs a power-of-two size for its BAR.
	[ "$v" -gt 0 ] && [ $((v & (v - 1))) = 0 ] || die "VRAM size $v MiB is not a power of two"
done

case "${kernel:=$mode}" in
bench) DGMM_FLAVOUR=bench dgmm_kernel_paths; image=$KBUILD/arch/x86/boot/bzImage ;;
distro) dgmm_distro_paths; image=$DISTRO_IMAGE ;;
*) kernel=check; DGMM_FLAVOUR=check dgmm_kernel_paths; image=$KBUILD/arch/x86/boot/bzImage ;;
esac

mkdir -p "$DGMM_OUT"
initrd=$DGMM_OUT/initramfs-$mode.cpio.gz
"$DGMM_ROOT/scripts/mkinitramfs.sh" --kernel "$kernel" "$initrd" "$extra" "$run"

args=$(echo "${DGMM_ARGS:-}" | xargs | tr ' ' ',')
cmdline="console=ttyS0 panic=-1 loglevel=7 dgmm_mode=$mode dgmm_kernel=$kernel dgmm_devices=2"
[ -n "$args" ] && cmdline="$cmdline dgmm_args=$args"
# Unmerged slab caches, so that the stress can pick which ones failslab fails.
[ "$kernel" = check ] && cmdline="$cmdline slab_nomerge"
# The stress of 'make check': DGMM_STRESS_SECONDS (longer runs), DGMM_STRESS_SEED
# (to repeat one; the guest picks and prints one otherwise).
[ -n "${DGMM_STRESS_SECONDS:-}" ] && cmdline="$cmdline dgmm_stress_seconds=$DGMM_STRESS_SECONDS"
[ -n "${DGMM_STRESS_SEED:-}" ] && cmdline="$cmdline dgmm_stress_seed=$DGMM_STRESS_SEED"
[ -n "${DGMM_TRACE_SECONDS:-}" ] && cmdline="$cmdline dgmm_trace_seconds=$DGMM_TRACE_SECONDS"
[ -n "${DGMM_DEMO_SECONDS:-}" ] && cmdline="$cmdline dgmm_demo_seconds=$DGMM_DEMO_SECONDS"

platform=${DGMM_PLATFORM:-root}
machine=(-machine q35) bus0="" bus1=""
case "$platform" in
root) ;;
iommu-switch)
	# The vIOMMU comes first; the guest finds it through ACPI's DMAR table.
	machine=(-machine q35,kernel-irqchip=split -device intel-iommu,intremap=on
		-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1
		-device x3130-upstream,id=up,bus=rp1
		-device xio3130-downstream,id=dn1,bus=up,chassis=2,slot=0
		-device xio3130-downstream,id=dn2,bus=up,chassis=3,slot=1)
	bus0=,bus=dn1 bus1=,bus=dn2
	cmdline="$cmdline intel_iommu=on"
	;;
*) die "unknown DGMM_PLATFORM '$platform' (root or iommu-switch)" ;;
esac
cmdline="$cmdline dgmm_platform=$platform"
[ -n "${DGMM_FULL:-}" ] && cmdline="$cmdline dgmm_full=1"

qemu=(qemu-system-x86_64 "${machine[@]}" -cpu max -smp 2 -m "$mem"
	-kernel "$image" -initrd "$initrd"
	-append "$cmdline" -nographic -no-reboot -nodefaults -serial mon:stdio
	-object memory-backend-ram,id=vram0,size="${vram0}M"
	-device "ivshmem-plain,memdev=vram0$bus0"
	-object memory-backend-ram,id=vram1,size="${vram1}M"
	-device "ivshmem-plain,memdev=vram1$bus1")
# The benchmark compares with bochs, which drives QEMU's standard VGA.
[ "$mode" = bench ] && qemu+=(-vga std)

if [ "$mode" = shell ]; then
	exec "${qemu[@]}"
fi

log=${log:-$DGMM_OUT/vm-$mode.log}
say "booting the VM ($mode); kernel log: $log"
set +e
timeout --foreground -k 10 "$timeout_s" "${qemu[@]}" </dev/null 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
[ "$rc" = 124 ] && echo "VM killed after ${timeout_s}s" >&2
say "kernel log saved to $log"
if [ "$rc" = 0 ] && { [ "$mode" = run ] || [ "$mode" = bench ]; }; then
	# The program's own exit code, as the guest reported it.
	rc=$(sed -n 's/^DGMM-\(RUN\|BENCH\)-EXIT \([0-9]*\).*/\2/p' "$log" | tail -n 1)
	rc=${rc:-1}
fi
exit "$rc"
