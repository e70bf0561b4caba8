// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * KUnit suite for the copy engine, on each probed device: a job waits for
 * the fences of the reservation object it is given, a failed dependency
 * makes the job fail without touching memory, and jobs complete in
 * submission order even when a later one is ready first.
 */

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/dma-fence.h>
#include <linux/io.h>

#include "ttm_backend/dgmm_bo.h"
#include "dgmm_kunit.h"

struct test_fence {
	struct dma_fence base;	/* first: freed by dma_fence_free() */
	spinlock_t lock;	/* the fence's lock */
};

static const char *test_fence_name(struct dma_fence *f)
{
	return "dgmm-kunit";
}

static const struct dma_fence_ops test_fence_ops = {
	.get_driver_name = test_fence_name,
	.get_timeline_name = test_fence_name,
};

static void fence_put_action(void *fence)
{
	dma_fence_put(fence);
}

/* An unsignalled fence the test signals itself, released when the test ends. */
static struct dma_fence *test_fence(struct kunit *test)
{
	struct test_fence *f = kzalloc(sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	spin_lock_init(&f->lock);
	dma_fence_init(&f->base, &test_fence_ops, &f->lock, dma_fence_context_alloc(1), 1);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, fence_put_action, &f->base));
	return &f->base;
}

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
	err = dgmm_vram_mgr_snapshot(&bo->mm->vram, bo->tbo.resource, &mem);
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
	fence = engine->funcs->fill(engine, &mem, bo->tbo.base.size, value, resv);
	dma_resv_unlock(resv);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, fence);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, fence_put_action, fence));
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
	struct dma_fence *dep = test_fence(test), *job;

	job = submit_fill(test, bo, 0x55, dep);
	msleep(50);
	KUNIT_EXPECT_FALSE(test, dma_fence_is_signaled(job));
	KUNIT_EXPECT_EQ(test, first_byte(bo), 0);

	dma_fence_signal(dep);
	KUNIT_ASSERT_GT(test, dma_fence_wait_timeout(job, false, 10 * HZ), 0);
	KUNIT_EXPECT_EQ(test, job->error, 0);
	KUNIT_EXPECT_EQ(test, first_byte(bo), 0x55);
}

static void engine_propagates_errors(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_bo *bo = vram_bo(test, ddev);
	struct dma_fence *dep = test_fence(test), *job;

	job = submit_fill(test, bo, 0x66, dep);
	dma_fence_set_error(dep, -EIO);
	dma_fence_signal(dep);
	KUNIT_ASSERT_GT(test, dma_fence_wait_timeout(job, false, 10 * HZ), 0);
	KUNIT_EXPECT_EQ(test, job->error, -EIO);
	KUNIT_EXPECT_EQ(test, first_byte(bo), 0);	/* the job did not run */
}

/* A ready job queued behind a waiting one completes after it. */
static void engine_completes_in_order(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_bo *a = vram_bo(test, ddev), *b = vram_bo(test, ddev);
	struct dma_fence *dep = test_fence(test), *first, *second;

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

static struct kunit_case dgmm_engine_cases[] = {
	KUNIT_CASE_PARAM(engine_waits_for_dependency, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(engine_propagates_errors, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(engine_completes_in_order, dgmm_kunit_device_gen),
	{}
};

static struct kunit_suite dgmm_engine_suite = {
	.name = "dgmm_engine",
	.test_cases = dgmm_engine_cases,
};

kunit_test_suite(dgmm_engine_suite);
