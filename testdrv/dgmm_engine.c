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
 * - A dependency that signalled with an error does not stop a job: every job
 *   is the kernel's (a move or a clear), and a move must not be skipped
 *   because of a fence a user put in the BO's reservation object, or the BO
 *   would show memory nobody wrote. After unplug jobs signal -ENODEV, and a
 *   copy or fill into system pages zeroes them instead: a BO never shows
 *   what its pages held before (VRAM is gone then).
 * - The engine reaches VRAM through its own mappings of the BAR and system
 *   pages through kmap (as a device would through their DMA addresses).
 * - engine_mbps and engine_latency_us throttle it to behave like a PCIe DMA
 *   engine rather than like a memcpy. A throttled job writes its
 *   destination only at the end of its time, so that a reader who does not
 *   wait for the job's fence sees stale data.
 *
 * Copying at memory speed under emulation. The engine is the CPU, and QEMU's
 * TCG, which runs it here, has two costs a real machine does not:
 *
 * - String instructions are slow: rep movsb/movsl, which memcpy_toio(),
 *   memset_io() and the kernel's memcpy() use on this CPU model, move 190 to
 *   650 MiB/s where plain 64-bit loads and stores move 4 to 5 GiB/s. The
 *   engine copies and fills with 64-bit moves, eight at a time.
 * - Its TLB is direct-mapped, indexed by the low bits of the virtual page
 *   number. When source and destination page numbers agree in those bits,
 *   every load evicts the store's entry and every store the load's: a copy
 *   then runs at a tenth of its speed. Buddy-allocated VRAM and the
 *   page pool's high-order pages are both naturally aligned, so without care
 *   whole copies collide. The engine maps VRAM twice, the second view one
 *   page off the first, and reaches each chunk through the view whose page
 *   number differs from the other side's in the lowest bit: two pages whose
 *   numbers differ by an odd amount never share a slot of a power-of-two TLB.
 */

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/seq_file.h>
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
	ktime_t start;
	atomic_t pending;
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

/* The byte at the cursor through VRAM view @view (see the top of the file). */
static void *cursor_vram(struct dgmm_engine *e, const struct dgmm_mem_cursor *c,
			 unsigned int view)
{
	u64 offset = c->mem->ranges[c->idx].offset + c->off;

	if (view && offset >= PAGE_SIZE && e->vram_shifted)
		return (void __force *)e->vram_shifted + offset - PAGE_SIZE;
	return (void __force *)e->vram + offset;
}

/* Virtual page number parity of an address the engine uses. */
static unsigned int vpn_parity(const void *p)
{
	return ((unsigned long)p >> PAGE_SHIFT) & 1;
}

/*
 * VRAM at the cursor through the view whose page parity differs from
 * @other's. In VRAM's first page, which only the first view maps, the two
 * may still agree.
 */
static void *cursor_vram_apart(struct dgmm_engine *e, const struct dgmm_mem_cursor *c,
			       const void *other)
{
	void *p = cursor_vram(e, c, 0);

	if (vpn_parity(p) == vpn_parity(other))
		p = cursor_vram(e, c, 1);
	return p;
}

/*
 * @n bytes from @src to @dst with 64-bit moves, eight loads before eight
 * stores. READ_ONCE() and WRITE_ONCE() keep the compiler from turning the
 * loop back into a call to memcpy(). Either side may be VRAM, write-combined
 * or not; x86 allows unaligned accesses to both.
 */
static void copy_words(void *dst, const void *src, size_t n)
{
	u64 *d = dst;
	const u64 *s = src;
	u8 *db;
	const u8 *sb;

	for (; n >= 64; n -= 64, d += 8, s += 8) {
		u64 a = READ_ONCE(s[0]), b = READ_ONCE(s[1]);
		u64 c = READ_ONCE(s[2]), e = READ_ONCE(s[3]);
		u64 f = READ_ONCE(s[4]), g = READ_ONCE(s[5]);
		u64 h = READ_ONCE(s[6]), i = READ_ONCE(s[7]);

		WRITE_ONCE(d[0], a);
		WRITE_ONCE(d[1], b);
		WRITE_ONCE(d[2], c);
		WRITE_ONCE(d[3], e);
		WRITE_ONCE(d[4], f);
		WRITE_ONCE(d[5], g);
		WRITE_ONCE(d[6], h);
		WRITE_ONCE(d[7], i);
	}
	for (; n >= 8; n -= 8)
		WRITE_ONCE(*d++, READ_ONCE(*s++));
	for (db = (u8 *)d, sb = (const u8 *)s; n; n--)
		WRITE_ONCE(*db++, READ_ONCE(*sb++));
}

