#!/bin/bash
# make demo: boot the VM and run the demo (scripts/guest/demo.sh) under
# trace-cmd; bring the trace back as out/demo.dat, print the demo's report
# with the moves by reason from the trace, and draw out/demo.png (VRAM and
# GTT in use over time per device, evictions and move_notify marked) with
# tools/dgmm_plot.py. DGMM_DEMO_SECONDS makes the workload longer (30 s).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

log=$DGMM_OUT/vm-demo.log
dat=$DGMM_OUT/demo.dat
png=$DGMM_OUT/demo.png
rc=0
# A CPU-visible window smaller than VRAM, so that CPU access faults BOs in.
export DGMM_ARGS=${DGMM_ARGS:-vram_visible_mb=64}
say "booting the VM: two dgmm devices, vkms; the demo runs about a minute"
# The guest prints its progress on the console; show it as it comes.
"$DGMM_ROOT/scripts/run-vm.sh" --mode demo --log "$log" --timeout 900 |
	sed -un 's/\r$//; s/^DEMO: /  /p' || true
rc=${PIPESTATUS[0]}
grep -q '^DGMM-DEMO-EXIT' "$log" || die "the demo did not finish in the VM (exit $rc; log: $log)"
dgmm_take_trace "$log" "$dat" || die "no trace in $log"

say "report"
sed -n '/^DEMO-REPORT-BEGIN/,/^DEMO-REPORT-END/p' "$log" | sed '1d;$d' | sed 's/^/  /'
python3 "$DGMM_ROOT/tools/dgmm_plot.py" "$dat" "$png" | sed 's/^/  /' ||
	die "tools/dgmm_plot.py $dat failed"
say "trace: $dat (trace-cmd report $dat); log: $log; picture: $png"
if grep -q '^DEMO-RESULT ok' "$log"; then
	say "every byte verified: the demo passed"
else
	die "the demo failed: see $log"
fi
