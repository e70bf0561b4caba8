// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The simulated copy engine of a dgmm device, behind the DRM GPU scheduler.
 *
 * A real discrete device has DMA engines that copy and fill memory while the
 * CPU goes on; this one does the same work with the CPU, so that moves are
 * asynchronous and fenced exactly as they would be on hardware. It is split
 * as a driver for real hardware would be:
 *
 * - drm_sched (@sched) takes jobs from entities, waits for their
 *   dependencies, hands ready jobs to the hardware through run_job and
 *   watches each for a timeout. The kernel's moves and clears go through one
 *   entity at kernel priority, so their fences signal in order.
 * - The "hardware" is an ordered workqueue (@hw_wq): run_job appends the job
 *   to @hw_queue and returns its hardware fence; the worker runs the jobs in
 *   that order and signals their fences. A throttled or hung job waits on
 *   @hw_wait, where a reset or the unplug can end it.
 * - Dependencies: every fence of the BO's reservation object. Fences of this
 *   scheduler, and of any other dgmm engine (a shared BO's peer moves and
 *   jobs, each bounded by its own job timeout), are left to drm_sched. Any
 *   other fence (another driver's, or one a user put into the BO through
 *   its dma-buf) is waited for with a time limit, the job timeout: a fence
 *   that never signals breaks the dma-fence rules, and must not stop every
 *   move of the device behind it. The job then runs without it, and the
 *   engine counts and logs it.
 * - A dependency that signalled with an error does not stop a job: every job
 *   is the kernel's (a move or a clear), and a move must not be skipped
 *   because of a fence a user put in the BO's reservation object, or the BO
 *   would show memory nobody wrote.
 * - Timeouts: a job still running after the job timeout is taken off the
 *   engine (a reset). A kernel job is then finished by the CPU, so that its
 *   BO still gets its data; the device goes on with the next job.
 * - Unplug: jobs that have not started complete with -ENODEV, and a copy or
 *   fill into system pages zeroes them instead: a BO never shows what its
 *   pages held before (VRAM is gone then). A throttled or hung job that is
 *   running ends the same way.
 * - Addresses. The engine reaches its own VRAM by offset, through its own
 *   mappings of the BAR. Everything else (GTT pages, an imported dma-buf)
 *   it reaches only through the bus addresses the DMA API gave for the
 *   device, page by page, translated at the moment of access as the
 *   device's IOMMU would: through the device's IOMMU domain when it has a
 *   translating one, as dma-direct's identity (dma_to_phys()) otherwise.
 *   A physical address in RAM is RAM; one in another dgmm device's VRAM
 *   BAR is that peer's VRAM (peer-to-peer, dgmm_bars). An address that
 *   translates to nothing, or to neither, fails the job with -EFAULT
 *   (a DMA fault, counted and logged),
 *   so that a missing or stale DMA mapping fails a test instead of
 *   silently working. It never looks at a struct page it was handed.
 * - engine_mbps and engine_latency_us throttle it to behave like a PCIe DMA
 *   engine rather than like a memcpy. A throttled job writes its
 *   destination only at the end of its time, so that a reader who does not
 *   wait for the job's fence sees stale data. The fault injection attribute
 *   "dgmm_engine_hang" in debugfs (with CONFIG_FAULT_INJECTION_DEBUG_FS)
 *   makes jobs hang until the timeout resets them.
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
#include <linux/dma-direct.h>
#include <linux/dma-fence.h>
#include <linux/dma-fence-unwrap.h>
#include <linux/dma-resv.h>
#include <linux/fault-inject.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <kunit/visibility.h>
#include <drm/drm_gem.h>

#include "trace/dgmm_trace.h"
#include "dgmm_engine.h"

static unsigned int engine_mbps;
module_param(engine_mbps, uint, 0644);
MODULE_PARM_DESC(engine_mbps,
		 "Bandwidth of the simulated copy engine in MiB/s (default 0: as fast as the CPU)");

static unsigned int engine_latency_us;
module_param(engine_latency_us, uint, 0644);
MODULE_PARM_DESC(engine_latency_us,
		 "Time the simulated copy engine takes to start each job, in us (default 0)");

static unsigned int job_timeout_ms = 10000;
module_param(job_timeout_ms, uint, 0444);
MODULE_PARM_DESC(job_timeout_ms,
		 "How long a copy engine job may run, and a foreign dependency may stay unsignalled, in ms (default 10000, at least 100)");

#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
static DECLARE_FAULT_ATTR(engine_hang);
#endif

/* Should this job hang until it is reset? */
static bool inject_hang(void)
{
#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
	return should_fail(&engine_hang, 1);
#else
	return false;
#endif
}

/*
 * Where fences live on after the device and the module.
 *
 * A job's finished fence (drm_sched's) may be held anywhere: in a sync_file
 * a user exported from a shared BO's dma-buf, or by another driver's
 * importer. Until it is released it names its timeline through its
 * scheduler (sched->name), and it holds the job's hardware fence (its
 * "parent"), whose ops are in this module. In 6.12 a sync_file asks a fence
 * for those names even after it has signalled. So:
 *
 * - The scheduler and its name live in a dgmm_sched_home of their own, apart
 *   from the device. The engine holds one reference and every hardware fence
 *   one more, so the home outlives the device for as long as any fence that
 *   names it is held: every finished fence holds a hardware fence, a job the
 *   scheduler killed before it ran included (dgmm_engine_free_job() gives it
 *   one).
 * - A home the device left behind holds a reference on the module: rmmod
 *   says the module is in use while such a fence is held. Unloading with a
 *   device still bound (rmmod unbinds it) cannot be refused at that point,
 *   so dgmm_engine_wait_homes() makes module exit wait until the last such
 *   fence is released, and says what it waits for.
 * - Homes and hardware fences are freed after an RCU grace period, a home
 *   by a callback of the module that drops its module reference last; the
 *   rcu_barrier() at the end of dgmm_engine_wait_homes() lets callbacks in
 *   flight finish before the module goes.
 */
struct dgmm_sched_home {
	struct drm_gpu_scheduler sched;
	char name[16];
	struct kref ref;
	bool holds_module;
	struct rcu_head rcu;
};

static atomic_t dgmm_sched_homes = ATOMIC_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(dgmm_sched_homes_wait);

static void sched_home_free_rcu(struct rcu_head *rcu)
{
	struct dgmm_sched_home *home = container_of(rcu, struct dgmm_sched_home, rcu);
	bool holds_module = home->holds_module;

	kfree(home);
	if (atomic_dec_and_test(&dgmm_sched_homes))
		wake_up_all(&dgmm_sched_homes_wait);
	if (holds_module)
		module_put(THIS_MODULE);	/* last: nothing of ours runs after it */
}

static void sched_home_release(struct kref *ref)
{
	struct dgmm_sched_home *home = container_of(ref, struct dgmm_sched_home, ref);

	call_rcu(&home->rcu, sched_home_free_rcu);
}

static struct dgmm_sched_home *sched_home_alloc(const char *name)
{
	struct dgmm_sched_home *home = kzalloc(sizeof(*home), GFP_KERNEL);

