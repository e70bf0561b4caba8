#!/bin/bash
# make bench: build the kernel without debug options (once, into the cache),
# build dgmm for it, boot it with bochs too, and print the benchmark table,
# which is saved as out/bench.txt (the VM's log: out/vm-bench.log).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

export DGMM_FLAVOUR=bench
"$DGMM_ROOT/scripts/deps.sh"
"$DGMM_ROOT/scripts/build-kernel.sh"
dgmm_kernel_paths
mkdir -p "$DGMM_OUT"

dir=$(dgmm_module_dir bench)
say "building dgmm for the bench kernel in $dir"
dgmm_copy_sources "$dir"
make -s -C "$KBUILD" M="$dir" W=1 modules >"$DGMM_OUT/bench-build.log" 2>&1 ||
	{ tail -30 "$DGMM_OUT/bench-build.log"; die "building dgmm for the bench kernel failed"; }
"$DGMM_ROOT/scripts/build-userspace.sh"

log=$DGMM_OUT/vm-bench.log
rc=0
# Room in GTT for the 100,000 small BOs of the eviction-cost figure (and
# the RAM behind it), so that they are in no eviction's way.
VM_MEM_MB=2048 DGMM_ARGS="gtt_size_mb=1024" \
	"$DGMM_ROOT/scripts/run-vm.sh" --mode bench --log "$log" --timeout 1800 >/dev/null || rc=$?
table=$DGMM_OUT/bench.txt
sed -n '/^DGMM-BENCH-TABLE-BEGIN/,/^DGMM-BENCH-TABLE-END/p' "$log" | sed '1d;$d' >"$table"
if [ "$rc" != 0 ] || [ ! -s "$table" ]; then
	grep -E "^dgmm-bench" "$log" >&2 || true
	die "the benchmark did not report (exit $rc; log: $log)"
fi
cat "$table"
say "table saved to $table"
