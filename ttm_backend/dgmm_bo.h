/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
#ifndef _DGMM_BO_H_
#define _DGMM_BO_H_

#include <linux/dma-resv.h>
#include <drm/ttm/ttm_bo.h>

#include "placement/dgmm_placement.h"

struct dgmm_mm;

/**
 * struct dgmm_bo - a buffer object: a TTM BO that is also a GEM object
 * @tbo: the TTM BO; tbo.base is the GEM object
 * @mm: the memory manager it belongs to
 * @req: where its creator asked it to live (size, domains, flags)
 * @placement: the placement built from @req, kept for revalidation
 * @evict_placement: where TTM's eviction sends it, built by evict_flags
 *		     (TTM uses it after the callback returns); under the
 *		     reservation
 * @move_count: moves so far (placement changes, the first one included);
 *		protected by the reservation, as are the two below
 * @last_move_from: TTM_PL_* the last move left (valid once @move_count > 0)
 * @last_move_to: TTM_PL_* the last move went to
 * @link: entry in the memory manager's BO list, under dgmm_mm.bo_lock
 */
struct dgmm_bo {
	struct ttm_buffer_object tbo;
	struct dgmm_mm *mm;
	struct dgmm_placement_request req;
	struct dgmm_placement placement;
	struct dgmm_placement evict_placement;
	u64 move_count;
	u32 last_move_from;
	u32 last_move_to;
	struct list_head link;
};

static inline struct dgmm_bo *to_dgmm_bo(struct ttm_buffer_object *tbo)
{
	return container_of(tbo, struct dgmm_bo, tbo);
}

static inline struct dgmm_bo *gem_to_dgmm_bo(struct drm_gem_object *obj)
{
	return container_of(obj, struct dgmm_bo, tbo.base);
}

/* Most functions below need the BO's reservation held: say so in code. */
static inline void dgmm_bo_assert_held(struct dgmm_bo *bo)
{
	dma_resv_assert_held(bo->tbo.base.resv);
}

bool dgmm_bo_is_dgmm_bo(struct ttm_buffer_object *tbo);

/**
 * struct dgmm_bo_state - a BO's placement and counters, for info ioctls
 * @domain: the DGMM_DOMAIN_* it is in now
 * @cpu_visible: the CPU can map all of it where it is
 * @contiguous: it is one contiguous range where it is
 * @swapped: TTM swapped its pages out
 * @pin_count: pins held
 * @move_count: moves so far
 */
struct dgmm_bo_state {
	u32 domain;
	bool cpu_visible;
	bool contiguous;
	bool swapped;
	u32 pin_count;
	u64 move_count;
};

struct dgmm_bo *dgmm_bo_create(struct dgmm_mm *mm,
			       const struct dgmm_placement_request *req,
			       const char **why);
void dgmm_bo_put(struct dgmm_bo *bo);
int dgmm_bo_migrate(struct dgmm_bo *bo, u32 domain, const char **why);
int dgmm_bo_lock_validate(struct dgmm_bo *bo, struct ttm_placement *placement,
			  struct ww_acquire_ctx *ticket);
void dgmm_bo_unlock_ticket(struct dgmm_bo *bo, struct ww_acquire_ctx *ticket);
int dgmm_bo_validate_for_device(struct dgmm_bo *bo, const char **why);
struct dgmm_mem;
int dgmm_bo_mem_range(struct dgmm_bo *bo, u64 offset, u64 size, bool write,
		      struct dgmm_mem *mem);
int dgmm_bo_state(struct dgmm_bo *bo, struct dgmm_bo_state *state);
long dgmm_bo_wait(struct dgmm_bo *bo, s64 timeout_ns);

#endif