	if (!home)
		return NULL;
	strscpy(home->name, name, sizeof(home->name));
	kref_init(&home->ref);
	atomic_inc(&dgmm_sched_homes);
	return home;
}

/* The engine lets go of its scheduler's home; fences may keep it. */
static void sched_home_leave(struct dgmm_sched_home *home)
{
	/*
	 * Fences still hold it: keep the module while they do. If the module
	 * is already going (rmmod with the device bound), its exit waits.
	 */
	if (kref_read(&home->ref) > 1)
		home->holds_module = try_module_get(THIS_MODULE);
	kref_put(&home->ref, sched_home_release);
}

/**
 * dgmm_engine_wait_homes - wait until no fence of an engine is held
 *
 * Called by module exit, after every device is gone: returns once every
 * hardware fence and scheduler home is freed, so that no fence handed out
 * points into the module.
 */
void dgmm_engine_wait_homes(void)
{
	while (!wait_event_timeout(dgmm_sched_homes_wait, !atomic_read(&dgmm_sched_homes),
				   10 * HZ))
		pr_info("dgmm: unloading waits for fences held outside the driver (%d timelines)\n",
			atomic_read(&dgmm_sched_homes));
	/* The last callbacks have run; this lets their tails finish too. */
	rcu_barrier();
}

/* The fence the hardware signals when it is done with a job. */
struct dgmm_hw_fence {
	struct dma_fence base;
	spinlock_t lock; /* the fence's own: it may outlive the engine */
	struct dgmm_sched_home *home;
};

/**
 * struct dgmm_engine_job - a job: one copy or fill of the kernel's, or the
 * operations of a user's submit
 * @base: the scheduler's job; its finished fence is the one handed out
 * @engine: the engine
 * @link: entry in the engine's @hw_queue
 * @ops: the operations, run in order
 * @num_ops: how many
 * @bytes: bytes its operations copy or fill, summed when it is pushed
 * @op0: the one operation of a kernel job (@ops points to it)
 * @user: a user's job: on a reset it fails with -ETIMEDOUT (the kernel's
 *	  are finished by the CPU), and after unplug its pages are left alone
 * @objs: GEM objects the job holds a reference on until it is freed
 * @num_objs: how many
 * @hw: the hardware fence, allocated with the job: run_job may not allocate
 * @start: when the hardware started it
 * @hang: injected fault: the job does not finish until it is reset
 * @reset: the timeout handler took the job off the engine
 * @dep_timed_out: a foreign dependency did not signal in time; a user's job
 *		   then fails instead of running without it
 * @dep_waits: its foreign dependency waits (under the engine's lock), which
 *	       point back at it until it is freed
 */
struct dgmm_engine_job {
	struct drm_sched_job base;
	struct dgmm_engine *engine;
	struct list_head link;
	struct dgmm_engine_op *ops;
	unsigned int num_ops;
	u64 bytes;
	struct dgmm_engine_op op0;
	bool user;
	struct drm_gem_object **objs;
	unsigned int num_objs;
	struct dgmm_hw_fence *hw;
	ktime_t start;
	bool hang;
	bool reset;
	bool dep_timed_out;
	struct list_head dep_waits;
};

static struct dgmm_engine *to_dgmm_engine(struct dgmm_copy_engine *base)
{
	return container_of(base, struct dgmm_engine, base);
}

static struct dgmm_engine_job *to_job(struct drm_sched_job *job)
{
	return container_of(job, struct dgmm_engine_job, base);
}

static const char *dgmm_engine_driver_name(struct dma_fence *fence)
{
	return "dgmm";
}

static const char *dgmm_hw_timeline_name(struct dma_fence *fence)
{
	return "copy-engine";
}

static void dgmm_hw_fence_release(struct dma_fence *fence)
{
	struct dgmm_hw_fence *hw = container_of(fence, struct dgmm_hw_fence, base);

	/*
	 * The home goes after a grace period of its own, so RCU readers of
	 * this fence still find its name. Dropped now, not with the fence's
	 * memory: a device torn down right after its last fence went must
	 * not find its home still held.
	 */
	kref_put(&hw->home->ref, sched_home_release);
	/* As dma_fence_free(), and no code of ours runs after it. */
	kfree_rcu(hw, base.rcu);
}

static const struct dma_fence_ops dgmm_hw_fence_ops = {
	.get_driver_name = dgmm_engine_driver_name,
	.get_timeline_name = dgmm_hw_timeline_name,
	.release = dgmm_hw_fence_release,
};

/* The hardware fence of @job, holding the home. */
static void hw_fence_init(struct dgmm_engine *e, struct dgmm_engine_job *job,
			  u64 context, u64 seqno)
{
	kref_get(&e->home->ref);
	job->hw->home = e->home;
	dma_fence_init(&job->hw->base, &dgmm_hw_fence_ops, &job->hw->lock, context, seqno);
}

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
	return PAGE_SIZE - c->off;	/* DMA: page by page, as the IOMMU maps them */
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
 * Every engine's VRAM by bus address, so that a peer's DMA to that BAR
 * lands in it (peer-to-peer, with the address an exporter mapped through
 * dma_map_resource()). RCU: a device going away leaves the list and waits
 * for the accesses in flight before its BAR mapping goes.
 */
static LIST_HEAD(dgmm_bars);
static DEFINE_SPINLOCK(dgmm_bars_lock);

/* Where one side of a chunk landed for the CPU that plays the engine. */
struct dgmm_reach {
	void *va;
	bool kmapped;
};

/* A peer's VRAM at physical (bus) address @phys; under rcu_read_lock(). */
static void *peer_vram(phys_addr_t phys)
{
	struct dgmm_engine *peer;

	list_for_each_entry_rcu(peer, &dgmm_bars, bar_link)
		if (phys >= peer->vram_start && phys - peer->vram_start < peer->vram_size &&
		    !READ_ONCE(peer->dead))
			return (void __force *)peer->vram + (phys - peer->vram_start);
	return NULL;
}

/*
 * The device's access to bus address @addr: translated as its IOMMU would
 * (see the top of the file) and mapped for the CPU. A fault is counted and
 * logged, and the access does not happen.
 */
static int dma_reach(struct dgmm_engine *e, dma_addr_t addr, struct dgmm_reach *r)
{
	phys_addr_t phys;
	unsigned long pfn;

	RCU_LOCKDEP_WARN(!rcu_read_lock_held(), "a peer's BAR is reached under RCU");
	r->va = NULL;
	r->kmapped = false;
	if (e->iommu) {
		phys = iommu_iova_to_phys(e->iommu, addr);
		if (!phys)
			goto fault;	/* nothing mapped there */
	} else {
		phys = dma_to_phys(e->dev, addr);
	}
	pfn = PHYS_PFN(phys);
	if (pfn_valid(pfn) && !is_zone_device_page(pfn_to_page(pfn))) {
		r->va = kmap_local_pfn(pfn) + offset_in_page(phys);
		r->kmapped = true;
		return 0;
	}
	/* Not RAM: a peer's BAR, or nothing. */
	r->va = peer_vram(phys);
	if (r->va)
		return 0;

fault:
	atomic64_inc(&e->stats.dma_faults);
	dev_err_ratelimited(e->dev, "copy engine: DMA fault at %pad\n", &addr);
	return -EFAULT;
}

