/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
#ifndef _DGMM_VRAM_MGR_H_
#define _DGMM_VRAM_MGR_H_

#include <linux/gpu_buddy.h>
#include <linux/mutex.h>
#include <drm/ttm/ttm_resource.h>

struct dgmm_mem;
struct dma_fence;
struct ttm_device;

/**
 * struct dgmm_vram_mgr - TTM resource manager for device VRAM
 * @manager: the TTM manager, registered for TTM_PL_VRAM
 * @mm: buddy allocator over [0, size) of VRAM, in bytes
 * @lock: protects @mm and @visible_avail
 * @visible_size: size of the CPU-visible window at the start of VRAM
 * @visible_avail: bytes of the visible window not allocated
 */
struct dgmm_vram_mgr {
	struct ttm_resource_manager manager;
	struct gpu_buddy mm;
	struct mutex lock; /* protects mm and visible_avail */
	u64 visible_size;
	u64 visible_avail;
};

/**
 * struct dgmm_vram_resource - a VRAM allocation
 * @base: the TTM resource
 * @blocks: the buddy blocks backing it, linked through gpu_buddy_block.link
 * @used_visible_size: how many of its bytes lie in the CPU-visible window
 * @cleared: every byte reads zero (once @clear_fence, if any, has signalled
 *	     without error), and nobody has been given a way to write it since:
 *	     its blocks go back to the allocator as cleared. Set only by
 *	     dgmm_vram_mgr_set_cleared(), dropped by dgmm_vram_mgr_mark_dirty();
 *	     changed under the reservation of the BO that owns the resource.
 * @clear_fence: the engine job that zeroes the resource's dirty blocks
 */
struct dgmm_vram_resource {
	struct ttm_resource base;
	struct list_head blocks;
	u64 used_visible_size;
	bool cleared;
	struct dma_fence *clear_fence;
};

static inline struct dgmm_vram_mgr *
to_dgmm_vram_mgr(struct ttm_resource_manager *man)
{
	return container_of(man, struct dgmm_vram_mgr, manager);
}

static inline struct dgmm_vram_resource *
to_dgmm_vram_resource(struct ttm_resource *res)
{
	return container_of(res, struct dgmm_vram_resource, base);
}

int dgmm_vram_mgr_init(struct dgmm_vram_mgr *mgr, struct ttm_device *bdev,
		       u64 size, u64 visible_size);
int dgmm_vram_mgr_fini(struct dgmm_vram_mgr *mgr, struct ttm_device *bdev);
void dgmm_vram_mgr_usage(struct dgmm_vram_mgr *mgr, u64 *used, u64 *visible_used);
int dgmm_vram_mgr_snapshot(struct dgmm_vram_mgr *mgr, struct ttm_resource *res,
			   bool dirty_only, struct dgmm_mem *mem, u64 *bytes);
void dgmm_vram_mgr_set_cleared(struct ttm_resource *res, struct dma_fence *fence);
void dgmm_vram_mgr_mark_dirty(struct ttm_resource *res);
u64 dgmm_vram_mgr_offset(struct dgmm_vram_mgr *mgr, struct ttm_resource *res, u64 offset,
			 u64 *contiguous);
bool dgmm_vram_mgr_visible(struct ttm_resource *res);
u64 dgmm_vram_mgr_visible_bytes(struct ttm_resource *res);

#endif
