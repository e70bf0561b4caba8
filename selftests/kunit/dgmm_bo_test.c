// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * KUnit suite for buffer objects on each probed device: new BOs read as zero
 * in every domain, a pattern survives every one of the six moves between
 * VRAM, GTT and SYSTEM (run on the copy engine, pipelined), freed VRAM comes
 * back cleared, VRAM nobody wrote is not cleared twice, and contents
 * survive eviction when VRAM is oversubscribed and swapout by TTM.
 */

#include <kunit/test.h>
#include <linux/io.h>
#include <linux/sizes.h>
#include <linux/uaccess.h>
#include <drm/ttm/ttm_tt.h>

#include "ttm_backend/dgmm_bo.h"
#include "dgmm_kunit.h"

#define S DGMM_DOMAIN_SYSTEM
#define G DGMM_DOMAIN_GTT
#define V DGMM_DOMAIN_VRAM

static void bo_access(struct kunit *test, struct dgmm_bo *bo, u64 offset, void *buf,
		      u64 len, bool write)
{
	int err;

	dgmm_kunit_bo_lock_idle(test, bo);
	err = dgmm_kunit_bo_access_locked(bo, offset, buf, len, write);
	ttm_bo_unreserve(&bo->tbo);
	KUNIT_ASSERT_EQ(test, err, 0);
}

/* Writes (or, with @check, verifies) the pattern of @seed over the whole BO. */
static void bo_pattern(struct kunit *test, struct dgmm_bo *bo, u32 seed, bool check)
{
	u64 size = bo->tbo.base.size, off;
	u32 *buf;

	buf = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (off = 0; off < size; off += PAGE_SIZE) {
		unsigned int i;

		if (check) {
			bo_access(test, bo, off, buf, PAGE_SIZE, false);
			for (i = 0; i < PAGE_SIZE / 4; i++)
				KUNIT_ASSERT_EQ_MSG(test, buf[i],
						    dgmm_kunit_pattern(seed, off / 4 + i),
						    "byte %llu", off + i * 4);
		} else {
			for (i = 0; i < PAGE_SIZE / 4; i++)
				buf[i] = dgmm_kunit_pattern(seed, off / 4 + i);
			bo_access(test, bo, off, buf, PAGE_SIZE, true);
		}
	}
	kunit_kfree(test, buf);
}

static void expect_zero(struct kunit *test, struct dgmm_bo *bo)
{
	u64 size = bo->tbo.base.size, off;
	u8 *buf;

	buf = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (off = 0; off < size; off += PAGE_SIZE) {
		bo_access(test, bo, off, buf, PAGE_SIZE, false);
		KUNIT_ASSERT_TRUE_MSG(test, !memchr_inv(buf, 0, PAGE_SIZE),
				      "non-zero byte in page at %llu", off);
	}
	kunit_kfree(test, buf);
}

static s64 stat(atomic64_t *counter)
{
	return atomic64_read(counter);
}

/* Bytes the engine has copied for the device's moves, in all directions. */
static s64 bytes_copied(struct dgmm_device *ddev)
{
	s64 sum = 0;
	u32 from, to;

	for (from = 0; from <= TTM_PL_VRAM; from++)
		for (to = 0; to <= TTM_PL_VRAM; to++)
			sum += stat(&ddev->mm.stats.bytes[from][to]);
	return sum;
}

/*
 * New BOs read as zero in every domain. QEMU's memory starts zeroed, so for
 * VRAM this first writes all free VRAM and frees it: the new BO, as big as
 * all of it, must be cleared, not found clean.
 */
static void bo_create_zeroed(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	static const u32 domains[] = { V, G, S };
	struct dgmm_region_usage u;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(domains); i++) {
		u64 size = SZ_1M + PAGE_SIZE;
		struct dgmm_bo *bo;

		if (domains[i] == V) {
			dgmm_mm_region_usage(&ddev->mm, TTM_PL_VRAM, &u);
			size = u.size - u.used;
			bo = dgmm_kunit_bo_create(test, ddev, size, V, V, 0);
			dgmm_kunit_bo_stamp(test, bo, 0xd1a7, false);
			kunit_release_action(test, dgmm_kunit_bo_release, bo);
		}
		bo = dgmm_kunit_bo_create(test, ddev, size, domains[i], domains[i], 0);
		KUNIT_EXPECT_EQ(test, dgmm_kunit_bo_domain(test, bo), domains[i]);
		expect_zero(test, bo);
		kunit_release_action(test, dgmm_kunit_bo_release, bo);
	}
}

