// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * KUnit suite for the eviction policy (eviction/): the move budget's
 * arithmetic and the priorities as tables; on each probed device, which
 * BOs may give way for which range, kernel BOs evicted after user BOs,
 * pinned BOs never, the way back to a preferred domain with and without
 * the budget; and, with the GTT manager replaced by a broken one (always
 * -ENOSPC, always -EBUSY, as TTM's own tests do), that nothing is lost and
 * the caller gets a plain error when nothing can give way.
 */

#include <kunit/test.h>
#include <linux/sizes.h>
#include <drm/ttm/ttm_resource.h>

#include "eviction/dgmm_evict.h"
#include "ttm_backend/dgmm_bo.h"
#include "dgmm_kunit.h"

#define S DGMM_DOMAIN_SYSTEM
#define G DGMM_DOMAIN_GTT
#define V DGMM_DOMAIN_VRAM

/* ---- tables: no device needed ---- */

static void evict_priority_table(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, dgmm_evict_priority(ttm_bo_type_device), DGMM_EVICT_PRIO_USER);
	KUNIT_EXPECT_EQ(test, dgmm_evict_priority(ttm_bo_type_sg), DGMM_EVICT_PRIO_USER);
	KUNIT_EXPECT_EQ(test, dgmm_evict_priority(ttm_bo_type_kernel), DGMM_EVICT_PRIO_KERNEL);
	/* TTM's walk takes priority 0 first: kernel BOs must come later. */
	KUNIT_EXPECT_GT(test, DGMM_EVICT_PRIO_KERNEL, DGMM_EVICT_PRIO_USER);
	KUNIT_EXPECT_LT(test, DGMM_EVICT_PRIO_KERNEL, TTM_MAX_BO_PRIORITY);
}

/*
 * One step of a budget's life: @ms later, read what is left (expect
 * @left), then charge @charge bytes.
 */
struct budget_step {
	u32 ms;
	s64 left;
	u64 charge;
};

struct budget_case {
	const char *name;
	u32 rate_mbps;
	struct budget_step steps[6];
	unsigned int num_steps;
};

#define MIB(x) ((s64)(x) * SZ_1M)

static const struct budget_case budget_cases[] = {
	{ "no budget", 0, {
		{ 0, S64_MAX, SZ_1G }, { 0, S64_MAX, 0 },
	}, 2 },
	/* 100 MiB/s: a burst of 200 ms is 20 MiB, 10 ms refill 1 MiB. */
	{ "starts full, spends, refills", 100, {
		{ 0, MIB(20), MIB(5) }, { 0, MIB(15), 0 }, { 10, MIB(16), 0 },
		{ 1000, MIB(20), 0 },
	}, 4 },
	{ "overdraft is paid back", 100, {
		{ 0, MIB(20), MIB(30) }, { 0, MIB(-10), 0 }, { 100, 0, 0 },
		{ 50, MIB(5), 0 },
	}, 4 },
	{ "a big overdraft is paid back in full", 100, {
		{ 0, MIB(20), SZ_1G }, { 0, MIB(-1004), 0 }, { 5000, MIB(-504), 0 },
		{ 5040, MIB(0), 0 }, { 200, MIB(20), 0 },
	}, 5 },
	{ "huge rate does not overflow", U32_MAX, {
		{ 0, (s64)1000000 * SZ_1M * DGMM_MOVE_BUDGET_BURST_MS / 1000, 0 },
	}, 1 },
};

