// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Eviction policy: which BOs give way, where they go, in which order, and
 * how many bytes optional moves may take.
 *
 * TTM walks each manager's LRU lists, priority 0 first, and asks two things
 * of the driver (ttm_device_funcs), both with the victim reserved:
 *
 *   eviction_valuable  may this BO give way for that place? Not if it is
 *                      pinned, nor if it lies outside the range the place
 *                      needs (room in the CPU-visible window is not made by
 *                      evicting BOs above it).
 *   evict_flags        where does it go? placement/ decides per BO: a
 *                      non-CPU BO caught in the window to VRAM above it,
 *                      otherwise GTT, otherwise SYSTEM; from GTT to SYSTEM.
 *
 * The order: user BOs before the kernel's own (their LRU priority), and
 * within a priority least recently used first; a device job moves its BOs
 * to the tail of their LRU (testdrv/dgmm_submit.c). Evictions are never
 * waited for: the move depends on the victim's fences and runs on the copy
 * engine (ttm_backend/dgmm_move.c).
 *
 * The move budget bounds the bytes that bringing BOs back to their
 * preferred domain may move per second (see struct dgmm_move_budget).
 */

#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/sizes.h>
#include <kunit/visibility.h>
#include <drm/ttm/ttm_placement.h>

#include "ttm_backend/dgmm_bo.h"
#include "ttm_backend/dgmm_mm.h"
#include "trace/dgmm_trace.h"
#include "dgmm_evict.h"

/**
 * dgmm_evict_priority - the LRU priority of a new BO
 * @type: ttm_bo_type_kernel for BOs the driver makes for itself, anything
 *	  else for BOs userspace asked for
 *
 * Return: DGMM_EVICT_PRIO_KERNEL or DGMM_EVICT_PRIO_USER.
 */
unsigned int dgmm_evict_priority(enum ttm_bo_type type)
{
	return type == ttm_bo_type_kernel ? DGMM_EVICT_PRIO_KERNEL : DGMM_EVICT_PRIO_USER;
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_evict_priority);

/**
 * dgmm_evict_verdict - may a BO give way for an allocation at @place?
 * @tbo: the candidate, reserved
 * @place: where room is wanted
 *
 * Return: DGMM_EVICT_YES or the reason it may not.
 */
enum dgmm_evict_verdict dgmm_evict_verdict(struct ttm_buffer_object *tbo,
					   const struct ttm_place *place)
{
	dma_resv_assert_held(tbo->base.resv);
	if (tbo->pin_count)
		return DGMM_EVICT_NO_PINNED;
	/* TTM's own test: the resource manager says whether they overlap. */
	if (!ttm_bo_eviction_valuable(tbo, place))
		return DGMM_EVICT_NO_RANGE;
	return DGMM_EVICT_YES;
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_evict_verdict);

/**
 * dgmm_evict_valuable - ttm_device_funcs.eviction_valuable
 * @tbo: the candidate, reserved
 * @place: where room is wanted (for swapout: where the BO is)
 *
 * Return: true if evicting @tbo can make room at @place.
 */
bool dgmm_evict_valuable(struct ttm_buffer_object *tbo, const struct ttm_place *place)
{
	enum dgmm_evict_verdict verdict = dgmm_evict_verdict(tbo, place);

	/* TTM's ghost objects hold a moved BO's old pages: let them go. */
	if (dgmm_bo_is_dgmm_bo(tbo))
		trace_dgmm_evict_valuable(to_dgmm_bo(tbo), place, verdict);
	return verdict == DGMM_EVICT_YES;
}

/**
 * dgmm_evict_flags - ttm_device_funcs.evict_flags
 * @tbo: the BO being evicted, reserved
 * @placement: filled in: where it may go, in order
 *
 * placement/ decides (dgmm_placement_evict()); the placement lives in the
 * BO, since TTM uses it after this returns.
 */
