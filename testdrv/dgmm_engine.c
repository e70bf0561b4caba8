// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The simulated copy engine of a dgmm device.
 *
 * A real discrete device has DMA engines that copy and fill memory while the
 * CPU goes on; this one does the same work with the CPU, on an ordered
 * workqueue, so that moves are asynchronous and fenced exactly as they would
 * be on hardware:
 *
 * - A job (copy or fill) gets a dma_fence of the engine's fence context when
 *   it is submitted. Jobs run, and their fences signal, in submission order.
 * - A job depends on every fence of a reservation object. It does not wait
 *   in a thread: a callback on each dependency counts them down, and the last
 *   one kicks the worker. The worker runs jobs from the head of the queue as
 *   long as the head is ready.
 * - If a dependency signalled with an error, the job does not touch memory
 *   and its fence signals with that error. After unplug, jobs signal -ENODEV.
 * - The engine reaches VRAM through the BAR mapping and system pages through
 *   kmap (as a device would through their DMA addresses).
 * - engine_mbps and engine_latency_us throttle it to behave like a PCIe DMA
 *   engine rather than like a memcpy.
 */

#include <linux/delay.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "dgmm_engine.h"

static unsigned int engine_mbps;
module_param(engine_mbps, uint, 0644);
MODULE_PARM_DESC(engine_mbps,
		 "Bandwidth of the simulated copy engine in MiB/s (default 0: as fast as the CPU)");

static unsigned int engine_latency_us;
module_param(engine_latency_us, uint, 0644);
MODULE_PARM_DESC(engine_latency_us,
		 "Time the simulated copy engine takes to start each job, in us (default 0)");

#define DGMM_ENGINE_BOUNCE_SIZE SZ_64K

enum dgmm_job_op {
	DGMM_JOB_COPY,
	DGMM_JOB_FILL,
};

struct dgmm_job_dep {
	struct dma_fence_cb cb;
	struct dma_fence *fence;
	struct dgmm_engine_job *job;
};

/*
 * The fence comes first: the job is freed with it (dma_fence_free), after
 * the worker has dropped everything else the job held.
 */
struct dgmm_engine_job {
	struct dma_fence fence;
	struct dgmm_engine *engine;
	struct list_head link;
	enum dgmm_job_op op;
	struct dgmm_mem src;
	struct dgmm_mem dst;
	u64 size;
	u8 value;
	atomic_t pending;
	atomic_t error;
	unsigned int num_deps;
	struct dgmm_job_dep *deps;
};

static struct dgmm_engine *to_dgmm_engine(struct dgmm_copy_engine *base)
{
	return container_of(base, struct dgmm_engine, base);
}

static const char *dgmm_job_driver_name(struct dma_fence *fence)
{
	return "dgmm";
}

static const char *dgmm_job_timeline_name(struct dma_fence *fence)
{
	return "copy-engine";
}

static const struct dma_fence_ops dgmm_job_fence_ops = {
	.get_driver_name = dgmm_job_driver_name,
	.get_timeline_name = dgmm_job_timeline_name,
};

/* A position in a backing store, walked segment by segment. */
struct dgmm_mem_cursor {
	const struct dgmm_mem *mem;
	unsigned int idx;
	u64 off;
};

static u64 cursor_left(const struct dgmm_mem_cursor *c)
{
	if (c->idx >= c->mem->count)
		return 0;
	if (c->mem->kind == DGMM_MEM_VRAM)
		return c->mem->ranges[c->idx].size - c->off;
	return PAGE_SIZE - c->off;
}

static void cursor_advance(struct dgmm_mem_cursor *c, u64 n)
{
	c->off += n;
	if (!cursor_left(c)) {
		c->idx++;
		c->off = 0;
	}
}

static void __iomem *cursor_io(struct dgmm_engine *e, const struct dgmm_mem_cursor *c)
{
	return e->vram + c->mem->ranges[c->idx].offset + c->off;
}

