/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
#ifndef _DGMM_EVICT_H_
#define _DGMM_EVICT_H_

#include <linux/ktime.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <drm/ttm/ttm_bo.h>

struct ttm_place;
struct ttm_placement;

/*
 * TTM's LRU priorities: the eviction walk takes victims from priority 0
 * first. User BOs go first; BOs the kernel made for itself last.
 */
#define DGMM_EVICT_PRIO_USER	0
#define DGMM_EVICT_PRIO_KERNEL	(TTM_MAX_BO_PRIORITY - 1)

/**
 * enum dgmm_evict_verdict - why a BO may or may not give way
 * @DGMM_EVICT_YES: evict it
 * @DGMM_EVICT_NO_PINNED: pinned where it is
 * @DGMM_EVICT_NO_RANGE: it lies outside the range the allocation needs
 *	(for example above the CPU-visible window when room is wanted in it)
 */
enum dgmm_evict_verdict {
	DGMM_EVICT_YES,
	DGMM_EVICT_NO_PINNED,
	DGMM_EVICT_NO_RANGE,
};

/**
 * enum dgmm_promote_outcome - what became of a BO's way back to its
 *	preferred domain at a device use (trace and statistics)
 * @DGMM_PROMOTE_DONE: it moved there, evicting others if it had to
 * @DGMM_PROMOTE_NO_ROOM: nothing could give way; it stays where it is
 * @DGMM_PROMOTE_BUDGET: the move budget is spent; it stays where it is
 */
enum dgmm_promote_outcome {
	DGMM_PROMOTE_DONE,
	DGMM_PROMOTE_NO_ROOM,
	DGMM_PROMOTE_BUDGET,
};

/**
 * struct dgmm_move_budget - how many bytes optional moves may still take
 * @lock: protects the three below
 * @last: when @bytes was last refilled
 * @bytes: the budget left; negative after a submit that had to move more
 *	   than it had, which later submits pay back
 * @rate: the rate it fills at, in MiB/s; a new rate starts it anew
 *
 * A token bucket, as amdgpu's moverate: it fills at a rate (MB/s) up to
 * DGMM_MOVE_BUDGET_BURST_MS worth of it, and every byte a submit moves
 * (its own BOs and the BOs they evicted) is taken out. A submit may bring
 * a BO back to its preferred domain by evicting others only while the
 * budget is positive; otherwise the BO stays in any domain it is allowed
 * in. Moves that have to happen (a BO the device cannot reach where it
 * is) are never refused, only charged, in full.
 */
struct dgmm_move_budget {
	spinlock_t lock; /* see kernel-doc */
	ktime_t last;
	s64 bytes;
	u32 rate;
};

#define DGMM_MOVE_BUDGET_BURST_MS	200

void dgmm_evict_flags(struct ttm_buffer_object *tbo, struct ttm_placement *placement);
bool dgmm_evict_valuable(struct ttm_buffer_object *tbo, const struct ttm_place *place);
enum dgmm_evict_verdict dgmm_evict_verdict(struct ttm_buffer_object *tbo,
					   const struct ttm_place *place);
unsigned int dgmm_evict_priority(enum ttm_bo_type type);
const char *dgmm_evict_verdict_name(enum dgmm_evict_verdict verdict);

void dgmm_move_budget_init(struct dgmm_move_budget *b, ktime_t now);
s64 dgmm_move_budget_left(struct dgmm_move_budget *b, u32 rate_mbps, ktime_t now);
void dgmm_move_budget_charge(struct dgmm_move_budget *b, u32 rate_mbps, u64 bytes);

#endif
