// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * KUnit suite for the copy engine, on each probed device: a job waits for
 * the fences of the reservation object it is given, a failed dependency
 * does not stop it, a foreign one that never signals stops it for the job
 * timeout at most, a hung job is reset and finished, and jobs complete in
 * submission order even when a later one is ready first, and copies between
 * VRAM ranges and pages land byte for byte, whatever their alignment and
 * whichever of the engine's two views of VRAM they go through. Outside its
 * VRAM the engine reaches memory only through DMA addresses: a GTT BO's are
 * bus addresses (not physical ones behind an IOMMU), and one that leads
 * nowhere, or was unmapped, fails the job with -EFAULT.
 */

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/dma-fence.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/io.h>
#include <linux/sizes.h>
#include <drm/ttm/ttm_tt.h>

#include "ttm_backend/dgmm_bo.h"
#include "dgmm_kunit.h"

static struct dgmm_bo *vram_bo(struct kunit *test, struct dgmm_device *ddev)
{
	struct dgmm_bo *bo = dgmm_kunit_bo_create(test, ddev, SZ_64K, DGMM_DOMAIN_VRAM,
						  DGMM_DOMAIN_VRAM, 0);

	KUNIT_ASSERT_EQ(test, 0, dgmm_bo_wait(bo, -1));
	return bo;
}

/*
 * Submits a fill of the whole BO with @value, depending on @dep (if any) and
 * on the BO's own fences. Returns the job's fence, released with the test.
 */
static struct dma_fence *submit_fill(struct kunit *test, struct dgmm_bo *bo, u8 value,
				     struct dma_fence *dep)
{
	struct dgmm_copy_engine *engine = bo->mm->engine;
	struct dma_resv *resv = bo->tbo.base.resv;
	struct dma_fence *fence;
	struct dgmm_mem mem;
	int err;

	KUNIT_ASSERT_EQ(test, 0, dma_resv_lock(resv, NULL));
	err = dgmm_vram_mgr_snapshot(&bo->mm->vram, bo->tbo.resource, 0, bo->tbo.base.size,
				     false, &mem, NULL);
	if (!err && dep) {
		err = dma_resv_reserve_fences(resv, 1);
		if (!err)
			dma_resv_add_fence(resv, dep, DMA_RESV_USAGE_KERNEL);
	}
	if (err) {
		dgmm_mem_release(&mem);	/* nothing if the snapshot failed */
		dma_resv_unlock(resv);
		KUNIT_ASSERT_EQ(test, err, 0);
	}
	/* The fill writes the BO: its VRAM must not go back as cleared. */
	dgmm_vram_mgr_mark_dirty(bo->tbo.resource);
	fence = engine->funcs->fill(engine, &mem, bo->tbo.base.size, value, resv);
	dma_resv_unlock(resv);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, fence);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, dgmm_kunit_fence_put, fence));
	return fence;
}

/* The first byte of the BO as VRAM holds it. */
static u8 first_byte(struct dgmm_bo *bo)
{
	u64 contiguous;
	u64 at = dgmm_vram_mgr_offset(&bo->mm->vram, bo->tbo.resource, 0, &contiguous);

	return readb(bo->mm->vram_map + at);
}

static void engine_waits_for_dependency(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_bo *bo = vram_bo(test, ddev);
	struct dma_fence *dep = dgmm_kunit_fence(test), *job;

	job = submit_fill(test, bo, 0x55, dep);
	msleep(50);
	KUNIT_EXPECT_FALSE(test, dma_fence_is_signaled(job));
	KUNIT_EXPECT_EQ(test, first_byte(bo), 0);

	dma_fence_signal(dep);
	KUNIT_ASSERT_GT(test, dma_fence_wait_timeout(job, false, 10 * HZ), 0);
	KUNIT_EXPECT_EQ(test, job->error, 0);
	KUNIT_EXPECT_EQ(test, first_byte(bo), 0x55);
}

/* A dependency that failed still lets the job run, and its fence is clean. */
static void engine_ignores_dependency_errors(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_bo *bo = vram_bo(test, ddev);
	struct dma_fence *dep = dgmm_kunit_fence(test), *job;

	job = submit_fill(test, bo, 0x66, dep);
	dma_fence_set_error(dep, -EIO);
	dma_fence_signal(dep);
	KUNIT_ASSERT_GT(test, dma_fence_wait_timeout(job, false, 10 * HZ), 0);
	KUNIT_EXPECT_EQ(test, job->error, 0);
	KUNIT_EXPECT_EQ(test, first_byte(bo), 0x66);
}

