// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * KUnit suite for the VRAM manager, on each probed device: allocation and
 * accounting, exhaustion, the CPU-visible window, top-down, ranges and
 * contiguous allocations on a fresh and on a fragmented allocator, and which
 * freed resources give their blocks back as cleared.
 */

#include <kunit/test.h>
#include <linux/dma-fence.h>
#include <drm/ttm/ttm_device.h>

#include "ttm_backend/dgmm_copy.h"

#include "dgmm_kunit.h"

#define VRAM_PLACE(_fpfn, _lpfn, _flags) \
	((struct ttm_place){ .fpfn = (_fpfn), .lpfn = (_lpfn), \
			     .mem_type = TTM_PL_VRAM, .flags = (_flags) })

static struct dgmm_vram_resource *vres_of(struct dgmm_kunit_alloc *a)
{
	return to_dgmm_vram_resource(a->res);
}

/* Checks every block of @a lies in [start, end) and returns their total size. */
static u64 check_blocks_in(struct kunit *test, struct dgmm_device *ddev,
			   struct dgmm_kunit_alloc *a, u64 start, u64 end)
{
	struct gpu_buddy *mm = &ddev->mm.vram.mm;
	struct gpu_buddy_block *block;
	u64 total = 0;

	list_for_each_entry(block, &vres_of(a)->blocks, link) {
		u64 offset = gpu_buddy_block_offset(block);
		u64 size = gpu_buddy_block_size(mm, block);

		KUNIT_EXPECT_GE(test, offset, start);
		KUNIT_EXPECT_LE(test, offset + size, end);
		total += size;
	}
	return total;
}

static u64 vram_size(struct dgmm_device *ddev)
{
	return ddev->mm.vram.manager.size;
}

static u64 visible_pages(struct dgmm_device *ddev)
{
	return ddev->mm.vram.visible_size >> PAGE_SHIFT;
}

static void vram_usage(struct dgmm_device *ddev, struct dgmm_region_usage *u)
{
	dgmm_mm_region_usage(&ddev->mm, TTM_PL_VRAM, u);
}

static void vram_alloc_free(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	const u64 size = SZ_1M + 3 * PAGE_SIZE;
	struct dgmm_region_usage before, during, after;
	struct ttm_place place = VRAM_PLACE(0, 0, 0);
	struct dgmm_kunit_alloc *a;

	vram_usage(ddev, &before);
	KUNIT_EXPECT_EQ(test, before.size, (u64)ddev->vram_bar_size);

	a = dgmm_kunit_alloc(test, ddev, size, &place);
	KUNIT_ASSERT_EQ(test, a->err, 0);
	KUNIT_EXPECT_EQ(test, a->res->size, size);
	KUNIT_EXPECT_EQ(test, a->res->mem_type, TTM_PL_VRAM);
	KUNIT_EXPECT_EQ(test, check_blocks_in(test, ddev, a, 0, vram_size(ddev)), size);

	vram_usage(ddev, &during);
	KUNIT_EXPECT_EQ(test, during.used, before.used + size);
	KUNIT_EXPECT_EQ(test, during.visible_used,
			before.visible_used + vres_of(a)->used_visible_size);

	dgmm_kunit_free(a);
	vram_usage(ddev, &after);
	KUNIT_EXPECT_EQ(test, after.used, before.used);
	KUNIT_EXPECT_EQ(test, after.visible_used, before.visible_used);
}