/* V->G->S->V->S->G->V: each of the six directed moves once. */
static void bo_six_transitions(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	static const u32 path[] = { G, S, V, S, G, V };
	struct dgmm_bo_state st;
	struct dgmm_bo *bo;
	unsigned int i;
	u64 moves;

	bo = dgmm_kunit_bo_create(test, ddev, SZ_4M + 3 * PAGE_SIZE, V, V | G | S, 0);
	KUNIT_ASSERT_EQ(test, dgmm_kunit_bo_domain(test, bo), V);
	bo_pattern(test, bo, 0x5eed, false);
	KUNIT_ASSERT_EQ(test, 0, dgmm_bo_state(bo, &st));
	moves = st.move_count;

	for (i = 0; i < ARRAY_SIZE(path); i++) {
		bool copies = st.domain == V || path[i] == V;
		s64 before = bytes_copied(ddev);

		KUNIT_ASSERT_EQ(test, 0, dgmm_bo_migrate(bo, path[i], NULL));
		/* Only what the engine copies counts: not SYSTEM<->GTT. */
		KUNIT_EXPECT_EQ_MSG(test, bytes_copied(ddev) - before,
				    copies ? (s64)bo->tbo.base.size : 0, "step %u", i);
		KUNIT_ASSERT_EQ(test, 0, dgmm_bo_state(bo, &st));
		KUNIT_EXPECT_EQ_MSG(test, st.domain, path[i], "step %u", i);
		KUNIT_EXPECT_GT(test, st.move_count, moves);
		moves = st.move_count;
		bo_pattern(test, bo, 0x5eed, true);
	}
	KUNIT_EXPECT_EQ(test, 0, dgmm_bo_wait(bo, 0));
}