static void budget_case_desc(const struct budget_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(budget, budget_cases, budget_case_desc);

static void move_budget_table(struct kunit *test)
{
	const struct budget_case *c = test->param_value;
	struct dgmm_move_budget b;
	ktime_t now = ktime_set(1000, 0);
	unsigned int i;

	dgmm_move_budget_init(&b, now);
	for (i = 0; i < c->num_steps; i++) {
		const struct budget_step *st = &c->steps[i];

		now = ktime_add_ms(now, st->ms);
		KUNIT_EXPECT_EQ_MSG(test, dgmm_move_budget_left(&b, c->rate_mbps, now), st->left,
				    "step %u", i);
		dgmm_move_budget_charge(&b, c->rate_mbps, st->charge);
	}
	if (c->rate_mbps && c->rate_mbps < U32_MAX) {
		s64 left = dgmm_move_budget_left(&b, c->rate_mbps, now);

		/* Time that runs backwards adds nothing. */
		KUNIT_EXPECT_EQ(test, dgmm_move_budget_left(&b, c->rate_mbps,
							    ktime_sub_ms(now, 50)), left);
		/* A new rate starts a new budget, full, whatever was owed. */
		dgmm_move_budget_charge(&b, c->rate_mbps, SZ_1G);
		KUNIT_EXPECT_EQ(test, dgmm_move_budget_left(&b, 2 * c->rate_mbps, now),
				(s64)2 * c->rate_mbps * SZ_1M * DGMM_MOVE_BUDGET_BURST_MS / 1000);
	}
}

/* ---- on the probed devices ---- */

/*
 * Empties the device's VRAM and GTT of what earlier tests left (deleted
 * BOs TTM has yet to free included): each test here counts on free room.
 */
static void device_empty(struct kunit *test, struct dgmm_device *ddev)
{
	struct dgmm_region_usage u;

	KUNIT_ASSERT_EQ(test, 0, ttm_resource_manager_evict_all(&ddev->mm.ttm,
								&ddev->mm.vram.manager));
	KUNIT_ASSERT_EQ(test, 0, ttm_resource_manager_evict_all(&ddev->mm.ttm,
								&ddev->mm.gtt.manager));
	dgmm_mm_region_usage(&ddev->mm, TTM_PL_VRAM, &u);
	KUNIT_ASSERT_EQ_MSG(test, u.used, 0, "VRAM still in use (pinned BOs?)");
}

static u64 vram_free(struct dgmm_device *ddev)
{
	struct dgmm_region_usage u;

	dgmm_mm_region_usage(&ddev->mm, TTM_PL_VRAM, &u);
	return u.size - u.used;
}

/* The verdict for @bo and a place in VRAM from page @fpfn to @lpfn. */
static enum dgmm_evict_verdict verdict_at(struct kunit *test, struct dgmm_bo *bo,
					  u32 fpfn, u32 lpfn)
{
	struct ttm_place place = { .fpfn = fpfn, .lpfn = lpfn, .mem_type = TTM_PL_VRAM };
	enum dgmm_evict_verdict v;

	dgmm_kunit_bo_lock_idle(test, bo);
	v = dgmm_evict_verdict(&bo->tbo, &place);
	ttm_bo_unreserve(&bo->tbo);
	return v;
}

/*
 * Which BOs may give way: a BO in the CPU-visible window for room anywhere
 * or in the window, not above it; a BO above the window the other way
 * round; a pinned BO for nothing.
 */
static void evict_verdict_ranges(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	u32 window_pages = ddev->mm.limits.vram_visible_size >> PAGE_SHIFT;
	struct dgmm_bo *bo_in, *bo_above;
	static const struct {
		bool inside;
		u32 fpfn, lpfn; /* lpfn 0: to the end; U32_MAX: the window's end */
		enum dgmm_evict_verdict want;
	} cases[] = {
		{ true, 0, 0, DGMM_EVICT_YES },
		{ true, 0, U32_MAX, DGMM_EVICT_YES },
		{ true, U32_MAX, 0, DGMM_EVICT_NO_RANGE },
		{ false, 0, 0, DGMM_EVICT_YES },
		{ false, 0, U32_MAX, DGMM_EVICT_NO_RANGE },
		{ false, U32_MAX, 0, DGMM_EVICT_YES },
	};
	unsigned int i;
	int err;

	if (ddev->mm.limits.vram_visible_size == ddev->mm.limits.vram_size)
		kunit_skip(test, "all of VRAM is CPU-visible");
	device_empty(test, ddev);
	bo_in = dgmm_kunit_bo_create(test, ddev, SZ_2M, V, V | G, DGMM_PLACE_CPU_ACCESS);
	bo_above = dgmm_kunit_bo_create(test, ddev, SZ_2M, V, V | G, 0);

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		u32 fpfn = min(cases[i].fpfn, window_pages);
		u32 lpfn = min(cases[i].lpfn, window_pages);
		struct dgmm_bo *bo = bo_above;
		enum dgmm_evict_verdict v;

		if (cases[i].inside)
			bo = bo_in;
		v = verdict_at(test, bo, fpfn, lpfn);
		KUNIT_EXPECT_EQ_MSG(test, v, cases[i].want, "case %u: %s, want %s", i,
				    dgmm_evict_verdict_name(v),
				    dgmm_evict_verdict_name(cases[i].want));
	}

	KUNIT_ASSERT_EQ(test, 0, ttm_bo_reserve(&bo_above->tbo, false, false, NULL));
	err = dgmm_bo_pin(bo_above, V, DGMM_MOVE_VALIDATE);
	ttm_bo_unreserve(&bo_above->tbo);
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_EXPECT_EQ(test, verdict_at(test, bo_above, 0, 0), DGMM_EVICT_NO_PINNED);
	KUNIT_ASSERT_EQ(test, 0, ttm_bo_reserve(&bo_above->tbo, false, false, NULL));
	dgmm_bo_unpin(bo_above);
	ttm_bo_unreserve(&bo_above->tbo);
	KUNIT_EXPECT_EQ(test, verdict_at(test, bo_above, 0, 0), DGMM_EVICT_YES);
}