/* A ready job queued behind a waiting one completes after it. */
static void engine_completes_in_order(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_bo *a = vram_bo(test, ddev), *b = vram_bo(test, ddev);
	struct dma_fence *dep = dgmm_kunit_fence(test), *first, *second;

	first = submit_fill(test, a, 0x11, dep);
	second = submit_fill(test, b, 0x22, NULL);
	KUNIT_EXPECT_EQ(test, first->context, second->context);
	KUNIT_EXPECT_TRUE(test, dma_fence_is_later(second, first));
	msleep(50);
	KUNIT_EXPECT_FALSE(test, dma_fence_is_signaled(second));

	dma_fence_signal(dep);
	KUNIT_ASSERT_GT(test, dma_fence_wait_timeout(second, false, 10 * HZ), 0);
	KUNIT_EXPECT_TRUE(test, dma_fence_is_signaled(first));
	KUNIT_EXPECT_EQ(test, first_byte(a), 0x11);
	KUNIT_EXPECT_EQ(test, first_byte(b), 0x22);
}

/*
 * A foreign dependency that never signals (as a fence a user put into the
 * BO and abandoned) holds the job up for the job timeout at most: then the
 * job runs, cleanly, and the engine counts the dependency it gave up on.
 */
static void engine_bounds_foreign_dependencies(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_engine *e = &ddev->engine;
	struct dgmm_bo *bo = vram_bo(test, ddev);
	struct dma_fence *dep = dgmm_kunit_fence(test), *job;
	s64 timeouts = atomic64_read(&e->stats.dep_timeouts);

	job = submit_fill(test, bo, 0x77, dep);
	KUNIT_ASSERT_GT_MSG(test, dma_fence_wait_timeout(job, false, 3 * e->job_timeout + HZ), 0,
			    "the job waited for its dependency for ever");
	KUNIT_EXPECT_EQ(test, job->error, 0);
	KUNIT_EXPECT_EQ(test, first_byte(bo), 0x77);
	KUNIT_EXPECT_EQ(test, atomic64_read(&e->stats.dep_timeouts), timeouts + 1);
	KUNIT_EXPECT_FALSE(test, dma_fence_is_signaled(dep));
	dma_fence_signal(dep);
}

/*
 * Two jobs in a row hang on the engine: each is reset by the job timeout.
 * A kernel job is then finished by the CPU (its fence clean, its data
 * written), the engine runs the next job, and every job is freed.
 */
static void engine_resets_hung_job(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_engine *e = &ddev->engine;
	struct dgmm_bo *a = vram_bo(test, ddev), *b = vram_bo(test, ddev);
	struct dgmm_bo *c = vram_bo(test, ddev);
	s64 resets = atomic64_read(&e->stats.resets);
	s64 fallbacks = atomic64_read(&e->stats.cpu_fallbacks);
	struct dma_fence *hung1, *hung2, *next;
	int alive = atomic_read(&e->jobs_alive);
	unsigned int t;

	dgmm_engine_hang_next(e, 2);
	hung1 = submit_fill(test, a, 0x88, NULL);
	hung2 = submit_fill(test, b, 0x89, NULL);
	next = submit_fill(test, c, 0x99, NULL);
	KUNIT_ASSERT_GT_MSG(test, dma_fence_wait_timeout(next, false, 5 * e->job_timeout + HZ), 0,
			    "a hung job was never reset");
	KUNIT_EXPECT_TRUE(test, dma_fence_is_signaled(hung1));
	KUNIT_EXPECT_TRUE(test, dma_fence_is_signaled(hung2));
	KUNIT_EXPECT_EQ(test, hung1->error, 0);
	KUNIT_EXPECT_EQ(test, hung2->error, 0);
	KUNIT_EXPECT_EQ(test, next->error, 0);
	KUNIT_EXPECT_EQ(test, first_byte(a), 0x88);
	KUNIT_EXPECT_EQ(test, first_byte(b), 0x89);
	KUNIT_EXPECT_EQ(test, first_byte(c), 0x99);
	KUNIT_EXPECT_EQ(test, atomic64_read(&e->stats.resets), resets + 2);
	KUNIT_EXPECT_EQ(test, atomic64_read(&e->stats.cpu_fallbacks), fallbacks + 2);

	/* The scheduler frees finished jobs from a worker: give it a moment. */
	for (t = 0; t < 100 && atomic_read(&e->jobs_alive) > alive; t++)
		msleep(20);
	KUNIT_EXPECT_LE_MSG(test, atomic_read(&e->jobs_alive), alive, "a reset job was not freed");
}

