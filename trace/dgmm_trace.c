// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The one file that instantiates dgmm's trace events (trace/dgmm_trace.h).
 * Kbuild adds this directory to its include path, so that define_trace.h
 * finds the header through TRACE_INCLUDE_PATH ".", as in an out-of-tree
 * build it must (samples/trace_events does the same).
 */
#define CREATE_TRACE_POINTS
#include "dgmm_trace.h"