/* Validates a BO for the device as a submit does; see below. */
static int validate_for_device(struct dgmm_bo *bo, bool promote);

/*
 * A BO pinned where the device reaches it, though not where it prefers to
 * be, is left there by a device use (it cannot move), without an error.
 */
static void evict_pinned_reachable_stays(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_bo *bo = dgmm_kunit_bo_create(test, ddev, SZ_2M, V, V | G, 0);
	int err;

	KUNIT_ASSERT_EQ(test, 0, dgmm_bo_migrate(bo, G, NULL));
	KUNIT_ASSERT_EQ(test, 0, dma_resv_lock(bo->tbo.base.resv, NULL));
	err = dgmm_bo_pin(bo, G, DGMM_MOVE_VALIDATE);
	dma_resv_unlock(bo->tbo.base.resv);
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_EXPECT_EQ(test, validate_for_device(bo, true), 0);
	KUNIT_EXPECT_EQ(test, dgmm_kunit_bo_domain(test, bo), G);
	KUNIT_ASSERT_EQ(test, 0, dma_resv_lock(bo->tbo.base.resv, NULL));
	dgmm_bo_unpin(bo);
	dma_resv_unlock(bo->tbo.base.resv);
	KUNIT_EXPECT_EQ(test, validate_for_device(bo, true), 0);
	KUNIT_EXPECT_EQ(test, dgmm_kunit_bo_domain(test, bo), V);
}

/*
 * A kernel BO is evicted after every user BO, however recently either was
 * used: here the kernel BO is the least recently used of the two.
 */
static void evict_kernel_bo_last(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_placement_request req = { .preferred = V, .allowed = V | G };
	struct dgmm_bo *kbo, *user, *newer;
	u64 half;

	device_empty(test, ddev);
	half = round_down(vram_free(ddev) / 2, SZ_1M);
	req.size = half;
	kbo = dgmm_bo_create_kernel(&ddev->mm, &req);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, kbo);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, dgmm_kunit_bo_release, kbo));
	KUNIT_EXPECT_EQ(test, kbo->tbo.priority, DGMM_EVICT_PRIO_KERNEL);
	dgmm_kunit_bo_stamp(test, kbo, 0x6b, false);
	user = dgmm_kunit_bo_create(test, ddev, half, V, V | G, 0);
	dgmm_kunit_bo_stamp(test, user, 0x75, false);
	KUNIT_ASSERT_EQ(test, dgmm_kunit_bo_domain(test, kbo), V);
	KUNIT_ASSERT_EQ(test, dgmm_kunit_bo_domain(test, user), V);

	/* Room for this one can only come from one of the two. */
	newer = dgmm_kunit_bo_create(test, ddev, half, V, V | G, 0);
	KUNIT_EXPECT_EQ(test, dgmm_kunit_bo_domain(test, newer), V);
	KUNIT_EXPECT_EQ(test, dgmm_kunit_bo_domain(test, kbo), V);
	KUNIT_EXPECT_EQ(test, dgmm_kunit_bo_domain(test, user), G);
	dgmm_kunit_bo_stamp(test, kbo, 0x6b, true);
	dgmm_kunit_bo_stamp(test, user, 0x75, true);
}