#define PAGES U64_MAX	/* the GTT BO's pages, from their start */
#define GUARD 64	/* bytes checked on each side of a copy's destination */

struct copy_case {
	const char *name;
	u64 src, dst;	/* byte offsets in the VRAM BO, or PAGES */
	u64 size;
};

static const struct copy_case copy_cases[] = {
	{ "VRAM->VRAM, same page parity", 0, SZ_512K, SZ_64K },
	{ "VRAM->VRAM, other page parity", 0, SZ_512K + SZ_4K, SZ_64K },
	{ "VRAM->VRAM, unaligned, with a tail", 13, SZ_512K + SZ_4K + 77, SZ_8K + 27 },
	{ "VRAM->pages", 0, PAGES, SZ_16K + 40 },
	{ "VRAM->pages, odd page", SZ_4K, PAGES, SZ_16K },
	{ "pages->VRAM", PAGES, SZ_512K, SZ_16K + 40 },
	{ "pages->VRAM, odd page", PAGES, SZ_512K + SZ_4K, SZ_16K },
};

static u8 copy_byte(u64 i)
{
	return (u8)(i * 7 + 3);
}

/* Where a case's side is: one range of VRAM, or the GTT BO's pages. */
static int case_mem(struct dgmm_bo *vram, u64 base, struct dgmm_bo *gtt, u64 off,
		    u64 size, struct dgmm_mem *mem)
{
	if (off == PAGES) {
		mem->kind = DGMM_MEM_DMA;
		mem->count = gtt->tbo.ttm->num_pages;
		mem->addrs = gtt->tbo.ttm->dma_address;
		return 0;
	}
	mem->kind = DGMM_MEM_VRAM;
	mem->count = 1;
	mem->ranges = kmalloc(sizeof(*mem->ranges), GFP_KERNEL);
	if (!mem->ranges)
		return -ENOMEM;
	mem->ranges[0] = (struct dgmm_mem_range){ .offset = base + off, .size = size };
	return 0;
}

/* Reads or writes @len bytes at @off of a case's side through the CPU. */
static void case_access(struct dgmm_bo *vram, u64 base, struct dgmm_bo *gtt, u64 off,
			u8 *buf, u64 len, bool write)
{
	if (off != PAGES) {
		void __iomem *p = vram->mm->vram_map + base + off;

		if (write)
			memcpy_toio(p, buf, len);
		else
			memcpy_fromio(buf, p, len);
		return;
	}
	dgmm_mm_pages_access(gtt->tbo.ttm->pages, 0, buf, len, write);
}

/*
 * Each case: the source holds a pattern, the destination and GUARD bytes
 * around it hold 0xee; after the job the destination holds the pattern and
 * the guard bytes are untouched. And every chunk went through the view of
 * VRAM whose page parity differs from the other side's.
 */