/* Every VRAM range must lie inside VRAM, and the store must hold @size bytes. */
static bool mem_valid(struct dgmm_engine *e, const struct dgmm_mem *mem, u64 size)
{
	u64 total = 0;
	unsigned int i;

	if (mem->kind == DGMM_MEM_PAGES)
		return (u64)mem->count * PAGE_SIZE >= size;
	for (i = 0; i < mem->count; i++) {
		const struct dgmm_mem_range *r = &mem->ranges[i];

		if (!r->size || r->offset > e->vram_size || r->size > e->vram_size - r->offset)
			return false;
		total += r->size;
	}
	return total >= size;
}

static void do_copy(struct dgmm_engine *e, struct dgmm_engine_job *job)
{
	struct dgmm_mem_cursor src = { .mem = &job->src }, dst = { .mem = &job->dst };
	bool src_io = job->src.kind == DGMM_MEM_VRAM;
	bool dst_io = job->dst.kind == DGMM_MEM_VRAM;
	u64 left = job->size;

	while (left) {
		u64 n = min3(left, cursor_left(&src), cursor_left(&dst));
		void *s = NULL, *d = NULL;

		if (src_io && dst_io)
			n = min_t(u64, n, DGMM_ENGINE_BOUNCE_SIZE);
		if (!src_io)
			s = kmap_local_page(job->src.pages[src.idx]) + src.off;
		if (!dst_io)
			d = kmap_local_page(job->dst.pages[dst.idx]) + dst.off;

		if (src_io && dst_io) {
			memcpy_fromio(e->bounce, cursor_io(e, &src), n);
			memcpy_toio(cursor_io(e, &dst), e->bounce, n);
		} else if (src_io) {
			memcpy_fromio(d, cursor_io(e, &src), n);
		} else if (dst_io) {
			memcpy_toio(cursor_io(e, &dst), s, n);
		} else {
			memcpy(d, s, n);
		}

		/* Unmap in the reverse order of mapping. */
		if (d)
			kunmap_local(d);
		if (s)
			kunmap_local(s);
		cursor_advance(&src, n);
		cursor_advance(&dst, n);
		left -= n;
	}
}

static void do_fill(struct dgmm_engine *e, struct dgmm_engine_job *job)
{
	struct dgmm_mem_cursor dst = { .mem = &job->dst };
	u64 left = job->size;

	while (left) {
		u64 n = min(left, cursor_left(&dst));

		if (job->dst.kind == DGMM_MEM_VRAM) {
			memset_io(cursor_io(e, &dst), job->value, n);
		} else {
			void *d = kmap_local_page(job->dst.pages[dst.idx]) + dst.off;

			memset(d, job->value, n);
			kunmap_local(d);
		}
		cursor_advance(&dst, n);
		left -= n;
	}
}

/* Makes the job last as long as the throttled engine would take. */
static void throttle(u64 bytes, ktime_t start)
{
	unsigned int mbps = READ_ONCE(engine_mbps);
	u64 want_ns = (u64)READ_ONCE(engine_latency_us) * NSEC_PER_USEC;
	s64 left_ns;

	if (mbps)
		want_ns += div_u64(bytes * NSEC_PER_SEC, (u64)mbps << 20);
	left_ns = want_ns - ktime_to_ns(ktime_sub(ktime_get(), start));
	if (left_ns > 0)
		fsleep(div_u64(left_ns, NSEC_PER_USEC));
}

static void job_release_deps(struct dgmm_engine_job *job)
{
	unsigned int i;

	for (i = 0; i < job->num_deps; i++)
		dma_fence_put(job->deps[i].fence);
	kfree(job->deps);
	job->deps = NULL;
	job->num_deps = 0;
}

static void job_free_ranges(struct dgmm_engine_job *job)
{
	dgmm_mem_release(&job->src);
	dgmm_mem_release(&job->dst);
}

/* Signals the job's fence with @err (0 for success) and drops the queue's reference. */
static void job_complete(struct dgmm_engine_job *job, int err)
{
	if (err)
		dma_fence_set_error(&job->fence, err);
	dma_fence_signal(&job->fence);
	job_release_deps(job);
	job_free_ranges(job);
	dma_fence_put(&job->fence);
}