/*
 * A pinned BO is never evicted: a request that could only be met by
 * evicting it fails with -ENOMEM (TTM's, and the uAPI's, "no room now";
 * -ENOSPC means no domain could ever hold the BO), and succeeds once it is
 * unpinned. A BO
 * pinned in one domain cannot be pinned in another.
 */
static void evict_pinned_never(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_placement_request req = { .preferred = V, .allowed = V };
	struct dgmm_bo *pinned, *other;
	u64 half;
	int err;

	device_empty(test, ddev);
	half = round_down(vram_free(ddev) / 2, SZ_1M);
	pinned = dgmm_kunit_bo_create(test, ddev, half + SZ_1M, V, V | G, 0);
	dgmm_kunit_bo_stamp(test, pinned, 0x919, false);
	KUNIT_ASSERT_EQ(test, 0, ttm_bo_reserve(&pinned->tbo, false, false, NULL));
	err = dgmm_bo_pin(pinned, V, DGMM_MOVE_VALIDATE);
	if (!err && dgmm_bo_pin(pinned, G, DGMM_MOVE_VALIDATE) != -EBUSY)
		err = -EINVAL;
	ttm_bo_unreserve(&pinned->tbo);
	KUNIT_ASSERT_EQ(test, err, 0);

	req.size = half;
	other = dgmm_bo_create(&ddev->mm, &req, NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(other), -ENOMEM);
	if (!IS_ERR(other))
		dgmm_bo_put(other);
	KUNIT_EXPECT_EQ(test, dgmm_kunit_bo_domain(test, pinned), V);
	KUNIT_EXPECT_EQ(test, dgmm_bo_migrate(pinned, G, NULL), -EBUSY);
	dgmm_kunit_bo_stamp(test, pinned, 0x919, true);

	/* Unpinned, it is evictable again at once (no LRU bump on unlock). */
	KUNIT_ASSERT_EQ(test, 0, dma_resv_lock(pinned->tbo.base.resv, NULL));
	dgmm_bo_unpin(pinned);
	dma_resv_unlock(pinned->tbo.base.resv);
	other = dgmm_kunit_bo_create(test, ddev, half, V, V, 0);
	KUNIT_EXPECT_EQ(test, dgmm_kunit_bo_domain(test, pinned), G);
	dgmm_kunit_bo_stamp(test, pinned, 0x919, true);
}

/*
 * Validates a BO for the device as a submit does, under a ticket: made
 * reachable, then brought back to its preferred domain with all the budget
 * it wants (@promote) or none.
 */
static int validate_for_device(struct dgmm_bo *bo, bool promote)
{
	struct ttm_operation_ctx ctx = { .interruptible = true };
	struct ww_acquire_ctx ticket;
	int err;

	ww_acquire_init(&ticket, &reservation_ww_class);
	err = dma_resv_lock_interruptible(bo->tbo.base.resv, &ticket);
	if (!err) {
		err = dgmm_bo_validate_for_device(bo, &ctx, NULL);
		if (!err)
			err = dgmm_bo_promote(bo, &ctx, promote ? S64_MAX : 0, true);
		dma_resv_unlock(bo->tbo.base.resv);
	}
	ww_acquire_fini(&ticket);
	return err;
}

static s64 promotions(struct dgmm_device *ddev, enum dgmm_promote_outcome o)
{
	return atomic64_read(&ddev->mm.stats.promotions[o]);
}

/*
 * The way back: a BO evicted to GTT returns to VRAM at a device use. With
 * the budget spent it goes back only when there is room; with budget left
 * it evicts the least recently used BO to make room. Contents survive.
 */