void dgmm_evict_flags(struct ttm_buffer_object *tbo, struct ttm_placement *placement)
{
	static const struct ttm_place system = { .mem_type = TTM_PL_SYSTEM };
	struct ttm_resource *res = tbo->resource;
	struct dgmm_bo *bo;
	bool in_window;

	dma_resv_assert_held(tbo->base.resv);
	/*
	 * A ghost object (TTM's, holding a moved BO's old backing) can be
	 * evicted in the short time before it is marked deleted: to SYSTEM.
	 */
	if (!dgmm_bo_is_dgmm_bo(tbo)) {
		*placement = (struct ttm_placement){ .num_placement = 1, .placement = &system };
		return;
	}
	bo = to_dgmm_bo(tbo);
	in_window = res->mem_type == TTM_PL_VRAM && dgmm_vram_mgr_visible_bytes(res);
	dgmm_placement_evict(&bo->evict_placement, &bo->req, &bo->mm->limits, res->mem_type,
			     in_window);
	*placement = bo->evict_placement.placement;
	trace_dgmm_evict_flags(bo, res->mem_type, in_window, placement);
}

/**
 * dgmm_evict_verdict_name - a verdict in words (debugfs, tests)
 * @verdict: the verdict
 *
 * Return: a static string.
 */
const char *dgmm_evict_verdict_name(enum dgmm_evict_verdict verdict)
{
	switch (verdict) {
	case DGMM_EVICT_YES:
		return "yes";
	case DGMM_EVICT_NO_PINNED:
		return "no: pinned";
	case DGMM_EVICT_NO_RANGE:
		return "no: outside the range";
	}
	return "?";
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_evict_verdict_name);

/* The rate is capped so that the arithmetic below cannot overflow. */
#define DGMM_MOVE_BUDGET_MAX_MBPS	1000000u

static s64 budget_burst(u32 rate_mbps)
{
	return (s64)rate_mbps * SZ_1M * DGMM_MOVE_BUDGET_BURST_MS / MSEC_PER_SEC;
}

/**
 * dgmm_move_budget_init - start a budget
 * @b: the budget
 * @now: the time now (ktime_get())
 *
 * It fills up at the first look, whatever the rate.
 */
void dgmm_move_budget_init(struct dgmm_move_budget *b, ktime_t now)
{
	spin_lock_init(&b->lock);
	b->last = now;
	b->bytes = 0;
	b->rate = 0;
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_move_budget_init);

/* Longer idle times than this refill nothing more (and cannot overflow). */
#define DGMM_MOVE_BUDGET_MAX_IDLE_NS	(3600LL * NSEC_PER_SEC)

/**
 * dgmm_move_budget_left - refill a budget for the time gone by, and read it
 * @b: the budget
 * @rate_mbps: MiB per second it fills at; 0 means no budget
 * @now: the time now (ktime_get())
 *
 * A rate other than the last one starts the budget anew, full.
 *
 * Return: bytes left (S64_MAX without a budget); 0 or less means spent.
 */
s64 dgmm_move_budget_left(struct dgmm_move_budget *b, u32 rate_mbps, ktime_t now)
{
	s64 elapsed_ns, left;

	if (!rate_mbps)
		return S64_MAX;
	rate_mbps = min(rate_mbps, DGMM_MOVE_BUDGET_MAX_MBPS);

	spin_lock(&b->lock);
	if (b->rate != rate_mbps) {
		b->rate = rate_mbps;
		b->bytes = budget_burst(rate_mbps);
		b->last = now;
	}
	elapsed_ns = clamp_t(s64, ktime_to_ns(ktime_sub(now, b->last)), 0,
			     DGMM_MOVE_BUDGET_MAX_IDLE_NS);
	b->bytes += mul_u64_u64_div_u64(elapsed_ns, (u64)rate_mbps * SZ_1M, NSEC_PER_SEC);
	b->bytes = min(b->bytes, budget_burst(rate_mbps));
	if (ktime_after(now, b->last))
		b->last = now;
	left = b->bytes;
	spin_unlock(&b->lock);
	return left;
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_move_budget_left);

/**
 * dgmm_move_budget_charge - take the bytes a submit moved out of a budget
 * @b: the budget
 * @rate_mbps: its rate, as given to dgmm_move_budget_left()
 * @bytes: bytes moved
 *
 * As amdgpu's moverate, every byte is paid back, however far below zero
 * the budget goes: a submit that had to move much holds promotions back
 * for as long as its bytes take at the rate.
 */
void dgmm_move_budget_charge(struct dgmm_move_budget *b, u32 rate_mbps, u64 bytes)
{
	if (!rate_mbps || !bytes)
		return;
	spin_lock(&b->lock);
	/* Not below -S64_MAX / 2: room is left for the refill's addition. */
	b->bytes = max(b->bytes - (s64)min_t(u64, bytes, S64_MAX / 4), -S64_MAX / 2);
	spin_unlock(&b->lock);
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_move_budget_charge);