/* @n bytes of @dst set to @value, likewise with 64-bit stores. */
static void fill_words(void *dst, u8 value, size_t n)
{
	u64 v = 0x0101010101010101ULL * value;
	u64 *d = dst;
	u8 *db;

	for (; n >= 64; n -= 64, d += 8) {
		WRITE_ONCE(d[0], v);
		WRITE_ONCE(d[1], v);
		WRITE_ONCE(d[2], v);
		WRITE_ONCE(d[3], v);
		WRITE_ONCE(d[4], v);
		WRITE_ONCE(d[5], v);
		WRITE_ONCE(d[6], v);
		WRITE_ONCE(d[7], v);
	}
	for (; n >= 8; n -= 8)
		WRITE_ONCE(*d++, v);
	for (db = (u8 *)d; n; n--)
		WRITE_ONCE(*db++, value);
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
		void *s, *d;

		/* A page is mapped first, and VRAM seen through the view that suits it. */
		if (src_io && dst_io) {
			s = cursor_vram(e, &src, 0);
			d = cursor_vram_apart(e, &dst, s);
		} else if (src_io) {
			d = kmap_local_page(job->dst.pages[dst.idx]) + dst.off;
			s = cursor_vram_apart(e, &src, d);
		} else if (dst_io) {
			s = kmap_local_page(job->src.pages[src.idx]) + src.off;
			d = cursor_vram_apart(e, &dst, s);
		} else {
			s = kmap_local_page(job->src.pages[src.idx]) + src.off;
			d = kmap_local_page(job->dst.pages[dst.idx]) + dst.off;
		}

		/* Within a page or a block the parity of both sides stays the same. */
		if ((src_io || dst_io) && vpn_parity(s) == vpn_parity(d))
			atomic64_inc(&e->stats.parity_conflicts);
		copy_words(d, s, n);

		/* Unmap in the reverse order of mapping. */
		if (!src_io && !dst_io) {
			kunmap_local(d);
			kunmap_local(s);
		} else if (!dst_io) {
			kunmap_local(d);
		} else if (!src_io) {
			kunmap_local(s);
		}
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
			fill_words(cursor_vram(e, &dst, 0), job->value, n);
		} else {
			void *d = kmap_local_page(job->dst.pages[dst.idx]) + dst.off;

			fill_words(d, job->value, n);
			kunmap_local(d);
		}
		cursor_advance(&dst, n);
		left -= n;
	}
}

/*
 * Makes the job last as long as the throttled engine would take, before it
 * writes anything: its destination changes only at the end of the job's
 * time, as on a device whose transfer lands just before its fence signals.
 * Whoever reads the destination without waiting for the fence then sees the
 * old contents, so a missing wait shows up in tests.
 */
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

/*
 * Signals the job's fence with @err (0 for success) and drops the queue's
 * reference. A job that ran counts its time from its start to its fence's
 * signal timestamp.
 */
static void job_complete(struct dgmm_engine_job *job, int err)
{
	struct dgmm_engine *e = job->engine;

	if (err)
		dma_fence_set_error(&job->fence, err);
	dma_fence_signal(&job->fence);
	if (job->start) {
		atomic64_inc(&e->stats.jobs);
		if (!err)
			atomic64_add(job->size, &e->stats.bytes);
		atomic64_add(ktime_to_ns(ktime_sub(job->fence.timestamp, job->start)),
			     &e->stats.busy_ns);
	}
	job_release_deps(job);
	job_free_ranges(job);
	dma_fence_put(&job->fence);
}