/*
 * Reaches the chunk at cursor @c: VRAM through the view whose page parity
 * differs from @other's (any view if @other is NULL), or the DMA address.
 */
static int cursor_reach(struct dgmm_engine *e, const struct dgmm_mem_cursor *c,
			const void *other, struct dgmm_reach *r)
{
	if (c->mem->kind == DGMM_MEM_DMA)
		return dma_reach(e, c->mem->addrs[c->idx] + c->off, r);
	r->va = other ? cursor_vram_apart(e, c, other) : cursor_vram(e, c, 0);
	r->kmapped = false;
	return 0;
}

static void reach_end(struct dgmm_reach *r)
{
	if (r->kmapped)
		kunmap_local(r->va);
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

/*
 * Every VRAM range must lie inside VRAM, every DMA address be page-aligned,
 * and the store must hold @size bytes. Whether a DMA address leads anywhere
 * is the IOMMU's to say, when the job runs.
 */
static bool mem_valid(struct dgmm_engine *e, const struct dgmm_mem *mem, u64 size)
{
	u64 total = 0;
	unsigned int i;

	if (mem->kind == DGMM_MEM_DMA) {
		if (!mem->addrs)
			return false;
		for (i = 0; i < mem->count; i++)
			if (!PAGE_ALIGNED(mem->addrs[i]))
				return false;
		return (u64)mem->count * PAGE_SIZE >= size;
	}
	for (i = 0; i < mem->count; i++) {
		const struct dgmm_mem_range *r = &mem->ranges[i];

		if (!r->size || r->offset > e->vram_size || r->size > e->vram_size - r->offset)
			return false;
		total += r->size;
	}
	return total >= size;
}

/* At most this much is copied or filled between two checks for a reset. */
#define DGMM_CHUNK SZ_1M

/*
 * Whether to stop between chunks: a user's job that was reset, or any job
 * once the device is gone. A kernel job goes on after a reset (the CPU
 * finishes it). Long jobs also give the CPU away here.
 */
static bool chunk_stop(struct dgmm_engine *e, struct dgmm_engine_job *job)
{
	cond_resched();
	if (!job)	/* zeroing system pages: always to the end */
		return false;
	return READ_ONCE(e->dead) || (job->user && READ_ONCE(job->reset));
}

/*
 * Returns 0, -EAGAIN if the job was stopped between two chunks, or -EFAULT
 * on a DMA fault.
 */
static int do_copy(struct dgmm_engine *e, struct dgmm_engine_op *op,
		   struct dgmm_engine_job *job)
{
	struct dgmm_mem_cursor src = { .mem = &op->src }, dst = { .mem = &op->dst };
	/* A DMA side is reached first, and VRAM through the view that suits it. */
	bool dst_first = op->dst.kind == DGMM_MEM_DMA && op->src.kind == DGMM_MEM_VRAM;
	struct dgmm_mem_cursor *c1 = dst_first ? &dst : &src, *c2 = dst_first ? &src : &dst;
	u64 left = op->size;

	while (left) {
		u64 n = min3(left, cursor_left(&src), cursor_left(&dst));
		struct dgmm_reach r1, r2;
		void *s, *d;
		int err;

		n = min_t(u64, n, DGMM_CHUNK);
		if (chunk_stop(e, job))
			return -EAGAIN;
		/* A peer's BAR stays while a chunk is copied (see dgmm_bars). */
		rcu_read_lock();
		err = cursor_reach(e, c1, NULL, &r1);
		if (err) {
			rcu_read_unlock();
			return err;
		}
		err = cursor_reach(e, c2, r1.va, &r2);
		if (err) {
			reach_end(&r1);
			rcu_read_unlock();
			return err;
		}
		s = dst_first ? r2.va : r1.va;
		d = dst_first ? r1.va : r2.va;

		/* Within a page or a block the parity of both sides stays the same. */
		if ((!r1.kmapped || !r2.kmapped) && vpn_parity(s) == vpn_parity(d))
			atomic64_inc(&e->stats.parity_conflicts);
		copy_words(d, s, n);

		reach_end(&r2);	/* the reverse order of mapping */
		reach_end(&r1);
		rcu_read_unlock();
		cursor_advance(&src, n);
		cursor_advance(&dst, n);
		left -= n;
	}
	return 0;
}

static int do_fill(struct dgmm_engine *e, struct dgmm_engine_op *op,
		   struct dgmm_engine_job *job)
{
	struct dgmm_mem_cursor dst = { .mem = &op->dst };
	u64 left = op->size;

	while (left) {
		u64 n = min_t(u64, min(left, cursor_left(&dst)), DGMM_CHUNK);

		struct dgmm_reach r;
		int err;

		if (chunk_stop(e, job))
			return -EAGAIN;
		rcu_read_lock();
		err = cursor_reach(e, &dst, NULL, &r);
		if (!err) {
			fill_words(r.va, op->value, n);
			reach_end(&r);
		}
		rcu_read_unlock();
		if (err)
			return err;
		cursor_advance(&dst, n);
		left -= n;
	}
	return 0;
}

/*
 * How long the throttled engine takes for @bytes, and waits for before it
 * writes anything: its destination changes only at the end of the job's
 * time, as on a device whose transfer lands just before its fence signals.
 * Whoever reads the destination without waiting for the fence then sees
 * the old contents, so a missing wait shows up in tests.
 */
static long throttle_jiffies(u64 bytes)
{
	unsigned int mbps = READ_ONCE(engine_mbps);
	u64 ns = (u64)READ_ONCE(engine_latency_us) * NSEC_PER_USEC;

	if (mbps)
		ns += div_u64(bytes * NSEC_PER_SEC, (u64)mbps << 20);
	return ns ? max_t(long, nsecs_to_jiffies(ns), 1) : 0;
}

/* The job's time on the engine is up, or it was reset or the device went. */
static bool job_may_end(struct dgmm_engine *e, struct dgmm_engine_job *job)
{
	return READ_ONCE(job->reset) || READ_ONCE(e->dead);
}

/*
 * The device is gone: pages a kernel job was to write are zeroed instead,
 * so that no BO shows what they held before. A user's job leaves the
 * user's own pages alone.
 */
static void job_zero_pages(struct dgmm_engine *e, struct dgmm_engine_job *job)
{
	unsigned int i;

	if (job->user)
		return;
	for (i = 0; i < job->num_ops; i++) {
		struct dgmm_engine_op *op = &job->ops[i];

		if (op->dst.kind != DGMM_MEM_DMA)
			continue;
		op->op = DGMM_OP_FILL;
		op->value = 0;
		do_fill(e, op, NULL);
	}
}

static u64 job_bytes(struct dgmm_engine_job *job)
{
	u64 bytes = 0;
	unsigned int i;

	for (i = 0; i < job->num_ops; i++)
		bytes += job->ops[i].size;
	return bytes;
}

/*
 * Runs one job on the "hardware" and signals its fence: waits out the
 * throttle (or, if hung, for a reset), then writes. A kernel job that was
 * reset is finished all the same (by the CPU: the engine is the CPU here),
 * a user's fails with -ETIMEDOUT; after unplug a job writes nothing but
 * zeroes into the system pages of a kernel job.
 */
static void hw_run(struct dgmm_engine *e, struct dgmm_engine_job *job)
{
	u64 bytes = job->bytes;
	long wait = throttle_jiffies(bytes);
	unsigned int i;
	int err = 0;

	job->start = ktime_get();
	if (job->hang)
		wait_event(e->hw_wait, job_may_end(e, job));
	else if (wait)
		wait_event_timeout(e->hw_wait, job_may_end(e, job), wait);

	if (READ_ONCE(e->dead)) {
		job_zero_pages(e, job);
		err = -ENODEV;
	} else if (job->user && (READ_ONCE(job->reset) || READ_ONCE(job->dep_timed_out))) {
		/* Stopped, or one of its dependencies never came: it does nothing. */
		err = -ETIMEDOUT;
	} else {
		if (READ_ONCE(job->reset))
			atomic64_inc(&e->stats.cpu_fallbacks);
		for (i = 0; i < job->num_ops && !err; i++) {
			if (job->ops[i].op == DGMM_OP_COPY)
				err = do_copy(e, &job->ops[i], job);
			else
				err = do_fill(e, &job->ops[i], job);
		}
		if (err && READ_ONCE(e->dead)) {
			job_zero_pages(e, job);
			err = -ENODEV;
		} else if (err == -EAGAIN) {
			err = -ETIMEDOUT;	/* a user's job, reset while it ran */
		} else if (!err) {
			atomic64_add(bytes, &e->stats.bytes);
		}
	}

	/* Once its fence signals, the scheduler may free the job at any time. */
	atomic64_inc(&e->stats.jobs);
	atomic64_add(ktime_to_ns(ktime_sub(ktime_get(), job->start)), &e->stats.busy_ns);
	trace_dgmm_job_done(e->sched->dev, &job->base.s_fence->finished, job->user, job->num_ops,
			    bytes, err);
	if (err)
		dma_fence_set_error(&job->hw->base, err);
	dma_fence_signal(&job->hw->base);
}

static void dgmm_engine_hw_work(struct work_struct *work)
{
	struct dgmm_engine *e = container_of(work, struct dgmm_engine, hw_work);
	struct dgmm_engine_job *job;

	for (;;) {
		spin_lock_irq(&e->lock);
		job = list_first_entry_or_null(&e->hw_queue, struct dgmm_engine_job, link);
		if (job)
			list_del_init(&job->link);
		spin_unlock_irq(&e->lock);
		if (!job)
			return;
		hw_run(e, job);
	}
}

/* drm_sched_backend_ops.run_job: hand the job to the hardware. */
static struct dma_fence *dgmm_engine_run_job(struct drm_sched_job *sched_job)
{
	struct dgmm_engine_job *job = to_job(sched_job);
	struct dgmm_engine *e = job->engine;
	unsigned long flags;

	/* Before the hardware has it: it may finish and free it at once. */
	trace_dgmm_job_run(e->sched->dev, &job->base.s_fence->finished, job->user, job->num_ops,
			   job->bytes, 0);
	spin_lock_irqsave(&e->lock, flags);
	hw_fence_init(e, job, e->hw_context, ++e->hw_seqno);
	list_add_tail(&job->link, &e->hw_queue);
	spin_unlock_irqrestore(&e->lock, flags);
	queue_work(e->hw_wq, &e->hw_work);
	return dma_fence_get(&job->hw->base);
}

/*
 * drm_sched_backend_ops.timedout_job: the job has run for longer than the
 * job timeout. Take it off the engine: hw_run() then ends it at once (a
 * kernel job finished by the CPU, a user's failed with -ETIMEDOUT) and the
 * engine goes on with the next job.
 *
 * The scheduler took the job off its pending list to call this. It goes
 * back there (as etnaviv does for a job it lets run on) before the hardware
 * is told, so that its completion frees it as usual; and since a job that
 * had already signalled would find no completion left to free it, the free
 * work is kicked in any case. Nothing here waits: the handler must not
 * hold up the next timeout.
 */
static enum drm_gpu_sched_stat dgmm_engine_timedout_job(struct drm_sched_job *sched_job)
{
	struct dgmm_engine_job *job = to_job(sched_job);
	struct dgmm_engine *e = job->engine;
	struct drm_gpu_scheduler *sched = sched_job->sched;
	bool reset = false;

	/* Off the pending list, the job cannot be freed under us. */
	if (job->hw->base.ops && !dma_fence_is_signaled(&job->hw->base)) {
		dev_warn_ratelimited(sched->dev, "copy engine job %llu timed out: resetting it\n",
				     sched_job->id);
		atomic64_inc(&e->stats.resets);
		WRITE_ONCE(job->reset, true);
		reset = true;
	}

	spin_lock(&sched->job_list_lock);
	list_add(&sched_job->list, &sched->pending_list);
	spin_unlock(&sched->job_list_lock);
	/* From here on the job may be freed: touch only the engine. */
	if (reset)
		wake_up_all(&e->hw_wait);
	if (!READ_ONCE(sched->pause_submit))
		queue_work(sched->submit_wq, &sched->work_free_job);
	return READ_ONCE(e->dead) ? DRM_GPU_SCHED_STAT_ENODEV : DRM_GPU_SCHED_STAT_NOMINAL;
}

/*
 * A foreign dependency waited for with a time limit: a fence that signals
 * when @inner does, or, with -ETIMEDOUT, when the job timeout has passed
 * first. The engine keeps every one on @dep_waits until it has signalled,
 * so that fini can take their callbacks and timers away.
 */
struct dgmm_dep_wait {
	struct dma_fence base;
	spinlock_t lock; /* the fence's */
	struct dgmm_engine *engine;
	struct dgmm_engine_job *job;	/* NULL once the job is freed */
	struct list_head job_link;
	struct dma_fence *inner;
	struct dma_fence_cb cb;
	struct delayed_work timeout;
	struct list_head link;
};

static void job_free(struct dgmm_engine_job *job)
{
	struct dgmm_engine *e = job->engine;
	struct dgmm_dep_wait *w, *next;
	unsigned int i;

	/* Waits that outlive the job forget it, and drop the job's reference. */
	LIST_HEAD(waits);

	spin_lock_irq(&e->lock);
	list_for_each_entry_safe(w, next, &job->dep_waits, job_link) {
		w->job = NULL;
		list_move(&w->job_link, &waits);
	}
	spin_unlock_irq(&e->lock);
	list_for_each_entry_safe(w, next, &waits, job_link) {
		list_del_init(&w->job_link);
		dma_fence_put(&w->base);
	}

	for (i = 0; i < job->num_ops; i++) {
		dgmm_mem_release(&job->ops[i].src);
		dgmm_mem_release(&job->ops[i].dst);
	}
	if (job->ops != &job->op0)
		kfree(job->ops);
	for (i = 0; i < job->num_objs; i++)
		drm_gem_object_put(job->objs[i]);
	kfree(job->objs);
	/* Initialised by run_job, or never used. */
	if (job->hw && job->hw->base.ops)
		dma_fence_put(&job->hw->base);
	else
		kfree(job->hw);
	kfree(job);
	if (atomic_dec_and_test(&e->jobs_alive))
		wake_up_var(&e->jobs_alive);
}

/*
 * A job the scheduler killed before it ran (its entity went away) has a
 * finished fence and no hardware fence. It gets one here, signalled with
 * the job's error, as its parent: the finished fence then keeps the
 * scheduler's home as any other does (see struct dgmm_sched_home). The
 * scheduler is done with the job, and reads the parent only to release it
 * and to pass a deadline on.
 */
static void give_killed_job_a_parent(struct dgmm_engine_job *job)
{
	struct drm_sched_fence *s_fence = job->base.s_fence;

	/* A context of its own: it signals out of the hardware's order. */
	hw_fence_init(job->engine, job, dma_fence_context_alloc(1), 1);
	if (s_fence->finished.error)
		dma_fence_set_error(&job->hw->base, s_fence->finished.error);
	dma_fence_signal(&job->hw->base);
	/* Pairs with drm_sched_fence_set_deadline_finished()'s load of it. */
	smp_store_release(&s_fence->parent, dma_fence_get(&job->hw->base));
}

/* drm_sched_backend_ops.free_job: the job's finished fence has signalled. */
static void dgmm_engine_free_job(struct drm_sched_job *sched_job)
{
	struct dgmm_engine_job *job = to_job(sched_job);

	if (!job->hw->base.ops && !job->base.s_fence->parent)
		give_killed_job_a_parent(job);
	drm_sched_job_cleanup(sched_job);
	job_free(job);
}

static const struct drm_sched_backend_ops dgmm_engine_sched_ops = {
	.run_job = dgmm_engine_run_job,
	.timedout_job = dgmm_engine_timedout_job,
	.free_job = dgmm_engine_free_job,
};

static const char *dgmm_dep_timeline_name(struct dma_fence *fence)
{
	return "foreign-dependency";
}

static void dgmm_dep_wait_release(struct dma_fence *fence)
{
	struct dgmm_dep_wait *w = container_of(fence, struct dgmm_dep_wait, base);

	dma_fence_put(w->inner);
	dma_fence_free(fence);
}

static const struct dma_fence_ops dgmm_dep_wait_ops = {
	.get_driver_name = dgmm_engine_driver_name,
	.get_timeline_name = dgmm_dep_timeline_name,
	.release = dgmm_dep_wait_release,
};

/* Signals @w once, with @err; the first caller wins and unlinks it. */
static void dep_wait_done(struct dgmm_dep_wait *w, int err)
{
	struct dgmm_engine *e = w->engine;
	unsigned long flags;
	bool first;

	spin_lock_irqsave(&e->lock, flags);
	first = !list_empty(&w->link);
	list_del_init(&w->link);
	spin_unlock_irqrestore(&e->lock, flags);
	if (!first)
		return;
	if (err)
		dma_fence_set_error(&w->base, err);
	dma_fence_signal(&w->base);
}

/* The wait was given up: its job, if it still exists, must not run. */
static void dep_wait_fail_job(struct dgmm_dep_wait *w)
{
	unsigned long flags;

	spin_lock_irqsave(&w->engine->lock, flags);
	if (w->job)
		WRITE_ONCE(w->job->dep_timed_out, true);
	spin_unlock_irqrestore(&w->engine->lock, flags);
}

static void dep_wait_cb(struct dma_fence *fence, struct dma_fence_cb *cb)
{
	struct dgmm_dep_wait *w = container_of(cb, struct dgmm_dep_wait, cb);

	dep_wait_done(w, 0);
	/* The timer's reference, if the timer had not fired yet. */
	if (cancel_delayed_work(&w->timeout))
		dma_fence_put(&w->base);
	dma_fence_put(&w->base);	/* the callback's */
}

static void dep_wait_timeout(struct work_struct *work)
{
	struct dgmm_dep_wait *w = container_of(work, struct dgmm_dep_wait, timeout.work);
	struct dgmm_engine *e = w->engine;

	if (dma_fence_remove_callback(w->inner, &w->cb)) {
		dev_warn_ratelimited(e->sched->dev,
				     "dependency %s:%s did not signal in %u ms: running without it\n",
				     w->inner->ops->get_driver_name(w->inner),
				     w->inner->ops->get_timeline_name(w->inner),
				     jiffies_to_msecs(e->job_timeout));
		atomic64_inc(&e->stats.dep_timeouts);
		dep_wait_fail_job(w);
		dep_wait_done(w, -ETIMEDOUT);
		dma_fence_put(&w->base);	/* the callback's, which will not run */
	}
	dma_fence_put(&w->base);	/* the timer's */
}

/* Is @fence one of this engine's scheduler's own? */
static bool fence_is_ours(struct dgmm_engine *e, struct dma_fence *fence)
{
	struct drm_sched_fence *s_fence = to_drm_sched_fence(fence);

	return s_fence && s_fence->sched == e->sched;
}

/*
 * A fence of any dgmm engine still plugged in: it signals, within its own
 * job timeout (a peer's move or job a shared BO waits for). Found on the
 * list of engines by pointer, without touching the fence's scheduler.
 */
static bool fence_is_dgmm(struct dgmm_engine *e, struct dma_fence *fence)
{
	struct drm_sched_fence *s_fence = to_drm_sched_fence(fence);
	struct dgmm_engine *peer;
	bool found = false;

	if (!s_fence)
		return false;
	if (s_fence->sched == e->sched)
		return true;
	rcu_read_lock();
	list_for_each_entry_rcu(peer, &dgmm_bars, bar_link)
		if (s_fence->sched == peer->sched) {
			found = true;
			break;
		}
	rcu_read_unlock();
	return found;
}

static bool dgmm_engine_owns_fence(struct dgmm_copy_engine *base, struct dma_fence *fence)
{
	return fence_is_ours(to_dgmm_engine(base), fence);
}

/* Adds @fence as a dependency of @job, bounded in time unless it is ours. */
static int job_add_leaf(struct dgmm_engine_job *job, struct dma_fence *fence)
{
	struct dgmm_engine *e = job->engine;
	struct dgmm_dep_wait *w;
	unsigned long flags;

	if (dma_fence_is_signaled(fence) || fence_is_ours(e, fence))
		return drm_sched_job_add_dependency(&job->base, dma_fence_get(fence));
	/* The device is gone: its jobs touch no memory but new pages, wait for nothing. */
	if (READ_ONCE(e->dead))
		return 0;
	if (fence_is_dgmm(e, fence))
		return drm_sched_job_add_dependency(&job->base, dma_fence_get(fence));

	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	spin_lock_init(&w->lock);
	dma_fence_init(&w->base, &dgmm_dep_wait_ops, &w->lock, dma_fence_context_alloc(1), 1);
	w->engine = e;
	w->job = job;
	w->inner = dma_fence_get(fence);
	INIT_LIST_HEAD(&w->cb.node);
	INIT_DELAYED_WORK(&w->timeout, dep_wait_timeout);
	/* The job's list holds a reference: the wait may outlive its use. */
	dma_fence_get(&w->base);
	spin_lock_irqsave(&e->lock, flags);
	list_add_tail(&w->link, &e->dep_waits);
	list_add_tail(&w->job_link, &job->dep_waits);
	spin_unlock_irqrestore(&e->lock, flags);

	/*
	 * References: the scheduler's (the initial one), the callback's, and
	 * the timer's. The callback goes first; the timer is armed only while
	 * the wait is still on the engine's list (not done yet), under the
	 * lock that dep_wait_done() takes, so that every armed timer is either
	 * cancelled by the callback or found by fini.
	 */
	dma_fence_get(&w->base);
	if (dma_fence_add_callback(fence, &w->cb, dep_wait_cb)) {
		dep_wait_done(w, 0);
		dma_fence_put(&w->base);
	} else {
		spin_lock_irqsave(&e->lock, flags);
		if (!list_empty(&w->link)) {
			dma_fence_get(&w->base);
			queue_delayed_work(system_wq, &w->timeout, e->job_timeout);
		}
		spin_unlock_irqrestore(&e->lock, flags);
	}
	return drm_sched_job_add_dependency(&job->base, &w->base);
}

/*
 * Adds @fence, or each fence it contains (a timeline point's chain, a
 * sync_file's array), so that this scheduler's own fences inside them are
 * left to drm_sched and only the others are bounded in time.
 */
static int job_add_dependency(struct dgmm_engine_job *job, struct dma_fence *fence)
{
	struct dma_fence_unwrap iter;
	struct dma_fence *leaf;
	int err;

	dma_fence_unwrap_for_each(leaf, &iter, fence) {
		err = job_add_leaf(job, leaf);
		if (err) {
			dma_fence_put(iter.chain);	/* the walk's, left early */
			return err;
		}
	}
	return 0;
}

/* Is every operation's memory the engine's to reach, and big enough? */
static bool ops_valid(struct dgmm_engine *e, struct dgmm_engine_job *job)
{
	unsigned int i;

	for (i = 0; i < job->num_ops; i++) {
		struct dgmm_engine_op *op = &job->ops[i];

		if (!op->size || !mem_valid(e, &op->dst, op->size) ||
		    (op->op == DGMM_OP_COPY && !mem_valid(e, &op->src, op->size)))
			return false;
	}
	return true;
}

/* A job with room for @num_ops operations (kernel jobs: one, in the job). */
static struct dgmm_engine_job *job_alloc(struct dgmm_engine *e, unsigned int num_ops,
					 unsigned int num_objs)
{
	struct dgmm_engine_job *job;

	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job)
		return NULL;
	job->engine = e;
	INIT_LIST_HEAD(&job->link);
	INIT_LIST_HEAD(&job->dep_waits);
	job->ops = &job->op0;
	job->num_ops = num_ops;
	atomic_inc(&e->jobs_alive);
	job->hw = kzalloc(sizeof(*job->hw), GFP_KERNEL);
	if (num_ops > 1)
		job->ops = kcalloc(num_ops, sizeof(*job->ops), GFP_KERNEL);
	if (num_objs)
		job->objs = kcalloc(num_objs, sizeof(*job->objs), GFP_KERNEL);
	if (!job->hw || !job->ops || (num_objs && !job->objs)) {
		if (!job->ops)
			job->num_ops = 0;
		job_free(job);
		return NULL;
	}
	spin_lock_init(&job->hw->lock);
	return job;
}

