# SPDX-License-Identifier: GPL-2.0-only OR MIT
#
# dgmm: the two commands of the README are 'make demo' and 'make check'.
# Both install what is missing (as root), build the 6.12 kernel once into
# $(DGMM_CACHE) (default /var/cache/dgmm), build dgmm and boot QEMU.
#
#   make check    static checks, then KUnit and selftests in the VM; the last
#                 line is "N passed, N failed, N skipped"
#   make demo     the manager's whole job in the VM, traced: a report of
#                 moves, evictions, sharing and verification, and
#                 out/demo.png, VRAM and GTT in use over time
#   make bench    build a kernel without debug options (once), boot it with
#                 bochs too and print the benchmark table (out/bench.txt)
#   make trace    record dgmm's trace events in the VM with trace-cmd during a
#                 short eviction stress; report out/trace.dat here
#   make shell    boot the VM with dgmm loaded and an interactive shell
#   make vm RUN=script [EXTRA=dir]
#                 boot the VM, copy EXTRA to /extra, run the script there
#   make module   build dgmm.ko and dgmm_test.ko against the cached kernel
#   make deps     only install the Debian packages
#   make kernel   only build the test kernel
#   make uapi-doc regenerate docs/uapi-reference.rst from the uAPI header
#   make clean    remove build products of the work tree (not the kernel cache)
#
# checkpatch runs with --strict and no exceptions (scripts/static-checks.sh
# is where one would go, with its reason).
#
# Kbuild reads the file 'Kbuild' for the module itself; this Makefile is only
# for people.

SHELL := /bin/bash
SCRIPTS := $(CURDIR)/scripts

.PHONY: all check demo shell vm bench trace module deps kernel userspace uapi-doc clean

all: module

deps:
	@$(SCRIPTS)/deps.sh

kernel: deps
	@$(SCRIPTS)/build-kernel.sh

module: kernel
	@. $(SCRIPTS)/lib.sh && dgmm_kernel_paths && \
		$(MAKE) -C "$$KBUILD" M=$(CURDIR) W=1 modules

userspace: kernel
	@$(SCRIPTS)/build-userspace.sh

check:
	@$(SCRIPTS)/check.sh

demo: module userspace
	@$(SCRIPTS)/demo.sh

bench:
	@$(SCRIPTS)/bench.sh

trace: module userspace
	@$(SCRIPTS)/trace.sh

shell: module userspace
	@$(SCRIPTS)/run-vm.sh --mode shell

vm: module userspace
	@test -n "$(RUN)" || { echo "usage: make vm RUN=script [EXTRA=dir]" >&2; exit 1; }
	@$(SCRIPTS)/run-vm.sh --run "$(RUN)" $(if $(EXTRA),--extra "$(EXTRA)") --timeout 1800

uapi-doc: kernel
	@$(SCRIPTS)/uapi-doc.sh

clean:
	@if . $(SCRIPTS)/lib.sh 2>/dev/null && dgmm_kernel_paths 2>/dev/null && \
		[ -f "$$KBUILD/Makefile" ]; then \
		$(MAKE) -s -C "$$KBUILD" M=$(CURDIR) clean; fi
	rm -rf out
