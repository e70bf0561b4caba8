#!/bin/bash
# Build dgmm.ko and the userspace programs and run the static checks, printing
# one TAP result per check to stdout (details go to $DGMM_OUT/static/*.log):
#   1 module builds with W=1   2 ... with zero warnings   3 sparse (C=2) is
#   silent on dgmm's files     4 checkpatch --strict is clean   5 userspace
#   programs build with -Wall -Werror   6 the module builds with W=1 and no
#   warning against Debian's own kernel headers (no KUnit, no
#   DMABUF_MOVE_NOTIFY), as a user outside this project builds it
#   7 every program the scripts and the builds run comes from a package
#   deps.sh installs, or from Debian's essential base   8 the uAPI header's
#   kernel-doc is complete, docs/uapi-reference.rst is generated from it and
#   current, and docs/uapi.md covers every ioctl (scripts/uapi-doc.sh)
# Exit status: 0 if every check passed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
dgmm_kernel_paths
dgmm_distro_paths

logs=$DGMM_OUT/static
mkdir -p "$logs"
# An array, not a function: dgmm_record_programs hands it to strace.
kmake=(make -C "$KBUILD" M="$DGMM_ROOT")
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
echo "1..8"

"${kmake[@]}" clean >/dev/null 2>&1
dgmm_record_programs "$logs/build.programs" "${kmake[@]}" W=1 modules >"$logs/build.log" 2>&1
result $? "dgmm.ko and dgmm_test.ko build with W=1" "$logs/build.log"
grep -E "warning:|error:" "$logs/build.log" >"$logs/warnings.log"
[ ! -s "$logs/warnings.log" ]
result $? "W=1 build has no warnings" "$logs/warnings.log"

# C=2 runs sparse on every file again without recompiling it.
dgmm_record_programs "$logs/sparse.programs" "${kmake[@]}" C=2 modules >"$logs/sparse.log" 2>&1
sparse_rc=$?
grep -F "$DGMM_ROOT/" "$logs/sparse.log" | grep -E "warning:|error:" >"$logs/sparse-findings.log"
[ $sparse_rc = 0 ] && [ ! -s "$logs/sparse-findings.log" ]
result $? "sparse (C=2) reports nothing for dgmm's files" "$logs/sparse-findings.log"

# One exception, for the trace events header alone: TRACE_EVENT()'s
# arguments are laid out as every trace header in the kernel lays them out
# (TP_STRUCT__entry( on a line of its own, macro arguments one tab in),
# which checkpatch reads as badly aligned C calls. Add others here, each
# with its reason, if one is ever needed.
trace_header=trace/dgmm_trace.h
mapfile -t sources < <(cd "$DGMM_ROOT" && git ls-files --cached --others --exclude-standard \
	'*.c' '*.h' | grep -v '\.mod\.c$' | grep -vxF "$trace_header")
(cd "$DGMM_ROOT" && "$KSRC/scripts/checkpatch.pl" --no-tree --strict --terse -q \
	--show-types -f "${sources[@]}" &&
	"$KSRC/scripts/checkpatch.pl" --no-tree --strict --terse -q --show-types \
		--ignore PARENTHESIS_ALIGNMENT,OPEN_ENDED_LINE -f "$trace_header") \
	>"$logs/checkpatch.log" 2>&1
sources+=("$trace_header")
! grep -qvE "^total: 0 errors, 0 warnings, 0 checks|^$" "$logs/checkpatch.log"
result $? "checkpatch --strict is clean on ${#sources[@]} C and header files" "$logs/checkpatch.log"

dgmm_record_programs "$logs/userspace.programs" "$DGMM_ROOT/scripts/build-userspace.sh" \
	>"$logs/userspace.log" 2>&1
result $? "userspace tests and tools build with -Wall -Werror" "$logs/userspace.log"

# Debian's headers: a copy of the sources, so that the work tree keeps the
# objects of the test kernel.
distro_dir=$(dgmm_module_dir distro)
dgmm_copy_sources "$distro_dir"
dgmm_record_programs "$logs/distro.programs" \
	make -C "$DISTRO_KDIR" M="$distro_dir" W=1 modules >"$logs/distro.log" 2>&1
distro_rc=$?
grep -E "warning:|error:" "$logs/distro.log" >"$logs/distro-warnings.log"
[ $distro_rc = 0 ] && [ ! -s "$logs/distro-warnings.log" ] && [ -f "$distro_dir/dgmm.ko" ]
result $? "dgmm.ko builds with W=1 and no warning against Debian's linux-headers-$DISTRO_KREL" \
	"$logs/distro.log"

# What every build above and the kernel's own build ran, and what the
# scripts name; python3 and strace record, so they are covered by the list.
# fresh-root-test.sh is left out: it is no part of the README's commands and
# installs what it needs (debootstrap) itself.
mapfile -t scripts < <(cd "$DGMM_ROOT" && ls scripts/*.sh scripts/*.py Makefile .ci/run |
	grep -v '^scripts/fresh-root-test.sh$')
recorded=("$KBUILD/programs.txt" "$logs"/*.programs)
bench_record=$(DGMM_FLAVOUR=bench dgmm_kernel_paths && echo "$KBUILD/programs.txt")
[ -f "$bench_record" ] && recorded+=("$bench_record")
args=()
for f in "${recorded[@]}"; do args+=(--recorded "$f"); done
for f in "${scripts[@]}"; do args+=(--script "$DGMM_ROOT/$f"); done
python3 "$DGMM_ROOT/scripts/check-programs.py" check --packages "$("$DGMM_ROOT/scripts/deps.sh" --list)" \
	"${args[@]}" >"$logs/programs.log" 2>&1
result $? "every program the scripts and builds run comes from a package deps.sh installs" \
	"$logs/programs.log"

"$DGMM_ROOT/scripts/uapi-doc.sh" --check >"$logs/uapi-doc.log" 2>&1
result $? "uAPI kernel-doc complete, docs/uapi-reference.rst current, docs/uapi.md covers every ioctl" \
	"$logs/uapi-doc.log"

exit $failed