/* Arms and queues a job on @entity, under @lock; returns its fence. */
static struct dma_fence *job_push(struct dgmm_engine_job *job, struct mutex *lock)
{
	struct dgmm_engine *e = job->engine;
	struct dma_fence *fence;

	job->hang = atomic_add_unless(&e->hang_next, -1, 0) || inject_hang();
	/* Once, here: the throttle and three trace events use it. */
	job->bytes = job_bytes(job);
	mutex_lock(lock);
	drm_sched_job_arm(&job->base);
	fence = dma_fence_get(&job->base.s_fence->finished);
	/* Once pushed, the job may run and be freed at any time. */
	trace_dgmm_job_queue(e->sched->dev, fence, job->user, job->num_ops, job->bytes, 0);
	drm_sched_entity_push_job(&job->base);
	mutex_unlock(lock);
	return fence;
}

/* A kernel copy or fill: one operation, after every fence of @deps. */
static struct dma_fence *kernel_submit(struct dgmm_engine *e, struct dgmm_engine_op *op,
				       struct dma_resv *deps)
{
	struct dgmm_engine_job *job;
	int err;

	dma_resv_assert_held(deps);
	job = job_alloc(e, 1, 0);
	if (!job) {
		dgmm_mem_release(&op->src);
		dgmm_mem_release(&op->dst);
		return ERR_PTR(-ENOMEM);
	}
	job->op0 = *op;
	if (!ops_valid(e, job)) {
		job_free(job);
		return ERR_PTR(-EINVAL);
	}
	err = drm_sched_job_init(&job->base, &e->kernel_entity, 1, e, 0);
	if (err) {
		job_free(job);
		return ERR_PTR(err);
	}
	err = dgmm_engine_job_add_resv(job, deps, DMA_RESV_USAGE_BOOKKEEP);
	if (err) {
		dgmm_engine_job_abort(job);
		return ERR_PTR(err);
	}
	return job_push(job, &e->submit_lock);
}

