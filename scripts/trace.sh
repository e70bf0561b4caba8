#!/bin/bash
# make trace: boot the VM, record dgmm's trace events with trace-cmd during
# a short eviction stress, bring the trace back as out/trace.dat and report
# its first moves here. DGMM_TRACE_SECONDS makes the stress longer (3 s).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

log=$DGMM_OUT/vm-trace.log
dat=$DGMM_OUT/trace.dat
rc=0
"$DGMM_ROOT/scripts/run-vm.sh" --mode trace --log "$log" --timeout 900 >/dev/null || rc=$?
grep -q '^DGMM-TRACE-RECORD-EXIT 0' "$log" ||
	die "trace-cmd record failed in the VM (exit $rc; log: $log)"
dgmm_take_trace "$log" "$dat" || die "no trace in $log"
report=$DGMM_OUT/trace.txt
trace-cmd report "$dat" >"$report" 2>/dev/null || die "trace-cmd report $dat failed"
say "trace-cmd report $dat (the first evictions):"
grep -m 12 'reason=evict' "$report" || true
say "$(grep -c ': dgmm_' "$report") dgmm events in $dat; the whole report: $report"
