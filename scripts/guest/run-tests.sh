#!/bin/sh
# The tests of 'make check', run inside the VM. Every result is printed
# between markers for scripts/check-log.py:
#   DGMM-BEGIN <kind> <name> ... DGMM-END <kind> <name> rc=<exit code>
# where kind is kunit (KTAP from debugfs), kselftest (TAP) or guest (TAP of
# checks made by this script).
. /dgmm/lib.sh
expect=${dgmm_devices:-2}

section() { # kind name command...
	kind=$1 name=$2
	shift 2
	echo "DGMM-BEGIN $kind $name"
	"$@" >/tmp/section.out 2>&1
	rc=$?
	cat /tmp/section.out
	echo "DGMM-END $kind $name rc=$rc"
}

# TAP helpers for the checks made here.
t=0
tap_ok() { # condition-exit-status description
	t=$((t + 1))
	if [ "$1" = 0 ]; then echo "ok $t $2"; else echo "not ok $t $2"; fi
}

# Debian's own kernel (dgmm_kernel=distro) has no vkms and no KUnit: the
# tests there are the uAPI selftests and the lifecycle, on its own drm and ttm.
distro=0
[ "${dgmm_kernel:-check}" = distro ] && distro=1

# Behind the virtual IOMMU and the PCIe switch (DGMM_PLATFORM=iommu-switch)
# 'make check' runs a subset: everything but the tiny regions and the
# stress, which do not depend on the platform, save its sharing mode, which
# does. dgmm_full=1 runs it all.
subset=0
[ "${DGMM_PLATFORM:-root}" = iommu-switch ] && [ "${dgmm_full:-0}" != 1 ] && subset=1

load_checks() {
	echo "TAP version 13"
	if [ $distro = 1 ]; then
		echo "1..2"
	else
		echo "1..4"
		modprobe vkms; tap_ok $? "modprobe vkms"
		modprobe vgem; tap_ok $? "modprobe vgem"
	fi
	# shellcheck disable=SC2086
	modprobe dgmm $DGMM_ARGS; tap_ok $? "modprobe dgmm $DGMM_ARGS"
	[ "$(dgmm_render_count)" = "$expect" ]
	tap_ok $? "$expect dgmm render nodes (found $(dgmm_render_count))"
}

kunit_run() { # module suites...
	mod=$1
	shift
	modprobe "$mod" || { echo "DGMM-KUNIT-LOAD-FAILED $mod"; return; }
	for suite in "$@"; do
		section kunit "$suite" cat "/sys/kernel/debug/kunit/$suite/results"
	done
	rmmod "$mod"
}

# debugfs of each device (its PCI-named directory; the minors' ones are the
# same files), after the KUnit suites have moved BOs around.
debugfs_checks() {
	echo "TAP version 13"
	dirs=$(grep -l '^dgmm ' /sys/kernel/debug/dri/0000:*/name 2>/dev/null | xargs -n1 dirname)
	echo "1..$((1 + 5 * $(echo "$dirs" | wc -w)))"
	[ -n "$dirs" ]; tap_ok $? "dgmm debugfs directories exist"
	for d in $dirs; do
		for f in vram_mm gtt_mm system_mm bos; do
			cat "$d/$f" >/dev/null; tap_ok $? "$d/$f reads"
		done
		moves=$(sed -n 's/^moves: //p' "$d/stats")
		[ "${moves:-0}" -gt 0 ]; tap_ok $? "$d/stats counts moves ($moves)"
	done
}

lifecycle_checks() {
	echo "TAP version 13"
	echo "1..10"
	devs=$(ls -d /sys/bus/pci/drivers/dgmm/0000:* | xargs -n1 basename)

	for d in $devs; do echo "$d" >/sys/bus/pci/drivers/dgmm/unbind; done
	[ "$(dgmm_bound_count)" = 0 ]; tap_ok $? "unbind all devices"
	[ "$(dgmm_render_count)" = 0 ]; tap_ok $? "render nodes gone after unbind"

	for d in $devs; do echo "$d" >/sys/bus/pci/drivers/dgmm/bind; done
	[ "$(dgmm_bound_count)" = "$expect" ]; tap_ok $? "rebind all devices"
	dgmm-info >/dev/null; tap_ok $? "devices answer queries after rebind"

	# Fences taken out through a dma-buf outlive the devices: rmmod waits
	# for them, and they answer until they are let go (dgmm_fence_hold.c).
	dgmm-fence-hold >/tmp/fence-hold.log 2>&1 &
	hold=$!
	for _ in $(seq 300); do
		grep -q held /tmp/fence-hold.log && break
		kill -0 $hold 2>/dev/null || break
		sleep 0.1
	done
	grep -q held /tmp/fence-hold.log; tap_ok $? "a process holds dgmm fences"
	rmmod dgmm; tap_ok $? "rmmod dgmm"
	wait $hold; tap_ok $? "the held fences answered while dgmm unloaded"
	sed 's/^/# /' /tmp/fence-hold.log
	[ "$(dgmm_render_count)" = 0 ]; tap_ok $? "render nodes gone after rmmod"
	# shellcheck disable=SC2086
	modprobe dgmm $DGMM_ARGS; tap_ok $? "modprobe dgmm again"
	dgmm-info >/dev/null && [ "$(dgmm_bound_count)" = "$expect" ]
	tap_ok $? "$expect devices answer queries after reload"
}