static void engine_copies_bytes(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_copy_engine *engine = ddev->mm.engine;
	struct dgmm_bo *vram, *gtt;
	struct dma_resv *resv;
	u64 base, contiguous;
	s64 conflicts;
	unsigned int c;
	u8 *buf;

	vram = dgmm_kunit_bo_create(test, ddev, SZ_1M, DGMM_DOMAIN_VRAM, DGMM_DOMAIN_VRAM,
				    DGMM_PLACE_CONTIGUOUS);
	gtt = dgmm_kunit_bo_create(test, ddev, SZ_64K, DGMM_DOMAIN_GTT, DGMM_DOMAIN_GTT, 0);
	KUNIT_ASSERT_EQ(test, 0, dgmm_bo_wait(vram, -1));
	KUNIT_ASSERT_EQ(test, 0, dgmm_bo_wait(gtt, -1));
	KUNIT_ASSERT_TRUE(test, gtt->tbo.ttm && ttm_tt_is_populated(gtt->tbo.ttm));
	base = dgmm_vram_mgr_offset(&ddev->mm.vram, vram->tbo.resource, 0, &contiguous);
	KUNIT_ASSERT_GE(test, contiguous, (u64)SZ_1M);
	buf = kunit_kmalloc(test, SZ_64K + 2 * GUARD, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	resv = vram->tbo.base.resv;
	conflicts = atomic64_read(&ddev->engine.stats.parity_conflicts);

	for (c = 0; c < ARRAY_SIZE(copy_cases); c++) {
		const struct copy_case *cc = &copy_cases[c];
		u64 guard = cc->dst == PAGES ? 0 : GUARD, i, bad = U64_MAX;
		struct dgmm_mem src, dst;
		struct dma_fence *fence;
		int err;

		for (i = 0; i < cc->size; i++)
			buf[i] = copy_byte(i + c);
		case_access(vram, base, gtt, cc->src, buf, cc->size, true);
		memset(buf, 0xee, cc->size + 2 * GUARD);
		case_access(vram, base, gtt, cc->dst, buf, cc->size + GUARD, true);
		if (guard)
			case_access(vram, base, gtt, cc->dst - guard, buf, guard, true);

		KUNIT_ASSERT_EQ(test, 0, dma_resv_lock(resv, NULL));
		dgmm_vram_mgr_mark_dirty(vram->tbo.resource);
		err = case_mem(vram, base, gtt, cc->src, cc->size, &src);
		if (!err) {
			err = case_mem(vram, base, gtt, cc->dst, cc->size, &dst);
			if (err)
				dgmm_mem_release(&src);
		}
		fence = ERR_PTR(err);
		if (!err)
			fence = engine->funcs->copy(engine, &src, &dst, cc->size, resv);
		dma_resv_unlock(resv);
		KUNIT_ASSERT_NOT_ERR_OR_NULL_MSG(test, fence, "%s", cc->name);
		KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(fence, false, 10 * HZ), 0);
		KUNIT_EXPECT_EQ_MSG(test, fence->error, 0, "%s", cc->name);
		dma_fence_put(fence);

		case_access(vram, base, gtt, cc->dst - guard, buf, cc->size + 2 * guard, false);
		for (i = 0; i < cc->size + 2 * guard && bad == U64_MAX; i++) {
			bool inside = i >= guard && i < guard + cc->size;

			if (buf[i] != (inside ? copy_byte(i - guard + c) : 0xee))
				bad = i;
		}
		KUNIT_EXPECT_EQ_MSG(test, bad, U64_MAX, "%s: wrong byte at %lld of the destination",
				    cc->name, (s64)bad - (s64)guard);
	}

	/* Only VRAM's first page has a single view; these cases never touch it. */
	if (base >= PAGE_SIZE)
		KUNIT_EXPECT_EQ(test, atomic64_read(&ddev->engine.stats.parity_conflicts),
				conflicts);
}

/*
 * A GTT BO's tt holds a bus address for every page, mapped for this device:
 * behind a translating IOMMU they are not the pages' physical addresses
 * (the engine would otherwise work by accident), without one they are.
 */
static void engine_gtt_has_bus_addresses(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_bo *gtt;
	struct ttm_tt *tt;
	unsigned int i, same = 0;

	gtt = dgmm_kunit_bo_create(test, ddev, SZ_64K, DGMM_DOMAIN_GTT, DGMM_DOMAIN_GTT, 0);
	KUNIT_ASSERT_EQ(test, 0, dgmm_bo_wait(gtt, -1));
	tt = gtt->tbo.ttm;
	KUNIT_ASSERT_TRUE(test, tt && ttm_tt_is_populated(tt));
	KUNIT_ASSERT_NOT_NULL(test, tt->dma_address);
	for (i = 0; i < tt->num_pages; i++)
		same += tt->dma_address[i] == page_to_phys(tt->pages[i]);
	if (ddev->engine.iommu)
		KUNIT_EXPECT_EQ(test, same, 0);
	else
		KUNIT_EXPECT_EQ(test, same, tt->num_pages);
}