static void job_run(struct dgmm_engine *e, struct dgmm_engine_job *job, bool dead)
{
	int err = atomic_read(&job->error);
	ktime_t start = ktime_get();

	if (!err && dead)
		err = -ENODEV;
	if (!err) {
		if (job->op == DGMM_JOB_COPY)
			do_copy(e, job);
		else
			do_fill(e, job);
		throttle(job->size, start);
	}
	job_complete(job, err);
}

static void dgmm_engine_work(struct work_struct *work)
{
	struct dgmm_engine *e = container_of(work, struct dgmm_engine, work);
	struct dgmm_engine_job *job;
	bool dead;

	for (;;) {
		spin_lock_irq(&e->lock);
		job = list_first_entry_or_null(&e->queue, struct dgmm_engine_job, link);
		if (!job || atomic_read(&job->pending)) {
			spin_unlock_irq(&e->lock);
			return;
		}
		list_del_init(&job->link);
		dead = e->dead;
		spin_unlock_irq(&e->lock);

		job_run(e, job, dead);
	}
}

static void job_dep_signalled(struct dgmm_engine_job *job, struct dma_fence *fence)
{
	if (fence->error)
		atomic_cmpxchg(&job->error, 0, fence->error);
	if (atomic_dec_and_test(&job->pending))
		queue_work(job->engine->wq, &job->engine->work);
}

static void job_dep_cb(struct dma_fence *fence, struct dma_fence_cb *cb)
{
	struct dgmm_job_dep *dep = container_of(cb, struct dgmm_job_dep, cb);

	job_dep_signalled(dep->job, fence);
}

/* Hooks the job to every fence of @resv; the caller's bias on pending stays. */
static int job_add_deps(struct dgmm_engine_job *job, struct dma_resv *resv)
{
	struct dma_resv_iter cursor;
	struct dma_fence *fence;
	unsigned int n = 0;

	dma_resv_assert_held(resv);
	dma_resv_for_each_fence(&cursor, resv, DMA_RESV_USAGE_BOOKKEEP, fence)
		n++;
	if (!n)
		return 0;

	job->deps = kcalloc(n, sizeof(*job->deps), GFP_KERNEL);
	if (!job->deps)
		return -ENOMEM;

	dma_resv_for_each_fence(&cursor, resv, DMA_RESV_USAGE_BOOKKEEP, fence) {
		struct dgmm_job_dep *dep = &job->deps[job->num_deps++];

		dep->fence = dma_fence_get(fence);
		dep->job = job;
		atomic_inc(&job->pending);
		if (dma_fence_add_callback(fence, &dep->cb, job_dep_cb))
			job_dep_signalled(job, fence);
	}
	return 0;
}

static struct dma_fence *engine_submit(struct dgmm_engine *e,
				       struct dgmm_engine_job *job,
				       struct dma_resv *deps)
{
	unsigned long flags;
	int err;

	job->engine = e;
	INIT_LIST_HEAD(&job->link);
	/* The bias keeps the job from becoming ready before it is queued. */
	atomic_set(&job->pending, 1);

	if (!mem_valid(e, &job->dst, job->size) ||
	    (job->op == DGMM_JOB_COPY && !mem_valid(e, &job->src, job->size))) {
		err = -EINVAL;
		goto err_free;
	}
	err = job_add_deps(job, deps);
	if (err)
		goto err_free;

	spin_lock_irqsave(&e->lock, flags);
	dma_fence_init(&job->fence, &dgmm_job_fence_ops, &e->lock, e->context, ++e->seqno);
	list_add_tail(&job->link, &e->queue);
	dma_fence_get(&job->fence);
	spin_unlock_irqrestore(&e->lock, flags);

	if (atomic_dec_and_test(&job->pending))
		queue_work(e->wq, &e->work);
	return &job->fence;

err_free:
	/* No callback can be pending: either none was added or n == 0. */
	job_free_ranges(job);
	kfree(job->deps);
	kfree(job);
	return ERR_PTR(err);
}

static struct dgmm_engine_job *job_alloc(enum dgmm_job_op op, u64 size,
					 struct dgmm_mem *src, struct dgmm_mem *dst)
{
	struct dgmm_engine_job *job;

