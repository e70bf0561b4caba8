#!/bin/bash
# make check: install what is missing, build the kernel once, build and
# statically check dgmm, boot the VM with the tests on the project's debug
# kernel, again with a virtual IOMMU and both devices behind a PCIe switch
# (a subset; DGMM_FULL=1 for all of it), then on Debian's own kernel, and
# judge the three logs (KUnit's KTAP through the kernel's kunit.py parse).
# The last line printed is "N passed, N failed, N skipped".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

export DGMM_FLAVOUR=check
"$DGMM_ROOT/scripts/deps.sh"
"$DGMM_ROOT/scripts/build-kernel.sh"
# Without Debian's kernel (offline, say) the rest still runs; its checks fail.
"$DGMM_ROOT/scripts/fetch-distro-kernel.sh" ||
	say "could not fetch Debian's kernel: its build and its VM run will fail"
mkdir -p "$DGMM_OUT"

say "building dgmm and running static checks"
static_rc=0
"$DGMM_ROOT/scripts/static-checks.sh" >"$DGMM_OUT/static.tap" || static_rc=$?
grep -E "^(not )?ok " "$DGMM_OUT/static.tap" | sed 's/^/  /' >&2

# The tests run with part of VRAM CPU-invisible, as on a small-BAR board, and
# a 2 s job timeout, so that the tests of timeouts do not take long.
export DGMM_ARGS=${DGMM_ARGS:-vram_visible_mb=64 job_timeout_ms=2000}
log=$DGMM_OUT/vm-check.log
distro_log=$DGMM_OUT/vm-distro.log
iommu_log=$DGMM_OUT/vm-iommu.log
vm_rc=0 distro_rc=0 iommu_rc=0
: >"$log"
: >"$distro_log"
: >"$iommu_log"
if [ -f "$DGMM_ROOT/dgmm.ko" ] && [ -x "$DGMM_OUT/bin/dgmm-info" ]; then
	DGMM_PLATFORM=root "$DGMM_ROOT/scripts/run-vm.sh" --mode check --log "$log" \
		--timeout "${DGMM_VM_TIMEOUT:-900}" >/dev/null || vm_rc=$?
	DGMM_PLATFORM=iommu-switch "$DGMM_ROOT/scripts/run-vm.sh" --mode check \
		--log "$iommu_log" --timeout "${DGMM_VM_TIMEOUT:-900}" >/dev/null || iommu_rc=$?
else
	say "build failed: not booting the VM"
fi
if [ -f "$(dgmm_module_dir distro)/dgmm.ko" ] && [ -x "$DGMM_OUT/bin/dgmm-info" ]; then
	"$DGMM_ROOT/scripts/run-vm.sh" --mode distro --log "$distro_log" \
		--timeout "${DGMM_VM_TIMEOUT:-900}" >/dev/null || distro_rc=$?
else
	say "build against Debian's headers failed: not booting Debian's kernel"
fi

say "results"
dgmm_kernel_paths
python3 "$DGMM_ROOT/scripts/check-log.py" "$log" "distro=$distro_log" "iommu=$iommu_log" \
	--vm-exit "$vm_rc" --vm-exit "distro=$distro_rc" --vm-exit "iommu=$iommu_rc" \
	--kunit-parser "$KSRC/tools/testing/kunit/kunit.py" --kunit-report "$DGMM_OUT/kunit.txt" \
	--tap "static:checks=$DGMM_OUT/static.tap" \
	--expect static:checks \
	--expect guest:load \
	--expect kunit:dgmm_placement \
	--expect kunit:dgmm_vram_mgr \
	--expect kunit:dgmm_gtt_mgr \
	--expect kunit:dgmm_bo \
	--expect kunit:dgmm_engine \
	--expect kunit:dgmm_evict \
	--expect kunit:dgmm_dmabuf \
	--expect kselftest:dgmm_query_test \
	--expect kselftest:dgmm_gem_test \
	--expect kselftest:dgmm_submit_test \
	--expect kselftest:dgmm_unbind_test \
	--expect kselftest:dgmm_unpriv_test \
	--expect kselftest:dgmm_trace_test \
	--expect kselftest:dgmm_fdinfo_test \
	--expect kselftest:dgmm_evict_test \
	--expect kselftest:dgmm_dmabuf_test \
	--expect kselftest:dgmm_vkms_test \
	--expect stress:dgmm-stress \
	--expect stress:dgmm-stress-share \
	--expect stress:dgmm-stress-faults \
	--expect stress:dgmm-stress-evict \
	--expect stress:dgmm-stress-evict-budget \
	--expect guest:tiny-load \
	--expect kselftest:dgmm_pressure_test@tiny \
	--expect kselftest:dgmm_gem_test@tiny \
	--expect guest:tiny-restore \
	--expect guest:debugfs \
	--expect guest:lifecycle \
	--expect iommu/guest:load \
	--expect iommu/kunit:dgmm_placement \
	--expect iommu/kunit:dgmm_vram_mgr \
	--expect iommu/kunit:dgmm_gtt_mgr \
	--expect iommu/kunit:dgmm_bo \
	--expect iommu/kunit:dgmm_engine \
	--expect iommu/kunit:dgmm_evict \
	--expect iommu/kunit:dgmm_dmabuf \
	--expect iommu/guest:debugfs \
	--expect iommu/kselftest:dgmm_query_test \
	--expect iommu/kselftest:dgmm_gem_test \
	--expect iommu/kselftest:dgmm_submit_test \
	--expect iommu/kselftest:dgmm_unbind_test \
	--expect iommu/kselftest:dgmm_unpriv_test \
	--expect iommu/kselftest:dgmm_trace_test \
	--expect iommu/kselftest:dgmm_fdinfo_test \
	--expect iommu/kselftest:dgmm_evict_test \
	--expect iommu/kselftest:dgmm_dmabuf_test \
	--expect iommu/kselftest:dgmm_vkms_test \
	--expect iommu/stress:dgmm-stress-share \
	--expect iommu/guest:lifecycle \
	--expect distro/guest:load \
	--expect distro/kselftest:dgmm_query_test \
	--expect distro/kselftest:dgmm_gem_test \
	--expect distro/kselftest:dgmm_submit_test \
	--expect distro/kselftest:dgmm_unbind_test \
	--expect distro/kselftest:dgmm_unpriv_test \
	--expect distro/kselftest:dgmm_trace_test \
	--expect distro/kselftest:dgmm_fdinfo_test \
	--expect distro/kselftest:dgmm_evict_test \
	--expect distro/kselftest:dgmm_dmabuf_test \
	--expect distro/stress:dgmm-stress \
	--expect distro/stress:dgmm-stress-share \
	--expect distro/guest:tiny-load \
	--expect distro/kselftest:dgmm_pressure_test@tiny \
	--expect distro/kselftest:dgmm_gem_test@tiny \
	--expect distro/guest:tiny-restore \
	--expect distro/guest:lifecycle \
	--require-kmemleak "" --require-kmemleak iommu