static void bo_migrate_rejects(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_bo *bo = dgmm_kunit_bo_create(test, ddev, SZ_64K, G, G | S, 0);
	const char *why = NULL;

	KUNIT_EXPECT_EQ(test, dgmm_bo_migrate(bo, V, &why), -EINVAL);
	KUNIT_EXPECT_NOT_NULL(test, why);
	KUNIT_EXPECT_EQ(test, dgmm_bo_migrate(bo, G | S, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, dgmm_bo_migrate(bo, 0, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, dgmm_kunit_bo_domain(test, bo), G);
}

/* VRAM written by one BO and freed reads as zero in the next one. */
static void bo_vram_cleared_on_reuse(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_region_usage u;
	struct dgmm_bo *bo;
	unsigned int i;

	for (i = 0; i < 2; i++) {
		dgmm_mm_region_usage(&ddev->mm, TTM_PL_VRAM, &u);
		/* Take all free VRAM so the second BO must reuse the first's. */
		bo = dgmm_kunit_bo_create(test, ddev, u.size - u.used, V, V, 0);
		expect_zero(test, bo);
		bo_pattern(test, bo, 0xdead, false);
		kunit_release_action(test, dgmm_kunit_bo_release, bo);
	}
}

/*
 * All free VRAM in one BO, three times: the first is zeroed on the engine;
 * left untouched, its blocks go back cleared and the second BO costs no
 * clear at all; the second is written, so the third is zeroed again, all of
 * it. Zeroing copies nothing: no bytes moved are counted for it.
 */
static void bo_vram_clear_tracking(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	typeof(ddev->mm.stats) *st = &ddev->mm.stats;
	struct dgmm_region_usage u;
	s64 clears, skipped, cleared, moved;
	struct dgmm_bo *bo;
	u64 all;

	dgmm_mm_region_usage(&ddev->mm, TTM_PL_VRAM, &u);
	all = u.size - u.used;
	moved = bytes_copied(ddev);

	bo = dgmm_kunit_bo_create(test, ddev, all, V, V, 0);
	expect_zero(test, bo);
	kunit_release_action(test, dgmm_kunit_bo_release, bo);

	clears = stat(&st->clears);
	skipped = stat(&st->clears_skipped);
	bo = dgmm_kunit_bo_create(test, ddev, all, V, V, 0);
	KUNIT_EXPECT_EQ(test, stat(&st->clears), clears);
	KUNIT_EXPECT_EQ(test, stat(&st->clears_skipped), skipped + 1);
	expect_zero(test, bo);
	bo_pattern(test, bo, 0xc1ea, false);
	kunit_release_action(test, dgmm_kunit_bo_release, bo);

	cleared = stat(&st->cleared_bytes);
	bo = dgmm_kunit_bo_create(test, ddev, all, V, V, 0);
	KUNIT_EXPECT_EQ(test, stat(&st->clears), clears + 1);
	KUNIT_EXPECT_EQ(test, stat(&st->cleared_bytes), cleared + all);
	expect_zero(test, bo);
	KUNIT_EXPECT_EQ(test, bytes_copied(ddev), moved);
}

/*
 * More VRAM-preferred BOs than VRAM holds, by a quarter of GTT: the later
 * ones evict earlier ones to GTT (pipelined, on the engine). Every page must
 * keep its contents.
 */
static void bo_evict_oversubscribed(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	const u64 size = SZ_8M;
	unsigned int n, i, in_gtt = 0;
	struct dgmm_region_usage u;
	struct dgmm_bo **bos;

	dgmm_mm_region_usage(&ddev->mm, TTM_PL_VRAM, &u);
	n = (u.size - u.used + ddev->mm.limits.gtt_size / 4) / size;
	bos = kunit_kcalloc(test, n, sizeof(*bos), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bos);

	for (i = 0; i < n; i++) {
		bos[i] = dgmm_kunit_bo_create(test, ddev, size, V, V | G, 0);
		dgmm_kunit_bo_stamp(test, bos[i], i, false);
	}
	for (i = 0; i < n; i++) {
		in_gtt += dgmm_kunit_bo_domain(test, bos[i]) == G;
		dgmm_kunit_bo_stamp(test, bos[i], i, true);
	}
	KUNIT_EXPECT_GT(test, in_gtt, 0);
}

/*
 * A BO without CPU access stays out of the CPU-visible window even when
 * the only VRAM of the kind the allocator prefers lies in it: here the BO
 * holds data (so dirty blocks are preferred), all VRAM above the window is
 * cleared and one MiB in the window is dirty.
 */
static void bo_topdown_keeps_window(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_region_usage u;
	struct dgmm_bo_state st;
	struct dgmm_bo *bo;

	dgmm_mm_region_usage(&ddev->mm, TTM_PL_VRAM, &u);
	if (u.visible_size + SZ_4M > u.size)
		kunit_skip(test, "the window is (almost) all of VRAM");

	/* All free VRAM zeroed by a new BO, and given back cleared. */
	bo = dgmm_kunit_bo_create(test, ddev, u.size - u.used, V, V, 0);
	dgmm_kunit_bo_lock_idle(test, bo);
	ttm_bo_unreserve(&bo->tbo);
	kunit_release_action(test, dgmm_kunit_bo_release, bo);

	/* One MiB of the window written, and given back dirty. */
	bo = dgmm_kunit_bo_create(test, ddev, SZ_1M, V, V, DGMM_PLACE_CPU_ACCESS);
	bo_pattern(test, bo, 0xd1, false);
	kunit_release_action(test, dgmm_kunit_bo_release, bo);

	bo = dgmm_kunit_bo_create(test, ddev, SZ_1M, G, V | G, 0);
	bo_pattern(test, bo, 0x70d, false);
	KUNIT_ASSERT_EQ(test, 0, dgmm_bo_migrate(bo, V, NULL));
	KUNIT_ASSERT_EQ(test, 0, dgmm_bo_state(bo, &st));
	KUNIT_EXPECT_EQ(test, st.domain, V);
	KUNIT_EXPECT_FALSE_MSG(test, st.cpu_visible, "the BO took VRAM in the window");
	bo_pattern(test, bo, 0x70d, true);
}

/*
 * The only BO that can make room is locked by another thread (as by another
 * process in an ioctl or a fault): a migration waits for it instead of
 * failing with -ENOMEM, and then evicts it.
 */
static void bo_migrate_waits_for_locked_victim(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_kunit_lock_holder *h;
	struct dgmm_region_usage u;
	struct dgmm_bo *victim, *bo;
	int err;

	dgmm_mm_region_usage(&ddev->mm, TTM_PL_VRAM, &u);
	victim = dgmm_kunit_bo_create(test, ddev, u.size - u.used, V, V | G, 0);
	bo = dgmm_kunit_bo_create(test, ddev, SZ_1M, G, V | G, 0);
	bo_pattern(test, bo, 0x10c, false);

	h = dgmm_kunit_hold_lock(test, victim, 500);
	dgmm_kunit_lock_started(h);
	err = dgmm_bo_migrate(bo, V, NULL);
	KUNIT_EXPECT_TRUE_MSG(test, dgmm_kunit_lock_done(h),
			      "the migration did not wait for the lock (it returned %d)", err);
	KUNIT_EXPECT_EQ(test, err, 0);
	KUNIT_EXPECT_EQ(test, dgmm_kunit_bo_domain(test, bo), V);
	KUNIT_EXPECT_NE(test, dgmm_kunit_bo_domain(test, victim), V);
	bo_pattern(test, bo, 0x10c, true);
}

/*
 * The same for a CPU fault: a VRAM-only BO outside the CPU-visible window
 * is touched while the window is full of a BO another thread holds locked.
 * The fault waits for it and moves the BO into the window (no SIGBUS).
 */
static void bo_fault_waits_for_locked_victim(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_kunit_lock_holder *h;
	struct dgmm_region_usage u;
	struct dgmm_bo *victim, *bo;
	struct dgmm_bo_state st;
	unsigned long addr, left;
	u32 word = 0;

	dgmm_mm_region_usage(&ddev->mm, TTM_PL_VRAM, &u);
	if (u.visible_size == u.size)
		kunit_skip(test, "all of VRAM is CPU-visible");
	victim = dgmm_kunit_bo_create(test, ddev, u.visible_size - u.visible_used, V, V | G,
				      DGMM_PLACE_CPU_ACCESS);
	bo = dgmm_kunit_bo_create(test, ddev, SZ_1M, V, V, 0);
	KUNIT_ASSERT_EQ(test, 0, dgmm_bo_state(bo, &st));
	KUNIT_ASSERT_FALSE(test, st.cpu_visible);
	bo_pattern(test, bo, 0xfa17, false);
	addr = dgmm_kunit_bo_mmap(test, bo);

	h = dgmm_kunit_hold_lock(test, victim, 500);
	dgmm_kunit_lock_started(h);
	left = copy_from_user(&word, (void __user *)addr + 8, sizeof(word));
	KUNIT_EXPECT_TRUE_MSG(test, dgmm_kunit_lock_done(h),
			      "the fault did not wait for the lock");
	KUNIT_EXPECT_EQ_MSG(test, left, 0, "the fault failed (SIGBUS)");
	KUNIT_EXPECT_EQ(test, word, dgmm_kunit_pattern(0xfa17, 2));
	KUNIT_ASSERT_EQ(test, 0, dgmm_bo_state(bo, &st));
	KUNIT_EXPECT_TRUE(test, st.cpu_visible);
}

/*
 * A BO the CPU does not need to map, faulted into the CPU-visible window by
 * a CPU touch, is pushed out of the window by a CPU-access BO that needs
 * all of it: it goes to VRAM above the window, not out of VRAM.
 */
static void bo_window_eviction_stays_in_vram(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_region_usage u;
	struct dgmm_bo_state st;
	struct dgmm_bo *bo;
	unsigned long addr;
	u32 word = 0;

	dgmm_mm_region_usage(&ddev->mm, TTM_PL_VRAM, &u);
	if (u.visible_size == u.size)
		kunit_skip(test, "all of VRAM is CPU-visible");

	bo = dgmm_kunit_bo_create(test, ddev, SZ_4M, V, V | G, 0);
	bo_pattern(test, bo, 0x71d, false);
	addr = dgmm_kunit_bo_mmap(test, bo);
	KUNIT_ASSERT_EQ(test, copy_from_user(&word, (void __user *)addr, sizeof(word)), 0);
	KUNIT_ASSERT_EQ(test, 0, dgmm_bo_state(bo, &st));
	KUNIT_ASSERT_TRUE(test, st.cpu_visible);

	dgmm_mm_region_usage(&ddev->mm, TTM_PL_VRAM, &u);
	dgmm_kunit_bo_create(test, ddev, u.visible_size - u.visible_used + SZ_1M, V, V,
			     DGMM_PLACE_CPU_ACCESS);
	KUNIT_ASSERT_EQ(test, 0, dgmm_bo_state(bo, &st));
	KUNIT_EXPECT_EQ(test, st.domain, V);
	KUNIT_EXPECT_FALSE(test, st.cpu_visible);
	bo_pattern(test, bo, 0x71d, true);
}

/* Swaps the BO's pages out through TTM, as its shrinker or page limit would. */
static void bo_swap_out(struct kunit *test, struct dgmm_bo *bo)
{
	struct ttm_operation_ctx ctx = { };
	bool swapped = false;
	unsigned int i;

	/* Each call swaps out one BO, least recently used first. */
	for (i = 0; i < 256 && !swapped; i++) {
		KUNIT_ASSERT_GE(test, ttm_device_swapout(&bo->mm->ttm, &ctx, GFP_KERNEL), 0);
		KUNIT_ASSERT_EQ(test, 0, ttm_bo_reserve(&bo->tbo, false, false, NULL));
		swapped = bo->tbo.ttm && (bo->tbo.ttm->page_flags & TTM_TT_FLAG_SWAPPED);
		ttm_bo_unreserve(&bo->tbo);
	}
	KUNIT_ASSERT_TRUE_MSG(test, swapped, "TTM did not swap the BO out");
}

/*
 * A BO whose pages TTM swapped out holds data: wherever it goes next (VRAM
 * through a GTT hop, GTT, or staying in SYSTEM and read by the CPU), its
 * contents come back from swap.
 */
static void bo_swapped_keeps_contents(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	static const u32 start[] = { G, S };
	static const u32 dest[] = { V, G, S };
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(start); i++) {
		for (j = 0; j < ARRAY_SIZE(dest); j++) {
			u32 seed = 0x5a9 + i * 16 + j;
			struct dgmm_bo *bo;

			bo = dgmm_kunit_bo_create(test, ddev, SZ_1M + PAGE_SIZE, start[i],
						  V | G | S, 0);
			bo_pattern(test, bo, seed, false);
			bo_swap_out(test, bo);
			KUNIT_EXPECT_EQ(test, dgmm_kunit_bo_domain(test, bo), S);
			KUNIT_ASSERT_EQ(test, 0, dgmm_bo_migrate(bo, dest[j], NULL));
			KUNIT_EXPECT_EQ_MSG(test, dgmm_kunit_bo_domain(test, bo), dest[j],
					    "from %u to %u", start[i], dest[j]);
			bo_pattern(test, bo, seed, true);
			kunit_release_action(test, dgmm_kunit_bo_release, bo);
		}
	}
}

static struct kunit_case dgmm_bo_cases[] = {
	KUNIT_CASE_PARAM(bo_create_zeroed, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(bo_six_transitions, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(bo_migrate_rejects, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(bo_vram_cleared_on_reuse, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(bo_vram_clear_tracking, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(bo_evict_oversubscribed, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(bo_topdown_keeps_window, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(bo_swapped_keeps_contents, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(bo_migrate_waits_for_locked_victim, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(bo_fault_waits_for_locked_victim, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(bo_window_eviction_stays_in_vram, dgmm_kunit_device_gen),
	{}
};

static struct kunit_suite dgmm_bo_suite = {
	.name = "dgmm_bo",
	.test_cases = dgmm_bo_cases,
};

kunit_test_suite(dgmm_bo_suite);
