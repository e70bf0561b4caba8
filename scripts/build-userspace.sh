#!/bin/bash
# Build the userspace tests and tools as static binaries into $DGMM_OUT/bin,
# against the built kernel's sanitised uapi headers and its kselftest harness.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
dgmm_kernel_paths

bin=$DGMM_OUT/bin
# Start empty: a failed build must not leave an older binary to be tested.
rm -rf "$bin"
mkdir -p "$bin"
# -Wall as the kernel's own selftests build; -Wextra trips on the harness.
CFLAGS=(-static -O2 -g -Wall -Werror -std=gnu11
	-I"$DGMM_ROOT/include/uapi" -I"$KBUILD/usr/include"
	-I"$KBUILD/usr/include/drm" -I"$KSRC/tools/testing/selftests")

build() { # output sources...
	local out=$1
	shift
	gcc "${CFLAGS[@]}" -o "$bin/$out" "$@"
}

for src in "$DGMM_ROOT"/selftests/uapi/*_test.c; do
	build "$(basename "$src" .c)" "$src"
done
build dgmm-info "$DGMM_ROOT/tools/dgmm_info.c"
build dgmm-fence-hold "$DGMM_ROOT/selftests/uapi/dgmm_fence_hold.c"
build dgmm-bench "$DGMM_ROOT/tools/dgmm_bench.c"
build dgmm-stress "$DGMM_ROOT/tools/dgmm_stress.c" -pthread