/* The device is gone: pages the job was to write are zeroed instead. */
static void job_zero_pages(struct dgmm_engine *e, struct dgmm_engine_job *job)
{
	if (job->dst.kind != DGMM_MEM_PAGES)
		return;
	job->op = DGMM_JOB_FILL;
	job->value = 0;
	do_fill(e, job);
}

static void job_run(struct dgmm_engine *e, struct dgmm_engine_job *job, bool dead)
{
	job->start = ktime_get();
	if (dead) {
		job_zero_pages(e, job);
		job_complete(job, -ENODEV);
		return;
	}
	throttle(job->size, job->start);
	if (job->op == DGMM_JOB_COPY)
		do_copy(e, job);
	else
		do_fill(e, job);
	job_complete(job, 0);
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

static void job_dep_signalled(struct dgmm_engine_job *job)
{
	if (atomic_dec_and_test(&job->pending))
		queue_work(job->engine->wq, &job->engine->work);
}

static void job_dep_cb(struct dma_fence *fence, struct dma_fence_cb *cb)
{
	struct dgmm_job_dep *dep = container_of(cb, struct dgmm_job_dep, cb);

	job_dep_signalled(dep->job);
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
			job_dep_signalled(job);
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
 * @dev: the device, which owns the engine's mapping of VRAM
 * @vram_start: bus address of VRAM
 * @vram: the kernel's mapping of all of VRAM
 * @vram_size: its size
 *
 * Return: 0 or -ENOMEM.
 */
int dgmm_engine_init(struct dgmm_engine *engine, struct device *dev,
		     resource_size_t vram_start, void __iomem *vram, u64 vram_size)
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
	atomic64_set(&engine->stats.jobs, 0);
	atomic64_set(&engine->stats.bytes, 0);
	atomic64_set(&engine->stats.busy_ns, 0);
	atomic64_set(&engine->stats.parity_conflicts, 0);

	/*
	 * The second view (see the top of the file). It goes with the device,
	 * after remove() has unplugged the engine. Without it copies are right,
	 * and some are slow.
	 */
	engine->vram_shifted = NULL;
	if (vram_size > PAGE_SIZE)
		engine->vram_shifted = devm_ioremap_wc(dev, vram_start + PAGE_SIZE,
						       vram_size - PAGE_SIZE);
	if (engine->vram_shifted &&
	    vpn_parity((void __force *)engine->vram_shifted - PAGE_SIZE) ==
	    vpn_parity((void __force *)vram))
		dev_info(dev, "the copy engine's VRAM views share page parity\n");

	engine->wq = alloc_ordered_workqueue("dgmm-engine", WQ_MEM_RECLAIM);
	if (!engine->wq)
		return -ENOMEM;
	return 0;
}

static int engine_show(struct seq_file *m, void *unused)
{
	struct dgmm_engine *e = m->private;

	seq_printf(m, "jobs: %lld\nbytes: %lld\nbusy_ns: %lld\nparity_conflicts: %lld\n",
		   (s64)atomic64_read(&e->stats.jobs),
		   (s64)atomic64_read(&e->stats.bytes),
		   (s64)atomic64_read(&e->stats.busy_ns),
		   (s64)atomic64_read(&e->stats.parity_conflicts));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(engine);

/**
 * dgmm_engine_debugfs_init - the engine's counters in debugfs
 * @engine: the engine
 * @root: the directory
 *
 * The file "engine": jobs run since the engine started, bytes they copied or
 * filled, busy_ns, the time from each job's start to its fence's signal
 * timestamp, summed, and parity_conflicts, chunks copied between VRAM and
 * another side of the same page parity (see the top of the file). A
 * benchmark reads busy_ns before and after a move to tell the engine's own
 * time from what the rest of the move costs.
 */
void dgmm_engine_debugfs_init(struct dgmm_engine *engine, struct dentry *root)
{
	debugfs_create_file("engine", 0444, root, engine, &engine_fops);
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
 * another device) are completed with -ENODEV, their system pages zeroed.
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
		job_zero_pages(engine, job);
		job_complete(job, -ENODEV);
	}

	destroy_workqueue(engine->wq);
}