static void evict_promote_on_use(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	s64 budget0 = promotions(ddev, DGMM_PROMOTE_BUDGET);
	s64 done0 = promotions(ddev, DGMM_PROMOTE_DONE);
	struct dgmm_bo *hot, *cold;
	u64 half;

	device_empty(test, ddev);
	half = round_down(vram_free(ddev) / 2, SZ_1M);
	hot = dgmm_kunit_bo_create(test, ddev, half, V, V | G, 0);
	dgmm_kunit_bo_stamp(test, hot, 0x407, false);
	KUNIT_ASSERT_EQ(test, 0, dgmm_bo_migrate(hot, G, NULL));

	/* Room: it goes back even without budget. */
	KUNIT_ASSERT_EQ(test, 0, validate_for_device(hot, false));
	KUNIT_EXPECT_EQ(test, dgmm_kunit_bo_domain(test, hot), V);
	KUNIT_EXPECT_EQ(test, promotions(ddev, DGMM_PROMOTE_DONE), done0 + 1);

	/* No room, no budget: it stays in GTT, and that is no error. */
	KUNIT_ASSERT_EQ(test, 0, dgmm_bo_migrate(hot, G, NULL));
	cold = dgmm_kunit_bo_create(test, ddev, round_down(vram_free(ddev), SZ_1M), V, V | G, 0);
	dgmm_kunit_bo_stamp(test, cold, 0xc01d, false);
	KUNIT_ASSERT_EQ(test, 0, validate_for_device(hot, false));
	KUNIT_EXPECT_EQ(test, dgmm_kunit_bo_domain(test, hot), G);
	KUNIT_EXPECT_EQ(test, promotions(ddev, DGMM_PROMOTE_BUDGET), budget0 + 1);

	/* Budget left: the cold BO gives way. */
	KUNIT_ASSERT_EQ(test, 0, validate_for_device(hot, true));
	KUNIT_EXPECT_EQ(test, dgmm_kunit_bo_domain(test, hot), V);
	KUNIT_EXPECT_NE(test, dgmm_kunit_bo_domain(test, cold), V);
	KUNIT_EXPECT_EQ(test, promotions(ddev, DGMM_PROMOTE_DONE), done0 + 2);
	dgmm_kunit_bo_stamp(test, hot, 0x407, true);
	dgmm_kunit_bo_stamp(test, cold, 0xc01d, true);
}

/*
 * Broken GTT managers. The real manager's func table is swapped for one
 * whose alloc always fails and whose other callbacks are the real ones
 * (resources allocated before are freed by them), for the length of one
 * test; nothing else uses the device while KUnit runs.
 */
static const struct ttm_resource_manager_func *real_gtt_func;
static int broken_gtt_err;

static int broken_alloc(struct ttm_resource_manager *man, struct ttm_buffer_object *bo,
			const struct ttm_place *place, struct ttm_resource **res)
{
	return broken_gtt_err;
}

static void broken_free(struct ttm_resource_manager *man, struct ttm_resource *res)
{
	real_gtt_func->free(man, res);
}

static const struct ttm_resource_manager_func broken_gtt_func = {
	.alloc = broken_alloc,
	.free = broken_free,
};

static void gtt_repair(void *man)
{
	((struct ttm_resource_manager *)man)->func = real_gtt_func;
}

static void gtt_break(struct kunit *test, struct dgmm_device *ddev, int err)
{
	struct ttm_resource_manager *man = &ddev->mm.gtt.manager;

	real_gtt_func = man->func;
	broken_gtt_err = err;
	man->func = &broken_gtt_func;
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, gtt_repair, man));
}

/*
 * Empties the device, fills its VRAM with one BO stamped with @seed, then
 * breaks its GTT manager to answer @err to every allocation.
 */