	BUILD_BUG_ON(offsetof(struct dgmm_engine_job, fence) != 0);
	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job) {
		if (src)
			dgmm_mem_release(src);
		dgmm_mem_release(dst);
		return NULL;
	}
	job->op = op;
	job->size = size;
	job->dst = *dst;
	if (src)
		job->src = *src;
	else
		job->src.kind = DGMM_MEM_PAGES;	/* nothing to free */
	return job;
}

static struct dma_fence *dgmm_engine_copy(struct dgmm_copy_engine *base,
					  struct dgmm_mem *src, struct dgmm_mem *dst,
					  u64 size, struct dma_resv *deps)
{
	struct dgmm_engine_job *job = job_alloc(DGMM_JOB_COPY, size, src, dst);

	if (!job)
		return ERR_PTR(-ENOMEM);
	return engine_submit(to_dgmm_engine(base), job, deps);
}

static struct dma_fence *dgmm_engine_fill(struct dgmm_copy_engine *base,
					  struct dgmm_mem *dst, u64 size, u8 value,
					  struct dma_resv *deps)
{
	struct dgmm_engine_job *job = job_alloc(DGMM_JOB_FILL, size, NULL, dst);

	if (!job)
		return ERR_PTR(-ENOMEM);
	job->value = value;
	return engine_submit(to_dgmm_engine(base), job, deps);
}

static const struct dgmm_copy_engine_funcs dgmm_engine_funcs = {
	.copy = dgmm_engine_copy,
	.fill = dgmm_engine_fill,
};

/**
 * dgmm_engine_init - start a device's copy engine
 * @engine: the engine
 * @vram: the kernel's mapping of all of VRAM
 * @vram_size: its size
 *
 * Return: 0 or -ENOMEM.
 */
int dgmm_engine_init(struct dgmm_engine *engine, void __iomem *vram, u64 vram_size)
{
	engine->base.funcs = &dgmm_engine_funcs;
	engine->vram = vram;
	engine->vram_size = vram_size;
	spin_lock_init(&engine->lock);
	INIT_LIST_HEAD(&engine->queue);
	INIT_WORK(&engine->work, dgmm_engine_work);
	engine->context = dma_fence_context_alloc(1);
	engine->seqno = 0;
	engine->dead = false;

	engine->bounce = kmalloc(DGMM_ENGINE_BOUNCE_SIZE, GFP_KERNEL);
	if (!engine->bounce)
		return -ENOMEM;
	engine->wq = alloc_ordered_workqueue("dgmm-engine", WQ_MEM_RECLAIM);
	if (!engine->wq) {
		kfree(engine->bounce);
		return -ENOMEM;
	}
	return 0;
}

/**
 * dgmm_engine_unplug - the device is gone: stop touching its memory
 * @engine: the engine
 *
 * Jobs that have not run yet, and jobs submitted from now on, complete with
 * -ENODEV without touching memory. Returns once no job is running, so the
 * VRAM mapping may be torn down after it.
 */
void dgmm_engine_unplug(struct dgmm_engine *engine)
{
	spin_lock_irq(&engine->lock);
	engine->dead = true;
	spin_unlock_irq(&engine->lock);
	flush_workqueue(engine->wq);
}

/**
 * dgmm_engine_fini - stop the engine for good
 * @engine: the engine, unplugged or never used since the last job signalled
 *
 * Jobs still waiting for a dependency (one that may never signal, from
 * another device) are completed with -ENODEV.
 */
void dgmm_engine_fini(struct dgmm_engine *engine)
{
	struct dgmm_engine_job *job, *next;
	LIST_HEAD(stuck);
	unsigned int i;

	dgmm_engine_unplug(engine);

	spin_lock_irq(&engine->lock);
	list_splice_init(&engine->queue, &stuck);
	spin_unlock_irq(&engine->lock);

	list_for_each_entry_safe(job, next, &stuck, link) {
		list_del_init(&job->link);
		for (i = 0; i < job->num_deps; i++)
			dma_fence_remove_callback(job->deps[i].fence, &job->deps[i].cb);
		job_complete(job, -ENODEV);
	}

	destroy_workqueue(engine->wq);
	kfree(engine->bounce);
}
