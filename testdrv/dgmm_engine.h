/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
#ifndef _DGMM_ENGINE_H_
#define _DGMM_ENGINE_H_

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/dma-resv.h>
#include <drm/gpu_scheduler.h>

#include "ttm_backend/dgmm_copy.h"

/**
 * enum dgmm_op_kind - what an engine operation does
 * @DGMM_OP_COPY: copy @size bytes from @src to @dst
 * @DGMM_OP_FILL: set @size bytes of @dst to @value
 */
enum dgmm_op_kind {
	DGMM_OP_COPY,
	DGMM_OP_FILL,
};

/**
 * struct dgmm_engine_op - one operation of a job
 * @op: copy or fill
 * @src: what to copy (ignored for a fill; its kind must be DGMM_MEM_DMA
 *	 with no ranges then, so that freeing it frees nothing)
 * @dst: where to write
 * @size: bytes
 * @value: the byte a fill writes
 */
struct dgmm_engine_op {
	enum dgmm_op_kind op;
	struct dgmm_mem src;
	struct dgmm_mem dst;
	u64 size;
	u8 value;
};

struct dgmm_engine_job;
struct dgmm_sched_home;
struct drm_gem_object;

/**
 * struct dgmm_engine - the simulated copy engine of one device
 * @base: what the memory manager calls
 * @dev: the device whose DMA addresses the engine is given
 * @iommu: @dev's IOMMU domain if it translates (a paging domain), or NULL
 *	   when bus addresses are physical ones (dma-direct)
 * @vram: the device's view of its VRAM (the whole BAR, write-combined)
 * @vram_shifted: a second view of VRAM from its second page on, whose virtual
 *		  page numbers differ from @vram's by one (NULL if VRAM is one
 *		  page or the mapping failed); see dgmm_engine.c
 * @vram_start: bus address of the VRAM BAR, where peers reach it
 * @vram_size: bytes of VRAM
 * @bar_link: entry in the list of BARs peers reach (dgmm_engine.c)
 * @bar_registered: @bar_link is on that list (under its lock)
 * @home: where @sched lives, apart from the device: fences handed out name
 *	  their timeline through it after the device is gone (dgmm_engine.c)
 * @sched: the DRM GPU scheduler in front of the engine (in @home): it
 *	   resolves each job's dependencies, hands ready jobs to the hardware
 *	   (run_job) and times them out
 * @kernel_entity: the queue of the kernel's moves and clears, at kernel
 *		   priority; one entity, so their fences share one context and
 *		   signal in order (TTM's per-manager move fence needs that)
 * @submit_lock: serialises arming and pushing jobs of @kernel_entity
 * @hw_wq: ordered workqueue that is the engine itself: it runs the jobs
 *	   run_job hands it, one at a time, in that order
 * @hw_work: runs the jobs of @hw_queue
 * @hw_wait: where a throttled or hung job waits for its time, a reset or
 *	     the unplug
 * @lock: protects @hw_queue, @hw_seqno, @dead and @dep_waits
 * @hw_queue: jobs handed to the hardware and not started yet
 * @hw_context: fence context of the hardware fences
 * @hw_seqno: last hardware seqno handed out
 * @dead: set at unplug: jobs complete with -ENODEV without touching VRAM
 * @dep_waits: foreign dependencies being waited for with a time limit
 * @jobs_alive: jobs created and not yet freed; fini waits for zero
 * @job_timeout: how long a job may run, and a foreign dependency may stay
 *		 unsignalled, in jiffies
 * @hang_next: the next this many jobs hang until reset (for tests)
 * @stats: since the engine started: @stats.jobs that ran (or were failed at
 *	   their turn), @stats.bytes they copied or filled, @stats.busy_ns from
 *	   each job's start to its fence's signal timestamp,
 *	   @stats.parity_conflicts, chunks copied through views of the same
 *	   page parity (only VRAM's first page forces that), @stats.resets, jobs
 *	   the timeout handler took off the engine, @stats.cpu_fallbacks, kernel
 *	   jobs among them finished by the CPU, @stats.dep_timeouts, foreign
 *	   dependencies given up on, and @stats.dma_faults, accesses to bus
 *	   addresses that led nowhere (each fails its job with -EFAULT)
 */
struct dgmm_engine {
	struct dgmm_copy_engine base;
	struct device *dev;
	struct iommu_domain *iommu;
	void __iomem *vram;
	void __iomem *vram_shifted;
	phys_addr_t vram_start;
	u64 vram_size;
	struct list_head bar_link;
	bool bar_registered;
	struct dgmm_sched_home *home;
	struct drm_gpu_scheduler *sched;
	struct drm_sched_entity kernel_entity;
	struct mutex submit_lock; /* see kernel-doc */
	struct workqueue_struct *hw_wq;
	struct work_struct hw_work;
	wait_queue_head_t hw_wait;
	spinlock_t lock; /* see kernel-doc */
	struct list_head hw_queue;
	u64 hw_context;
	u64 hw_seqno;
	bool dead;
	struct list_head dep_waits;
	atomic_t jobs_alive;
	long job_timeout;
	atomic_t hang_next;
	struct {
		atomic64_t jobs;
		atomic64_t bytes;
		atomic64_t busy_ns;
		atomic64_t parity_conflicts;
		atomic64_t resets;
		atomic64_t cpu_fallbacks;
		atomic64_t dep_timeouts;
		atomic64_t dma_faults;
	} stats;
};

struct dentry;
struct device;
struct iommu_domain;

int dgmm_engine_init(struct dgmm_engine *engine, struct device *dev,
		     resource_size_t vram_start, void __iomem *vram, u64 vram_size);
void dgmm_engine_debugfs_init(struct dgmm_engine *engine, struct dentry *root);
void dgmm_engine_unplug(struct dgmm_engine *engine);
void dgmm_engine_drain(struct dgmm_engine *engine);

struct dgmm_engine_job *dgmm_engine_job_create(struct dgmm_engine *engine,
					       struct drm_sched_entity *entity,
					       unsigned int num_ops, unsigned int num_objs,
					       u64 client_id);
struct dgmm_engine_op *dgmm_engine_job_op(struct dgmm_engine_job *job, unsigned int i);
void dgmm_engine_job_obj(struct dgmm_engine_job *job, unsigned int i,
			 struct drm_gem_object *obj);
int dgmm_engine_job_add_fence(struct dgmm_engine_job *job, struct dma_fence *fence);
int dgmm_engine_job_add_resv(struct dgmm_engine_job *job, struct dma_resv *resv,
			     enum dma_resv_usage usage);
struct dma_fence *dgmm_engine_job_push(struct dgmm_engine_job *job, struct mutex *lock);
void dgmm_engine_job_abort(struct dgmm_engine_job *job);
void dgmm_engine_fault_injection_init(void);
#if IS_ENABLED(CONFIG_KUNIT)
void dgmm_engine_hang_next(struct dgmm_engine *engine, unsigned int jobs);
#endif
void dgmm_engine_fault_injection_fini(void);
void dgmm_engine_fini(struct dgmm_engine *engine);
void dgmm_engine_wait_homes(void);

#endif
