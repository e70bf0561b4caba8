#!/bin/bash
# Build dgmm.ko and the userspace programs and run the static checks, printing
# one TAP result per check to stdout (details go to $DGMM_OUT/static/*.log):
#   1 module builds with W=1   2 ... with zero warnings   3 sparse (C=2) is
#   silent on dgmm's files     4 checkpatch --strict is clean   5 userspace
#   programs build with -Wall -Werror
# Exit status: 0 if every check passed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
dgmm_kernel_paths

logs=$DGMM_OUT/static
mkdir -p "$logs"
kmake() { make -C "$KBUILD" M="$DGMM_ROOT" "$@"; }
n=0 failed=0
result() { # status description [log]
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		failed=1
		[ -n "${3:-}" ] && sed 's/^/# /' "$3" | tail -n 40
	fi
}

echo "TAP version 13"
echo "1..5"

kmake clean >/dev/null 2>&1
kmake W=1 modules >"$logs/build.log" 2>&1
result $? "dgmm.ko and dgmm_test.ko build with W=1" "$logs/build.log"
grep -E "warning:|error:" "$logs/build.log" >"$logs/warnings.log"
[ ! -s "$logs/warnings.log" ]
result $? "W=1 build has no warnings" "$logs/warnings.log"

# C=2 runs sparse on every file again without recompiling it.
kmake C=2 modules >"$logs/sparse.log" 2>&1
sparse_rc=$?
grep -F "$DGMM_ROOT/" "$logs/sparse.log" | grep -E "warning:|error:" >"$logs/sparse-findings.log"
[ $sparse_rc = 0 ] && [ ! -s "$logs/sparse-findings.log" ]
result $? "sparse (C=2) reports nothing for dgmm's files" "$logs/sparse-findings.log"

# No exceptions are needed today; add --ignore TYPE here, with the reason,
# if one ever is.
mapfile -t sources < <(cd "$DGMM_ROOT" && git ls-files --cached --others --exclude-standard \
	'*.c' '*.h' | grep -v '\.mod\.c$')
(cd "$DGMM_ROOT" && "$KSRC/scripts/checkpatch.pl" --no-tree --strict --terse -q \
	--show-types -f "${sources[@]}") >"$logs/checkpatch.log" 2>&1
! grep -qvE "^total: 0 errors, 0 warnings, 0 checks|^$" "$logs/checkpatch.log"
result $? "checkpatch --strict is clean on ${#sources[@]} C and header files" "$logs/checkpatch.log"

"$DGMM_ROOT/scripts/build-userspace.sh" >"$logs/userspace.log" 2>&1
result $? "userspace tests and tools build with -Wall -Werror" "$logs/userspace.log"

exit $failed