static struct dgmm_bo *vram_filled_gtt_broken(struct kunit *test, struct dgmm_device *ddev,
					      u32 seed, int err)
{
	struct dgmm_bo *resident;

	device_empty(test, ddev);
	resident = dgmm_kunit_bo_create(test, ddev, round_down(vram_free(ddev), SZ_1M),
					V, V | G | S, 0);
	dgmm_kunit_bo_stamp(test, resident, seed, false);
	gtt_break(test, ddev, err);
	return resident;
}

/*
 * GTT always full (-ENOSPC). VRAM can then give way to nothing: the engine
 * reaches SYSTEM only through a temporary GTT hop. A new BO that may live
 * in SYSTEM lands there; one that must be in VRAM, or be reachable by the
 * device, gets -ENOMEM. The BO in VRAM keeps its contents and its place.
 */
static void evict_gtt_manager_full(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_placement_request req = { .preferred = V, .allowed = V };
	struct dgmm_bo *resident = vram_filled_gtt_broken(test, ddev, 0xf011, -ENOSPC);
	struct dgmm_bo *newer;

	newer = dgmm_kunit_bo_create(test, ddev, SZ_1M, V, V | G | S, 0);
	KUNIT_EXPECT_EQ(test, dgmm_kunit_bo_domain(test, newer), S);
	KUNIT_EXPECT_EQ(test, validate_for_device(newer, true), -ENOMEM);

	req.size = SZ_1M;
	newer = dgmm_bo_create(&ddev->mm, &req, NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(newer), -ENOMEM);
	if (!IS_ERR(newer))
		dgmm_bo_put(newer);

	KUNIT_EXPECT_EQ(test, dgmm_kunit_bo_domain(test, resident), V);
	kunit_release_action(test, gtt_repair, &ddev->mm.gtt.manager);
	dgmm_kunit_bo_stamp(test, resident, 0xf011, true);
}

/*
 * GTT manager busy (-EBUSY): TTM passes that on rather than trying the
 * next place. Whatever the caller gets, it is that error or success, and
 * the BO that would have been evicted keeps its contents.
 */
static void evict_gtt_manager_busy(struct kunit *test)
{
	struct dgmm_device *ddev = dgmm_kunit_device(test);
	struct dgmm_placement_request req = { .preferred = V, .allowed = V | G | S };
	struct dgmm_bo *resident = vram_filled_gtt_broken(test, ddev, 0xb5, -EBUSY);
	struct dgmm_bo *newer;

	req.size = SZ_1M;
	newer = dgmm_bo_create(&ddev->mm, &req, NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(newer), -EBUSY);
	if (!IS_ERR(newer))
		dgmm_bo_put(newer);
	KUNIT_EXPECT_EQ(test, dgmm_bo_migrate(resident, G, NULL), -EBUSY);

	KUNIT_EXPECT_EQ(test, dgmm_kunit_bo_domain(test, resident), V);
	kunit_release_action(test, gtt_repair, &ddev->mm.gtt.manager);
	dgmm_kunit_bo_stamp(test, resident, 0xb5, true);
	/* Repaired, the same request evicts as usual. */
	newer = dgmm_kunit_bo_create(test, ddev, SZ_1M, V, V | G | S, 0);
	KUNIT_EXPECT_EQ(test, dgmm_kunit_bo_domain(test, newer), V);
	KUNIT_EXPECT_EQ(test, dgmm_kunit_bo_domain(test, resident), G);
	dgmm_kunit_bo_stamp(test, resident, 0xb5, true);
}

static struct kunit_case dgmm_evict_cases[] = {
	KUNIT_CASE(evict_priority_table),
	KUNIT_CASE_PARAM(move_budget_table, budget_gen_params),
	KUNIT_CASE_PARAM(evict_verdict_ranges, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(evict_kernel_bo_last, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(evict_pinned_never, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(evict_pinned_reachable_stays, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(evict_promote_on_use, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(evict_gtt_manager_full, dgmm_kunit_device_gen),
	KUNIT_CASE_PARAM(evict_gtt_manager_busy, dgmm_kunit_device_gen),
	{}
};

static struct kunit_suite dgmm_evict_suite = {
	.name = "dgmm_evict",
	.test_cases = dgmm_evict_cases,
};

kunit_test_suite(dgmm_evict_suite);