/* Fills one page at bus address @addr; returns the job's error. */
static int fill_bus_address(struct kunit *test, struct dgmm_bo *bo, dma_addr_t addr)
{
	struct dgmm_copy_engine *engine = bo->mm->engine;
	struct dma_resv *resv = bo->tbo.base.resv;
	dma_addr_t *addrs = kunit_kmalloc(test, sizeof(*addrs), GFP_KERNEL);
	struct dgmm_mem mem = { .kind = DGMM_MEM_DMA, .count = 1, .addrs = addrs };
	struct dma_fence *fence;
	int err;

	KUNIT_ASSERT_NOT_NULL(test, addrs);
	addrs[0] = addr;
	KUNIT_ASSERT_EQ(test, 0, dma_resv_lock(resv, NULL));
	fence = engine->funcs->fill(engine, &mem, PAGE_SIZE, 0x5a, resv);
	dma_resv_unlock(resv);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, fence);
	KUNIT_ASSERT_GT(test, dma_fence_wait_timeout(fence, false, 10 * HZ), 0);
	err = fence->error;
	dma_fence_put(fence);
	return err;
}

/*
 * A bus address beyond anything the device can reach (no RAM there, and no
 * IOMMU mapping) fails the job with -EFAULT, and the engine counts it.
 */
static void engine_faults_on_unmapped_address(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_bo *bo = vram_bo(test, ddev);
	s64 faults = atomic64_read(&ddev->engine.stats.dma_faults);

	KUNIT_EXPECT_EQ(test, fill_bus_address(test, bo, (dma_addr_t)1 << 45), -EFAULT);
	KUNIT_EXPECT_EQ(test, atomic64_read(&ddev->engine.stats.dma_faults), faults + 1);
}

/*
 * A page mapped for the device and unmapped again: behind an IOMMU its old
 * bus address leads nowhere, and a job that still uses it fails instead of
 * writing the page. Without a translating IOMMU the old address is the
 * page's physical address and still works, as on real hardware: the case
 * is skipped there and runs in the suite's virtual IOMMU run.
 */
static void engine_faults_on_stale_address(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_bo *bo = vram_bo(test, ddev);
	s64 faults = atomic64_read(&ddev->engine.stats.dma_faults);
	struct device *dev = ddev->drm.dev;
	struct page *page;
	dma_addr_t addr;
	u8 *p;

	if (!ddev->engine.iommu)
		kunit_skip(test, "no translating IOMMU: a stale bus address is still the page's");
	page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	KUNIT_ASSERT_NOT_NULL(test, page);
	addr = dma_map_page(dev, page, 0, PAGE_SIZE, DMA_BIDIRECTIONAL);
	if (dma_mapping_error(dev, addr)) {
		__free_page(page);
		KUNIT_FAIL(test, "dma_map_page failed");
		return;
	}
	/* Mapped, the engine reaches it. */
	KUNIT_EXPECT_EQ(test, fill_bus_address(test, bo, addr), 0);
	dma_unmap_page(dev, addr, PAGE_SIZE, DMA_BIDIRECTIONAL);
	p = kmap_local_page(page);
	KUNIT_EXPECT_EQ(test, p[0], 0x5a);
	memset(p, 0, PAGE_SIZE);
	kunmap_local(p);

	/* Unmapped, it faults and the page stays as it is. */
	KUNIT_EXPECT_EQ(test, fill_bus_address(test, bo, addr), -EFAULT);
	KUNIT_EXPECT_EQ(test, atomic64_read(&ddev->engine.stats.dma_faults), faults + 1);
	p = kmap_local_page(page);
	KUNIT_EXPECT_NULL(test, memchr_inv(p, 0, PAGE_SIZE));
	kunmap_local(p);
	__free_page(page);
}

static struct kunit_case dgmm_engine_cases[] = {
	KUNIT_CASE_PARAM(engine_waits_for_dependency, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(engine_ignores_dependency_errors, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(engine_completes_in_order, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(engine_copies_bytes, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(engine_gtt_has_bus_addresses, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(engine_faults_on_unmapped_address, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(engine_faults_on_stale_address, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(engine_bounds_foreign_dependencies, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(engine_resets_hung_job, dgmm_kunit_device_gen),
	{}
};

static struct kunit_suite dgmm_engine_suite = {
	.name = "dgmm_engine",
	.test_cases = dgmm_engine_cases,
};

kunit_test_suite(dgmm_engine_suite);