static struct dma_fence *dgmm_engine_copy(struct dgmm_copy_engine *base,
					  struct dgmm_mem *src, struct dgmm_mem *dst,
					  u64 size, struct dma_resv *deps)
{
	struct dgmm_engine_op op = {
		.op = DGMM_OP_COPY, .src = *src, .dst = *dst, .size = size,
	};

	return kernel_submit(to_dgmm_engine(base), &op, deps);
}

static struct dma_fence *dgmm_engine_fill(struct dgmm_copy_engine *base,
					  struct dgmm_mem *dst, u64 size, u8 value,
					  struct dma_resv *deps)
{
	struct dgmm_engine_op op = {
		.op = DGMM_OP_FILL, .dst = *dst, .size = size, .value = value,
		.src.kind = DGMM_MEM_DMA,	/* nothing to free */
	};

	return kernel_submit(to_dgmm_engine(base), &op, deps);
}

/**
 * dgmm_engine_job_create - a user's job, to be filled in and pushed
 * @engine: the engine
 * @entity: the submitting file's entity
 * @num_ops: operations (at least one)
 * @num_objs: GEM objects the job will hold
 * @client_id: the file's client id (fdinfo)
 *
 * The caller fills dgmm_engine_job_op() for each operation and
 * dgmm_engine_job_obj() for each object (one reference each, which the job
 * then owns), adds dependencies, and ends with dgmm_engine_job_push() or
 * dgmm_engine_job_abort().
 *
 * Return: the job, or an ERR_PTR.
 */
