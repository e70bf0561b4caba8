/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
#ifndef _DGMM_ENGINE_H_
#define _DGMM_ENGINE_H_

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include "ttm_backend/dgmm_copy.h"

/**
 * struct dgmm_engine - the simulated copy engine of one device
 * @base: what the memory manager calls
 * @vram: the device's view of its VRAM (the whole BAR, write-combined)
 * @vram_shifted: a second view of VRAM from its second page on, whose virtual
 *		  page numbers differ from @vram's by one (NULL if VRAM is one
 *		  page or the mapping failed); see dgmm_engine.c
 * @vram_size: bytes of VRAM
 * @wq: ordered workqueue running the jobs, one at a time
 * @work: runs ready jobs from the head of @queue
 * @lock: protects @queue and @dead, and is the lock of the job fences
 * @queue: submitted jobs not yet run, in submission (= seqno) order
 * @context: fence context of the engine
 * @seqno: last seqno handed out
 * @dead: set at unplug: jobs are completed with -ENODEV without running
 * @stats: since the engine started: @stats.jobs that ran (or were failed at
 *	   their turn), @stats.bytes they copied or filled, @stats.busy_ns from
 *	   each job's start to its fence's signal timestamp, and
 *	   @stats.parity_conflicts, chunks copied through views of the same page
 *	   parity (only VRAM's first page forces that)
 */
struct dgmm_engine {
	struct dgmm_copy_engine base;
	void __iomem *vram;
	void __iomem *vram_shifted;
	u64 vram_size;
	struct workqueue_struct *wq;
	struct work_struct work;
	spinlock_t lock; /* see kernel-doc */
	struct list_head queue;
	u64 context;
	u64 seqno;
	bool dead;
	struct {
		atomic64_t jobs;
		atomic64_t bytes;
		atomic64_t busy_ns;
		atomic64_t parity_conflicts;
	} stats;
};

struct dentry;
struct device;

int dgmm_engine_init(struct dgmm_engine *engine, struct device *dev,
		     resource_size_t vram_start, void __iomem *vram, u64 vram_size);
void dgmm_engine_debugfs_init(struct dgmm_engine *engine, struct dentry *root);
void dgmm_engine_unplug(struct dgmm_engine *engine);
void dgmm_engine_fini(struct dgmm_engine *engine);

#endif