static void vram_exhaustion(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct ttm_place place = VRAM_PLACE(0, 0, 0);
	struct dgmm_kunit_alloc *all, *one;
	struct dgmm_region_usage u;

	vram_usage(ddev, &u);
	KUNIT_ASSERT_LT(test, u.used, u.size);

	all = dgmm_kunit_alloc(test, ddev, u.size - u.used, &place);
	KUNIT_ASSERT_EQ(test, all->err, 0);
	vram_usage(ddev, &u);
	KUNIT_EXPECT_EQ(test, u.used, u.size);
	KUNIT_EXPECT_EQ(test, u.visible_used, u.visible_size);

	one = dgmm_kunit_alloc(test, ddev, PAGE_SIZE, &place);
	KUNIT_EXPECT_EQ(test, one->err, -ENOSPC);

	dgmm_kunit_free(all);
	one = dgmm_kunit_alloc(test, ddev, PAGE_SIZE, &place);
	KUNIT_EXPECT_EQ(test, one->err, 0);
}

static void vram_too_big(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct ttm_place place = VRAM_PLACE(0, 0, 0);
	struct ttm_place visible = VRAM_PLACE(0, visible_pages(ddev), 0);
	struct dgmm_region_usage before, after;
	struct dgmm_kunit_alloc *a;

	vram_usage(ddev, &before);
	a = dgmm_kunit_alloc(test, ddev, vram_size(ddev) + PAGE_SIZE, &place);
	KUNIT_EXPECT_EQ(test, a->err, -ENOSPC);
	a = dgmm_kunit_alloc(test, ddev, ddev->mm.vram.visible_size + PAGE_SIZE, &visible);
	KUNIT_EXPECT_EQ(test, a->err, -ENOSPC);
	vram_usage(ddev, &after);
	KUNIT_EXPECT_EQ(test, after.used, before.used);
	KUNIT_EXPECT_EQ(test, after.visible_used, before.visible_used);
}

static void vram_visible_window(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	u64 visible = ddev->mm.vram.visible_size;
	struct ttm_place in_window = VRAM_PLACE(0, visible_pages(ddev), 0);
	struct ttm_place anywhere = VRAM_PLACE(0, 0, 0);
	struct dgmm_kunit_alloc *a, *rest, *more;
	struct dgmm_region_usage u;
	const u64 size = SZ_2M;

	a = dgmm_kunit_alloc(test, ddev, size, &in_window);
	KUNIT_ASSERT_EQ(test, a->err, 0);
	KUNIT_EXPECT_EQ(test, check_blocks_in(test, ddev, a, 0, visible), size);
	KUNIT_EXPECT_EQ(test, vres_of(a)->used_visible_size, size);

	/* Fill the rest of the window: one more visible page cannot fit... */
	vram_usage(ddev, &u);
	rest = dgmm_kunit_alloc(test, ddev, u.visible_size - u.visible_used, &in_window);
	KUNIT_ASSERT_EQ(test, rest->err, 0);
	more = dgmm_kunit_alloc(test, ddev, PAGE_SIZE, &in_window);
	KUNIT_EXPECT_EQ(test, more->err, -ENOSPC);

	/* ...but one anywhere in VRAM fits exactly when VRAM is bigger. */
	more = dgmm_kunit_alloc(test, ddev, PAGE_SIZE, &anywhere);
	KUNIT_EXPECT_EQ(test, more->err, visible < vram_size(ddev) ? 0 : -ENOSPC);
	if (!more->err)
		KUNIT_EXPECT_EQ(test, vres_of(more)->used_visible_size, 0);
}

static void vram_topdown(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct ttm_place place = VRAM_PLACE(0, 0, TTM_PL_FLAG_TOPDOWN);
	struct gpu_buddy *mm = &ddev->mm.vram.mm;
	struct gpu_buddy_block *last;
	struct dgmm_kunit_alloc *a;

	a = dgmm_kunit_alloc(test, ddev, SZ_1M, &place);
	KUNIT_ASSERT_EQ(test, a->err, 0);
	last = list_last_entry(&vres_of(a)->blocks, struct gpu_buddy_block, link);
	KUNIT_EXPECT_EQ(test, gpu_buddy_block_offset(last) + gpu_buddy_block_size(mm, last),
			vram_size(ddev));
	if (ddev->mm.vram.visible_size + SZ_1M <= vram_size(ddev))
		KUNIT_EXPECT_EQ(test, vres_of(a)->used_visible_size, 0);
}