struct dgmm_engine_job *dgmm_engine_job_create(struct dgmm_engine *engine,
					       struct drm_sched_entity *entity,
					       unsigned int num_ops, unsigned int num_objs,
					       u64 client_id)
{
	struct dgmm_engine_job *job;
	int err;

	if (!num_ops)
		return ERR_PTR(-EINVAL);
	job = job_alloc(engine, num_ops, num_objs);
	if (!job)
		return ERR_PTR(-ENOMEM);
	job->user = true;
	err = drm_sched_job_init(&job->base, entity, 1, entity, client_id);
	if (err) {
		job_free(job);
		return ERR_PTR(err);
	}
	return job;
}

/**
 * dgmm_engine_job_op - an operation of a job, to fill in
 * @job: the job
 * @i: which, below the job's number of operations
 *
 * Return: the operation. Its memory is the job's once filled in (freed with it).
 */
struct dgmm_engine_op *dgmm_engine_job_op(struct dgmm_engine_job *job, unsigned int i)
{
	return &job->ops[i];
}

/**
 * dgmm_engine_job_obj - hand a GEM object reference to a job
 * @job: the job
 * @i: which slot, below the job's number of objects
 * @obj: the object; the job drops the reference when it is freed
 */
void dgmm_engine_job_obj(struct dgmm_engine_job *job, unsigned int i,
			 struct drm_gem_object *obj)
{
	job->objs[i] = obj;
	job->num_objs = max(job->num_objs, i + 1);
}

