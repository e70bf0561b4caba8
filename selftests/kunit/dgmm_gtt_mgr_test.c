// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * KUnit suite for the GTT manager, on each probed device: accounting, the
 * size limit (-ENOSPC at the byte it is crossed) and ranged places.
 */

#include <kunit/test.h>

#include "dgmm_kunit.h"

static const struct ttm_place gtt_place = { .mem_type = TTM_PL_TT };

static void gtt_usage(struct dgmm_device *ddev, struct dgmm_region_usage *u)
{
	dgmm_mm_region_usage(&ddev->mm, TTM_PL_TT, u);
}

static void gtt_alloc_free(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_region_usage before, during, after;
	const u64 size = 5 * PAGE_SIZE;
	struct dgmm_kunit_alloc *a;

	gtt_usage(ddev, &before);
	a = dgmm_kunit_alloc(test, ddev, size, &gtt_place);
	KUNIT_ASSERT_EQ(test, a->err, 0);
	KUNIT_EXPECT_EQ(test, a->res->mem_type, TTM_PL_TT);
	KUNIT_EXPECT_EQ(test, a->res->size, size);

	gtt_usage(ddev, &during);
	KUNIT_EXPECT_EQ(test, during.used, before.used + size);
	KUNIT_EXPECT_EQ(test, ttm_resource_manager_usage(&ddev->mm.gtt.manager),
			during.used);

	dgmm_kunit_free(a);
	gtt_usage(ddev, &after);
	KUNIT_EXPECT_EQ(test, after.used, before.used);
}

static void gtt_limit(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_kunit_alloc *most, *last, *over;
	struct dgmm_region_usage u;

	gtt_usage(ddev, &u);
	KUNIT_ASSERT_GE(test, u.size - u.used, 2 * PAGE_SIZE);

	most = dgmm_kunit_alloc(test, ddev, u.size - u.used - PAGE_SIZE, &gtt_place);
	KUNIT_ASSERT_EQ(test, most->err, 0);
	over = dgmm_kunit_alloc(test, ddev, 2 * PAGE_SIZE, &gtt_place);
	KUNIT_EXPECT_EQ(test, over->err, -ENOSPC);
	last = dgmm_kunit_alloc(test, ddev, PAGE_SIZE, &gtt_place);
	KUNIT_EXPECT_EQ(test, last->err, 0);
	gtt_usage(ddev, &u);
	KUNIT_EXPECT_EQ(test, u.used, u.size);

	over = dgmm_kunit_alloc(test, ddev, PAGE_SIZE, &gtt_place);
	KUNIT_EXPECT_EQ(test, over->err, -ENOSPC);
	dgmm_kunit_free(last);
	over = dgmm_kunit_alloc(test, ddev, PAGE_SIZE, &gtt_place);
	KUNIT_EXPECT_EQ(test, over->err, 0);
}

static void gtt_too_big(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_region_usage before, after;
	struct dgmm_kunit_alloc *a;

	gtt_usage(ddev, &before);
	a = dgmm_kunit_alloc(test, ddev, before.size + PAGE_SIZE, &gtt_place);
	KUNIT_EXPECT_EQ(test, a->err, -ENOSPC);
	gtt_usage(ddev, &after);
	KUNIT_EXPECT_EQ(test, after.used, before.used);
}

/* GTT has no address space: a place that names a page range cannot be met. */
static void gtt_range_unsatisfiable(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct ttm_place ranged = { .mem_type = TTM_PL_TT, .lpfn = 16 };
	struct dgmm_kunit_alloc *a;

	a = dgmm_kunit_alloc(test, ddev, PAGE_SIZE, &ranged);
	KUNIT_EXPECT_EQ(test, a->err, -ENOSPC);
}

static struct kunit_case dgmm_gtt_mgr_cases[] = {
	KUNIT_CASE_PARAM(gtt_alloc_free, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(gtt_limit, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(gtt_too_big, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(gtt_range_unsatisfiable, dgmm_kunit_device_gen),
	{}
};

static struct kunit_suite dgmm_gtt_mgr_suite = {
	.name = "dgmm_gtt_mgr",
	.test_cases = dgmm_gtt_mgr_cases,
};

kunit_test_suite(dgmm_gtt_mgr_suite);