static void vram_range(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	u64 start = vram_size(ddev) / 4, end = vram_size(ddev) / 2;
	struct ttm_place place = VRAM_PLACE(start >> PAGE_SHIFT, end >> PAGE_SHIFT, 0);
	struct dgmm_kunit_alloc *a;

	a = dgmm_kunit_alloc(test, ddev, SZ_4M + PAGE_SIZE, &place);
	KUNIT_ASSERT_EQ(test, a->err, 0);
	KUNIT_EXPECT_EQ(test, check_blocks_in(test, ddev, a, start, end), SZ_4M + PAGE_SIZE);

	a = dgmm_kunit_alloc(test, ddev, end - start + PAGE_SIZE, &place);
	KUNIT_EXPECT_EQ(test, a->err, -ENOSPC);
}

static void expect_contiguous(struct kunit *test, struct dgmm_device *ddev,
			      struct dgmm_kunit_alloc *a, u64 size)
{
	struct gpu_buddy *mm = &ddev->mm.vram.mm;
	struct gpu_buddy_block *block;
	u64 next = a->res->start << PAGE_SHIFT;

	KUNIT_EXPECT_TRUE(test, a->res->placement & TTM_PL_FLAG_CONTIGUOUS);
	list_for_each_entry(block, &vres_of(a)->blocks, link) {
		KUNIT_EXPECT_EQ(test, gpu_buddy_block_offset(block), next);
		next = gpu_buddy_block_offset(block) + gpu_buddy_block_size(mm, block);
	}
	KUNIT_EXPECT_EQ(test, next - (a->res->start << PAGE_SHIFT), size);
}

static void vram_contiguous(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct ttm_place place = VRAM_PLACE(0, 0, TTM_PL_FLAG_CONTIGUOUS);
	struct ttm_place visible = VRAM_PLACE(0, visible_pages(ddev), TTM_PL_FLAG_CONTIGUOUS);
	const u64 size = 3 * SZ_1M + PAGE_SIZE;
	struct dgmm_kunit_alloc *a;

	a = dgmm_kunit_alloc(test, ddev, size, &place);
	KUNIT_ASSERT_EQ(test, a->err, 0);
	expect_contiguous(test, ddev, a, size);

	a = dgmm_kunit_alloc(test, ddev, size, &visible);
	KUNIT_ASSERT_EQ(test, a->err, 0);
	expect_contiguous(test, ddev, a, size);
	KUNIT_EXPECT_LE(test, (a->res->start << PAGE_SHIFT) + size,
			ddev->mm.vram.visible_size);
}

/*
 * Fill VRAM with 1 MiB pieces and free every other one: half of VRAM is free,
 * but no free run is longer than 1 MiB. A contiguous 2 MiB request must fail
 * with -ENOSPC while a scattered one succeeds, and a scattered one in the
 * window gets the bus address of its first page.
 */