/**
 * dgmm_engine_job_add_fence - make a job wait for a fence
 * @job: the job, not pushed yet
 * @fence: the fence; bounded by the job timeout unless it is the engine's
 *
 * Return: 0 or -ENOMEM.
 */
int dgmm_engine_job_add_fence(struct dgmm_engine_job *job, struct dma_fence *fence)
{
	return job_add_dependency(job, fence);
}

/**
 * dgmm_engine_job_add_resv - make a job wait for the fences of a reservation
 * @job: the job, not pushed yet
 * @resv: the reservation object, locked
 * @usage: every fence of this usage and the ones before it
 *	   (dma_resv_usage_rw() for implicit sync, BOOKKEEP for everything)
 *
 * Return: 0 or -ENOMEM.
 */
int dgmm_engine_job_add_resv(struct dgmm_engine_job *job, struct dma_resv *resv,
			     enum dma_resv_usage usage)
{
	struct dma_resv_iter cursor;
	struct dma_fence *fence;
	int err;

	dma_resv_assert_held(resv);
	dma_resv_for_each_fence(&cursor, resv, usage, fence) {
		err = job_add_dependency(job, fence);
		if (err)
			return err;
	}
	return 0;
}

/**
 * dgmm_engine_job_push - check a job and queue it
 * @job: the job, filled in
 * @lock: the lock that serialises pushes to the job's entity
 *
 * Return: the job's fence (a reference for the caller), or an ERR_PTR with
 * the job freed: -EINVAL if an operation reaches outside its memory.
 */
struct dma_fence *dgmm_engine_job_push(struct dgmm_engine_job *job, struct mutex *lock)
{
	if (!ops_valid(job->engine, job)) {
		dgmm_engine_job_abort(job);
		return ERR_PTR(-EINVAL);
	}
	return job_push(job, lock);
}

/**
 * dgmm_engine_job_abort - free a job that will not be pushed
 * @job: the job
 */
void dgmm_engine_job_abort(struct dgmm_engine_job *job)
{
	drm_sched_job_cleanup(&job->base);
	job_free(job);
}

#if IS_ENABLED(CONFIG_KUNIT)
/**
 * dgmm_engine_hang_next - make the next jobs hang until the timeout resets them
 * @engine: the engine
 * @jobs: how many of the next jobs submitted
 */
void dgmm_engine_hang_next(struct dgmm_engine *engine, unsigned int jobs)
{
	atomic_set(&engine->hang_next, jobs);
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_engine_hang_next);
#endif

static const struct dgmm_copy_engine_funcs dgmm_engine_funcs = {
	.owns_fence = dgmm_engine_owns_fence,
	.copy = dgmm_engine_copy,
	.fill = dgmm_engine_fill,
};

/**
 * dgmm_engine_init - start a device's copy engine
 * @engine: the engine to set up
 * @dev: the PCI device (for the second VRAM view, and the scheduler's messages)
 * @vram_start: bus address of VRAM
 * @vram: the kernel's mapping of all of VRAM
 * @vram_size: bytes of VRAM
 *
 * Return: 0 or a negative error code.
 */
int dgmm_engine_init(struct dgmm_engine *engine, struct device *dev,
		     resource_size_t vram_start, void __iomem *vram, u64 vram_size)
{
	struct drm_gpu_scheduler *sched_list[1];
	struct drm_sched_init_args args = {
		.ops = &dgmm_engine_sched_ops,
		.num_rqs = DRM_SCHED_PRIORITY_COUNT,
		.credit_limit = 64,
		.timeout = msecs_to_jiffies(max(job_timeout_ms, 100u)),
		.dev = dev,
	};
	int err;

	engine->base.funcs = &dgmm_engine_funcs;
	engine->dev = dev;
	engine->iommu = iommu_get_domain_for_dev(dev);
	if (engine->iommu && !(engine->iommu->type & __IOMMU_DOMAIN_PAGING))
		engine->iommu = NULL;	/* identity: bus addresses are physical */
	dev_info(dev, "copy engine: DMA addresses %s\n",
		 engine->iommu ? "translated by the IOMMU" : "are physical addresses");
	engine->vram = vram;
	engine->vram_start = vram_start;
	engine->vram_size = vram_size;
	engine->bar_registered = false;
	engine->job_timeout = args.timeout;
	mutex_init(&engine->submit_lock);
	spin_lock_init(&engine->lock);
	init_waitqueue_head(&engine->hw_wait);
	INIT_LIST_HEAD(&engine->hw_queue);
	INIT_LIST_HEAD(&engine->dep_waits);
	INIT_WORK(&engine->hw_work, dgmm_engine_hw_work);
	engine->hw_context = dma_fence_context_alloc(1);
	engine->hw_seqno = 0;
	engine->dead = false;
	atomic_set(&engine->jobs_alive, 0);
	atomic_set(&engine->hang_next, 0);
	atomic64_set(&engine->stats.jobs, 0);
	atomic64_set(&engine->stats.bytes, 0);
	atomic64_set(&engine->stats.busy_ns, 0);
	atomic64_set(&engine->stats.parity_conflicts, 0);
	atomic64_set(&engine->stats.resets, 0);
	atomic64_set(&engine->stats.cpu_fallbacks, 0);
	atomic64_set(&engine->stats.dep_timeouts, 0);
	atomic64_set(&engine->stats.dma_faults, 0);

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

	engine->home = sched_home_alloc("dgmm-copy");
	if (!engine->home)
		return -ENOMEM;
	engine->sched = &engine->home->sched;
	sched_list[0] = engine->sched;
	args.name = engine->home->name;
	engine->hw_wq = alloc_ordered_workqueue("dgmm-engine", WQ_MEM_RECLAIM);
	if (!engine->hw_wq) {
		err = -ENOMEM;
		goto err_home;
	}
	err = drm_sched_init(engine->sched, &args);
	if (err)
		goto err_wq;
	err = drm_sched_entity_init(&engine->kernel_entity, DRM_SCHED_PRIORITY_KERNEL,
				    sched_list, 1, NULL);
	if (err)
		goto err_sched;

	/* Peers reach this VRAM from now until the unplug. */
	spin_lock(&dgmm_bars_lock);
	list_add_tail_rcu(&engine->bar_link, &dgmm_bars);
	engine->bar_registered = true;
	spin_unlock(&dgmm_bars_lock);
	return 0;

err_sched:
	drm_sched_fini(engine->sched);
err_wq:
	destroy_workqueue(engine->hw_wq);
err_home:
	sched_home_leave(engine->home);
	return err;
}

