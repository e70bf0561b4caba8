#!/bin/sh
# The demo's workload, run in the guest under trace-cmd (scripts/guest/init,
# dgmm_mode=demo): the whole job of the memory manager on the two devices,
# with progress, then a report from the devices' debugfs counters.
#
# 1. Four processes keep about three times device 0's VRAM in BOs; they
#    write them through the CPU (mappings of VRAM beyond the CPU-visible
#    window fault) and with device jobs, migrate them, and VRAM pressure
#    evicts (dgmm-stress). At the same time two more processes share their
#    BOs of device 0 with device 1, which runs half the jobs on them while
#    device 0 moves them (dgmm-stress --share). Every byte is checked
#    against a model; workers are killed now and then.
# 2. vkms scans a shared dgmm BO out; its writeback output is compared
#    with the BO pixel by pixel (dgmm_vkms_test).
# DGMM_DEMO_SECONDS (dgmm_demo_seconds= on the kernel command line) sets how
# long step 1 runs (30 s).
seconds=${dgmm_demo_seconds:-30}

tap_summary() { # file: "N of M ok", from its TAP plan
	echo "$(grep -c '^ok' "$1") of $(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$1" | head -1) ok"
}

stat_of() { # pci key
	grep -m1 "^$2:" "/sys/kernel/debug/dri/$1/stats" 2>/dev/null | sed 's/.*: *//'
}

devices=$(ls -d /sys/bus/pci/drivers/dgmm/0000:* 2>/dev/null | xargs -n1 basename)
echo "DEMO: [1/3] two devices up:"
dgmm-info | sed 's/^/DEMO:   /'

echo "DEMO: [2/3] for $seconds s: 3x device 0's VRAM in BOs (4 processes), and"
echo "DEMO:       device 0's BOs of 2 more processes shared with device 1"
dgmm-stress --seconds "$seconds" --procs 4 --threads 2 --device 0 --oversubscribe 3 \
	>/tmp/demo-stress.tap 2>&1 &
pressure=$!
dgmm-stress --seconds "$seconds" --procs 2 --threads 2 --device 0 --oversubscribe 1 \
	--share >/tmp/demo-share.tap 2>&1
share_rc=$?
wait $pressure
stress_rc=$?
echo "DEMO:   the pressure:"
sed 's/^/DEMO:     /' /tmp/demo-stress.tap
echo "DEMO:   the sharing:"
sed 's/^/DEMO:     /' /tmp/demo-share.tap

echo "DEMO: [3/3] vkms scans a shared dgmm BO out"
dgmm_vkms_test >/tmp/demo-vkms.tap 2>&1
vkms_rc=$?
grep -E '^(ok|not ok)|#  ' /tmp/demo-vkms.tap | sed 's/^/DEMO:   /'

echo "DEMO-REPORT-BEGIN"
echo "regions at the end (dgmm-info):"
dgmm-info | sed 's/^/  /'
for d in $devices; do
	echo "device $d"
	grep -E '^bytes [a-z]+->[a-z]+: [1-9]' "/sys/kernel/debug/dri/$d/stats" | sed 's/^/  moved /'
	grep -E '^evictions from|^promotions:|^swapouts:' "/sys/kernel/debug/dri/$d/stats" |
		sed 's/^/  /'
	echo "  move_notify sent: $(stat_of "$d" dmabuf_move_notifies)," \
		"received: $(stat_of "$d" dmabuf_invalidations), re-maps: $(stat_of "$d" dmabuf_maps)"
done
echo "verification: pressure $(tap_summary /tmp/demo-stress.tap)," \
	"sharing $(tap_summary /tmp/demo-share.tap), vkms scanout $(tap_summary /tmp/demo-vkms.tap)"
grep -h '# bytes verified' /tmp/demo-stress.tap /tmp/demo-share.tap | sed 's/^# /  /'
echo "DEMO-REPORT-END"
# Said here: trace-cmd's own exit status is not the command's.
if [ $stress_rc = 0 ] && [ $share_rc = 0 ] && [ $vkms_rc = 0 ]; then
	echo "DEMO-RESULT ok"
else
	echo "DEMO-RESULT failed"
fi