static void vram_contiguous_fragmented(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct ttm_place contig = VRAM_PLACE(0, 0, TTM_PL_FLAG_CONTIGUOUS);
	struct ttm_place place = VRAM_PLACE(0, 0, 0);
	struct ttm_place in_window = VRAM_PLACE(0, visible_pages(ddev), 0);
	struct dgmm_kunit_alloc **pieces, *a;
	struct dgmm_region_usage u;
	u64 contiguous, first;
	unsigned int n, i;

	vram_usage(ddev, &u);
	KUNIT_ASSERT_EQ_MSG(test, u.used, 0, "test needs an idle device");
	n = u.size / SZ_1M;
	pieces = kunit_kcalloc(test, n, sizeof(*pieces), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pieces);

	for (i = 0; i < n; i++) {
		pieces[i] = dgmm_kunit_alloc(test, ddev, SZ_1M, &contig);
		KUNIT_ASSERT_EQ(test, pieces[i]->err, 0);
	}
	for (i = 0; i < n; i += 2)
		dgmm_kunit_free(pieces[i]);

	a = dgmm_kunit_alloc(test, ddev, SZ_2M, &contig);
	KUNIT_EXPECT_EQ(test, a->err, -ENOSPC);
	a = dgmm_kunit_alloc(test, ddev, SZ_2M, &place);
	KUNIT_ASSERT_EQ(test, a->err, 0);
	KUNIT_EXPECT_FALSE(test, a->res->placement & TTM_PL_FLAG_CONTIGUOUS);

	/*
	 * The same in the window, where the CPU maps it: its bus address is its
	 * first page's in the BAR (a non-contiguous resource used to get 0).
	 */
	a = dgmm_kunit_alloc(test, ddev, SZ_2M, &in_window);
	KUNIT_ASSERT_EQ(test, a->err, 0);
	KUNIT_ASSERT_TRUE(test, dgmm_vram_mgr_visible(a->res));
	KUNIT_EXPECT_FALSE(test, a->res->placement & TTM_PL_FLAG_CONTIGUOUS);
	first = dgmm_vram_mgr_offset(&ddev->mm.vram, a->res, 0, &contiguous);
	KUNIT_EXPECT_EQ(test, contiguous, (u64)SZ_1M);
	KUNIT_ASSERT_EQ(test, ddev->mm.ttm.funcs->io_mem_reserve(&ddev->mm.ttm, a->res), 0);
	KUNIT_EXPECT_TRUE(test, a->res->bus.is_iomem);
	KUNIT_EXPECT_EQ(test, a->res->bus.offset, ddev->mm.vram_io_start + first);
}

/* How a resource was left before it was freed. */
enum clear_state {
	NEVER_CLEARED,		/* nobody said it reads zero */
	CLEARED_NOW,		/* its blocks were all clear already */
	CLEARED_BY_FENCE,	/* a clear job that succeeded */
	CLEAR_FAILED,		/* a clear job that failed */
	CLEAR_PENDING,		/* a clear job still running when it is freed */
	CLEARED_THEN_DIRTY,	/* cleared, then someone could write it */
};

struct clear_case {
	const char *name;
	enum clear_state state;
	bool comes_back_clear;
};

static const struct clear_case clear_cases[] = {
	{ "never cleared", NEVER_CLEARED, false },
	{ "cleared without a job", CLEARED_NOW, true },
	{ "cleared by a job", CLEARED_BY_FENCE, true },
	{ "clear job failed", CLEAR_FAILED, false },
	{ "clear job pending", CLEAR_PENDING, false },
	{ "cleared, then written", CLEARED_THEN_DIRTY, false },
};