static int engine_show(struct seq_file *m, void *unused)
{
	struct dgmm_engine *e = m->private;

	seq_printf(m, "jobs: %lld\nbytes: %lld\nbusy_ns: %lld\nparity_conflicts: %lld\n"
		   "resets: %lld\ncpu_fallbacks: %lld\ndep_timeouts: %lld\ndma_faults: %lld\n"
		   "dma_translation: %s\n",
		   (s64)atomic64_read(&e->stats.jobs),
		   (s64)atomic64_read(&e->stats.bytes),
		   (s64)atomic64_read(&e->stats.busy_ns),
		   (s64)atomic64_read(&e->stats.parity_conflicts),
		   (s64)atomic64_read(&e->stats.resets),
		   (s64)atomic64_read(&e->stats.cpu_fallbacks),
		   (s64)atomic64_read(&e->stats.dep_timeouts),
		   (s64)atomic64_read(&e->stats.dma_faults),
		   e->iommu ? "iommu" : "direct");
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
 * timestamp, summed, parity_conflicts, chunks copied between VRAM and
 * another side of the same page parity (see the top of the file), resets,
 * jobs the timeout took off the engine, cpu_fallbacks, kernel jobs among
 * them that the CPU finished, and dep_timeouts, foreign dependencies given
 * up on. A benchmark reads busy_ns before and after a move to tell the
 * engine's own time from what the rest of the move costs.
 */
void dgmm_engine_debugfs_init(struct dgmm_engine *engine, struct dentry *root)
{
	debugfs_create_file("engine", 0444, root, engine, &engine_fops);
}

#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
static struct dentry *engine_hang_dir;

/*
 * The module's fault injection attribute "dgmm_engine_hang", in the debugfs
 * root: jobs it picks hang until the job timeout resets them.
 */
void dgmm_engine_fault_injection_init(void)
{
	engine_hang_dir = fault_create_debugfs_attr("dgmm_engine_hang", NULL, &engine_hang);
	if (IS_ERR(engine_hang_dir))
		engine_hang_dir = NULL;
}

void dgmm_engine_fault_injection_fini(void)
{
	debugfs_remove_recursive(engine_hang_dir);
}
#else
void dgmm_engine_fault_injection_init(void) { }
void dgmm_engine_fault_injection_fini(void) { }
#endif

/**
 * dgmm_engine_unplug - the device is gone: stop touching its memory
 * @engine: the engine
 *
 * Jobs that have not run yet, jobs submitted from now on and a throttled or
 * hung job that is running complete with -ENODEV without touching VRAM.
 * Returns once no job is touching it, so the VRAM mapping may be torn down.
 */
void dgmm_engine_unplug(struct dgmm_engine *engine)
{
	bool registered;

	spin_lock_irq(&engine->lock);
	engine->dead = true;
	spin_unlock_irq(&engine->lock);
	wake_up_all(&engine->hw_wait);
	flush_workqueue(engine->hw_wq);

	/* Peers' DMA to this BAR faults from now on; none still lands in it. */
	spin_lock(&dgmm_bars_lock);
	registered = engine->bar_registered;
	if (registered)
		list_del_rcu(&engine->bar_link);
	engine->bar_registered = false;
	spin_unlock(&dgmm_bars_lock);
	if (registered)
		synchronize_rcu();
}

/* Gives up every foreign dependency still waited for. */
static void give_up_dep_waits(struct dgmm_engine *engine)
{
	struct dgmm_dep_wait *w;

	/* No callback or timer of ours may outlive the module. */
	for (;;) {
		spin_lock_irq(&engine->lock);
		w = list_first_entry_or_null(&engine->dep_waits, struct dgmm_dep_wait, link);
		if (w)
			dma_fence_get(&w->base);
		spin_unlock_irq(&engine->lock);
		if (!w)
			break;
		if (cancel_delayed_work_sync(&w->timeout))
			dma_fence_put(&w->base);
		if (dma_fence_remove_callback(w->inner, &w->cb))
			dma_fence_put(&w->base);
		dep_wait_fail_job(w);
		dep_wait_done(w, -ENODEV);
		dma_fence_put(&w->base);
	}
}

/**
 * dgmm_engine_drain - the device is going: finish every job
 * @engine: the engine, whose users (files) are all gone
 *
 * Unplugs the engine, gives up the foreign dependencies still waited for
 * and waits until every job is freed: the jobs of closed files hold their
 * BOs, which must be gone before the memory manager is torn down. The kernel
 * entity stays, for the evictions of the teardown (which complete at once).
 */
void dgmm_engine_drain(struct dgmm_engine *engine)
{
	dgmm_engine_unplug(engine);
	give_up_dep_waits(engine);
	wait_var_event(&engine->jobs_alive, !atomic_read(&engine->jobs_alive));
}

/**
 * dgmm_engine_fini - stop the engine for good
 * @engine: the engine
 *
 * Foreign dependencies still being waited for are given up at once; then
 * jobs still queued are killed by the scheduler (their fences signal with
 * an error once their dependencies have). Returns when every job is freed.
 */
void dgmm_engine_fini(struct dgmm_engine *engine)
{
	dgmm_engine_unplug(engine);
	give_up_dep_waits(engine);
	/* With no dependency left waiting, this does not wait long. */
	drm_sched_entity_destroy(&engine->kernel_entity);
	wait_var_event(&engine->jobs_alive, !atomic_read(&engine->jobs_alive));
	drm_sched_fini(engine->sched);
	destroy_workqueue(engine->hw_wq);
	mutex_destroy(&engine->submit_lock);
	/* Fences handed out may still name the scheduler: they keep its home. */
	engine->sched = NULL;
	sched_home_leave(engine->home);
	engine->home = NULL;
}