echo 1 >/proc/sys/kernel/hung_task_panic 2>/dev/null
[ -w /sys/kernel/debug/kmemleak ] && echo clear >/sys/kernel/debug/kmemleak

section guest load load_checks
if [ $distro = 0 ]; then
	kunit_run dgmm_test dgmm_placement dgmm_vram_mgr dgmm_gtt_mgr dgmm_bo dgmm_engine \
		dgmm_evict dgmm_dmabuf
	t=0
	section guest debugfs debugfs_checks
fi
export DGMM_EXPECT_DEVICES=$expect
for t_bin in /dgmm/bin/*_test; do
	case $t_bin in */dgmm_pressure_test) continue ;; esac
	# Render nodes for everyone, primary nodes for root: what Debian's udev
	# rules do (there is no udev here; an unbind makes new nodes).
	# dgmm_unpriv_test runs as nobody.
	chmod 0666 /dev/dri/renderD*
	section kselftest "$(basename "$t_bin")" "$t_bin"
done

# The seeded stress, on the device with the smaller VRAM (three times its
# VRAM in BOs, four processes of two threads): first as is, then with fault
# injection on the workers' ioctls (the debug kernel only). Repeat one with
# DGMM_STRESS_SEED=<its seed>; DGMM_STRESS_SECONDS makes them longer.
stress_seed=${dgmm_stress_seed:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
stress_seconds=${dgmm_stress_seconds:-20}
[ $subset = 0 ] && section stress dgmm-stress dgmm-stress --seed "$stress_seed" --seconds "$stress_seconds" \
	--procs 4 --threads 2 --device 1 --oversubscribe 3
# The same with every BO shared with device 0, which runs half the jobs on
# them through its imports while device 1 moves them; also in the subset:
# behind the virtual IOMMU a stale mapping faults.
section stress dgmm-stress-share dgmm-stress --seed "$stress_seed" \
	--seconds "$stress_seconds" --procs 4 --threads 2 --device 1 --oversubscribe 3 --share
if [ $distro = 0 ] && [ $subset = 0 ]; then
	section stress dgmm-stress-faults dgmm-stress --seed "$stress_seed" \
		--seconds "$stress_seconds" --procs 4 --threads 2 --device 1 --oversubscribe 3 \
		--fault-inject
	# Eviction: 3x VRAM with a hot quarter, driven by device jobs, without
	# and with a move budget (32 MiB/s, a quarter of this device's VRAM).
	section stress dgmm-stress-evict dgmm-stress --seed "$stress_seed" \
		--seconds "$stress_seconds" --procs 4 --threads 2 --device 1 --oversubscribe 3 \
		--evict --budget-mbps 0
	section stress dgmm-stress-evict-budget dgmm-stress --seed "$stress_seed" \
		--seconds "$stress_seconds" --procs 4 --threads 2 --device 1 --oversubscribe 3 \
		--evict --budget-mbps 32
fi

# Tiny regions: GTT much smaller than VRAM, a small CPU-visible window.
# The pressure tests need them; the GEM tests must pass there too.
reload_dgmm() { # module arguments...
	echo "TAP version 13"
	echo "1..2"
	rmmod dgmm; tap_ok $? "rmmod dgmm"
	modprobe dgmm "$@"; tap_ok $? "modprobe dgmm $*"
}
if [ $subset = 0 ]; then
	t=0
	section guest tiny-load reload_dgmm gtt_size_mb=16 vram_visible_mb=16 job_timeout_ms=2000
	section kselftest dgmm_pressure_test@tiny /dgmm/bin/dgmm_pressure_test
	section kselftest dgmm_gem_test@tiny /dgmm/bin/dgmm_gem_test
	t=0
	# shellcheck disable=SC2086
	section guest tiny-restore reload_dgmm $DGMM_ARGS
fi
t=0
section guest lifecycle lifecycle_checks

# Unload everything, then look for leaks: objects must be a few seconds
# old before kmemleak reports them, hence the second scan.
rmmod dgmm vgem vkms 2>/dev/null
if [ $distro = 1 ]; then
	echo "DGMM-KMEMLEAK-UNAVAILABLE (Debian's kernel has no kmemleak)"
elif [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	sleep 6
	echo scan >/sys/kernel/debug/kmemleak
	echo "DGMM-BEGIN kmemleak report"
	cat /sys/kernel/debug/kmemleak
	echo "DGMM-END kmemleak report rc=0"
else
	echo "DGMM-KMEMLEAK-UNAVAILABLE"
fi