static void clear_case_desc(const struct clear_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(clear_case, clear_cases, clear_case_desc);

/* Writes zeroes over every block of an allocation, through the BAR. */
static void zero_blocks(struct dgmm_device *ddev, struct dgmm_kunit_alloc *a)
{
	struct gpu_buddy_block *block;

	list_for_each_entry(block, &vres_of(a)->blocks, link)
		memset_io(ddev->mm.vram_map + gpu_buddy_block_offset(block), 0,
			  gpu_buddy_block_size(&ddev->mm.vram.mm, block));
}

static u64 clear_avail(struct dgmm_device *ddev)
{
	struct dgmm_vram_mgr *mgr = &ddev->mm.vram;
	u64 avail;

	mutex_lock(&mgr->lock);
	avail = mgr->mm.clear_avail;
	mutex_unlock(&mgr->lock);
	return avail;
}

/*
 * A freed resource gives its blocks back as cleared only when it reads zero
 * for sure: marked cleared, its clear job (if any) done without error, and
 * not marked dirty since. On the first device only: the table is about the
 * manager, not the device.
 */
static void vram_cleared_on_free(struct kunit *test)
{
	const struct clear_case *c = test->param_value;
	struct ttm_place place = VRAM_PLACE(0, 0, 0);
	struct dgmm_device *ddev = dgmm_kunit_device_get_first(test);
	struct dgmm_kunit_alloc *a;
	struct dma_fence *fence = NULL;
	u64 before;

	a = dgmm_kunit_alloc(test, ddev, SZ_1M, &place);
	KUNIT_ASSERT_EQ(test, a->err, 0);
	/* What goes back as cleared must be zero: this device runs more tests. */
	zero_blocks(ddev, a);

	if (c->state == CLEARED_BY_FENCE || c->state == CLEAR_FAILED ||
	    c->state == CLEAR_PENDING) {
		fence = dgmm_kunit_fence(test);
		if (c->state == CLEAR_FAILED)
			dma_fence_set_error(fence, -EIO);
		if (c->state != CLEAR_PENDING)
			dma_fence_signal(fence);
	}
	if (c->state != NEVER_CLEARED)
		dgmm_vram_mgr_set_cleared(a->res, fence);
	if (c->state == CLEARED_THEN_DIRTY)
		dgmm_vram_mgr_mark_dirty(a->res);

	before = clear_avail(ddev);
	dgmm_kunit_free(a);
	KUNIT_EXPECT_EQ(test, clear_avail(ddev) - before, c->comes_back_clear ? SZ_1M : 0);
	if (fence && !dma_fence_is_signaled(fence))
		dma_fence_signal(fence);
}

/*
 * With cleared blocks only inside the CPU-visible window and dirty VRAM
 * above it, a top-down allocation for a BO that holds no data still goes
 * above the window: the preference for cleared blocks must not take the
 * window from the BOs that need it.
 */
static void vram_topdown_keeps_window(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct ttm_place anywhere = VRAM_PLACE(0, 0, 0);
	struct ttm_place window = VRAM_PLACE(0, visible_pages(ddev), 0);
	struct ttm_place topdown = VRAM_PLACE(0, 0, TTM_PL_FLAG_TOPDOWN);
	struct dgmm_region_usage u;
	struct dgmm_kunit_alloc *a;

	if (ddev->mm.vram.visible_size + SZ_2M > vram_size(ddev))
		kunit_skip(test, "the window is (almost) all of VRAM");

	/* All free VRAM back as dirty, then 1 MiB in the window as cleared. */
	vram_usage(ddev, &u);
	a = dgmm_kunit_alloc(test, ddev, u.size - u.used, &anywhere);
	KUNIT_ASSERT_EQ(test, a->err, 0);
	dgmm_kunit_free(a);
	a = dgmm_kunit_alloc(test, ddev, SZ_1M, &window);
	KUNIT_ASSERT_EQ(test, a->err, 0);
	zero_blocks(ddev, a);
	dgmm_vram_mgr_set_cleared(a->res, NULL);
	dgmm_kunit_free(a);
	KUNIT_ASSERT_GE(test, clear_avail(ddev), (u64)SZ_1M);

	a = dgmm_kunit_alloc(test, ddev, SZ_1M, &topdown);
	KUNIT_ASSERT_EQ(test, a->err, 0);
	KUNIT_EXPECT_EQ(test, vres_of(a)->used_visible_size, 0);
}

static struct kunit_case dgmm_vram_mgr_cases[] = {
	KUNIT_CASE_PARAM(vram_alloc_free, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(vram_exhaustion, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(vram_too_big, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(vram_visible_window, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(vram_topdown, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(vram_range, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(vram_contiguous, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(vram_contiguous_fragmented, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(vram_cleared_on_free, clear_case_gen_params),
	KUNIT_CASE_PARAM(vram_topdown_keeps_window, dgmm_kunit_device_gen),
	{}
};

static struct kunit_suite dgmm_vram_mgr_suite = {
	.name = "dgmm_vram_mgr",
	.test_cases = dgmm_vram_mgr_cases,
};

kunit_test_suite(dgmm_vram_mgr_suite);
