/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
#ifndef _DGMM_BO_H_
#define _DGMM_BO_H_

#include <linux/dma-resv.h>
#include <linux/workqueue.h>
#include <drm/ttm/ttm_bo.h>

#include "placement/dgmm_placement.h"

struct dgmm_mm;
struct dma_buf;

/**
 * enum dgmm_move_reason - why a BO moves (trace events, statistics)
 * @DGMM_MOVE_NONE: nobody said: an eviction, or a hop on its way
 * @DGMM_MOVE_VALIDATE: placed for its creation or for a device job
 * @DGMM_MOVE_EVICT: made room for another BO
 * @DGMM_MOVE_FAULT: a CPU fault needed it where the CPU can reach it
 * @DGMM_MOVE_MIGRATE: userspace asked for it to move
 * @DGMM_MOVE_SWAP: its pages went to swap
 * @DGMM_MOVE_DMABUF: a dma-buf importer needed it (pin, map), or an
 *		     imported BO let go of its dma-buf (to SYSTEM)
 */
enum dgmm_move_reason {
	DGMM_MOVE_NONE,
	DGMM_MOVE_VALIDATE,
	DGMM_MOVE_EVICT,
	DGMM_MOVE_FAULT,
	DGMM_MOVE_MIGRATE,
	DGMM_MOVE_SWAP,
	DGMM_MOVE_DMABUF,
};

/**
 * struct dgmm_bo - a buffer object: a TTM BO that is also a GEM object
 * @tbo: the TTM BO; tbo.base is the GEM object
 * @mm: the memory manager it belongs to
 * @id: its number on the device, from 1, in creation order (trace events,
 *	debugfs)
 * @req: where its creator asked it to live (size, domains, flags)
 * @placement: the placement built from @req, kept for revalidation
 * @evict_placement: where TTM's eviction sends it, built by evict_flags
 *		     (TTM uses it after the callback returns); under the
 *		     reservation
 * @move_count: moves so far (placement changes, the first one included);
 *		protected by the reservation, as are the two below
 * @last_move_from: TTM_PL_* the last move left (valid once @move_count > 0)
 * @last_move_to: TTM_PL_* the last move went to
 * @move_reason: why the BO is being validated now, set under the
 *		 reservation by whoever validates it (dgmm_bo_set_move_reason())
 *		 and read by the move callback; DGMM_MOVE_NONE otherwise
 * @dmabuf: the dma-buf it is exported as, or NULL; set at export, cleared
 *	    when the dma-buf is released, both under the reservation. Not
 *	    tbo.base.dma_buf, which DRM clears when the last GEM handle
 *	    goes while importers may still be attached.
 * @dmabuf_pins: pins its dma-buf importers hold (dmabuf/), under the
 *		 reservation
 * @dmabuf_pinned_in: TTM_PL_* where those pins hold it, valid while
 *		      @dmabuf_pins > 0
 * @link: entry in the memory manager's BO list, under dgmm_mm.bo_lock
 * @import_buf: for an imported BO, the dma-buf it imports, referenced from
 *		its creation until it is destroyed: its reservation object is
 *		the BO's, and outlives the attachment (dmabuf/)
 * @detach_work: an imported BO's detach, queued when its last GEM
 *		 reference goes (dgmm_dmabuf_import_free())
 */
struct dgmm_bo {
	struct ttm_buffer_object tbo;
	struct dgmm_mm *mm;
	u64 id;
	struct dgmm_placement_request req;
	struct dgmm_placement placement;
	struct dgmm_placement evict_placement;
	u64 move_count;
	u32 last_move_from;
	u32 last_move_to;
	enum dgmm_move_reason move_reason;
	struct dma_buf *dmabuf;
	unsigned int dmabuf_pins;
	u32 dmabuf_pinned_in;
	struct list_head link;
	struct dma_buf *import_buf;
	struct work_struct detach_work;
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

/* Say why the BO is about to be validated; DGMM_MOVE_NONE when done. */
static inline void dgmm_bo_set_move_reason(struct dgmm_bo *bo, enum dgmm_move_reason reason)
{
	dgmm_bo_assert_held(bo);
	bo->move_reason = reason;
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
struct dgmm_bo *dgmm_bo_create_kernel(struct dgmm_mm *mm,
				      const struct dgmm_placement_request *req);
void dgmm_bo_put(struct dgmm_bo *bo);
int dgmm_bo_migrate(struct dgmm_bo *bo, u32 domain, const char **why);
int dgmm_bo_lock_validate(struct dgmm_bo *bo, struct ttm_placement *placement,
			  enum dgmm_move_reason reason, struct ww_acquire_ctx *ticket);
void dgmm_bo_unlock_ticket(struct dgmm_bo *bo, struct ww_acquire_ctx *ticket);
int dgmm_bo_validate_for_device(struct dgmm_bo *bo, struct ttm_operation_ctx *ctx,
				const char **why);
int dgmm_bo_promote(struct dgmm_bo *bo, struct ttm_operation_ctx *ctx, s64 budget,
		    bool may_evict);
int dgmm_bo_pin(struct dgmm_bo *bo, u32 domain, enum dgmm_move_reason reason);
int dgmm_bo_move_locked(struct dgmm_bo *bo, u32 domain, enum dgmm_move_reason reason,
			struct ttm_operation_ctx *ctx);
struct dgmm_bo *dgmm_bo_create_sg(struct dgmm_mm *mm, struct dma_buf *dmabuf);
bool dgmm_bo_is_imported(struct dgmm_bo *bo);
void dgmm_bo_unpin(struct dgmm_bo *bo);
struct dgmm_mem;
int dgmm_bo_mem_range(struct dgmm_bo *bo, u64 offset, u64 size, bool write,
		      struct dgmm_mem *mem);
int dgmm_bo_state(struct dgmm_bo *bo, struct dgmm_bo_state *state);
long dgmm_bo_wait(struct dgmm_bo *bo, s64 timeout_ns);
struct drm_memory_stats;
void dgmm_bo_memory_stats(struct dgmm_bo *bo, struct drm_memory_stats *stats);

#endif
