# Shell helpers of the test VM, sourced by init and run-tests.sh.

# Loads what the tests need: the drivers dgmm shares buffers with, and dgmm.
dgmm_load_modules() {
	modprobe vkms || return 1
	modprobe vgem || return 1
	# shellcheck disable=SC2086 # DGMM_ARGS is a list of parameters.
	modprobe dgmm $DGMM_ARGS || return 1
}

# Prints trace-cmd's trace.dat @1, gzipped, in base64 between two markers,
# for the host to take from the console (dgmm_take_trace in scripts/lib.sh).
dgmm_print_trace() { # trace.dat
	# Nothing of the kernel's may land in the middle of the base64.
	dmesg -n 1
	echo "DGMM-TRACE-BEGIN"
	gzip -c "$1" | base64
	echo "DGMM-TRACE-END"
}

# Number of PCI functions bound to dgmm.
dgmm_bound_count() {
	ls -d /sys/bus/pci/drivers/dgmm/0000:* 2>/dev/null | wc -l
}

# Number of render nodes whose driver is dgmm.
dgmm_render_count() {
	n=0
	for d in /sys/class/drm/renderD*; do
		[ -e "$d/device/driver" ] || continue
		[ "$(basename "$(readlink "$d/device/driver")")" = dgmm ] && n=$((n + 1))
	done
	echo $n
}
