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

/**
 * struct dgmm_vram_cursor - a walk over part of a VRAM resource, block by block
 * @start: VRAM byte offset of the current position
 * @size: bytes contiguous in VRAM from @start, within what is left to walk
 * @remaining: bytes left to walk, from @start on
 * @block: the buddy block @start lies in
 * @mm: the buddy allocator, for block sizes
 * @blocks: the resource's block list
 *
 * The one way dgmm walks VRAM blocks, as amdgpu_res_cursor and xe_res_cursor
 * are for their drivers: the engine's ranges, io_mem_pfn, io_mem_reserve,
 * debugger access and the tests all use it. The resource must not change
 * while it is walked (hold the BO's reservation).
 */
struct dgmm_vram_cursor {
	u64 start;
	u64 size;
	u64 remaining;
	struct gpu_buddy_block *block;
	struct gpu_buddy *mm;
	struct list_head *blocks;
};

/**
 * dgmm_vram_cursor_first - start a walk
 * @cur: the cursor
 * @mgr: the VRAM manager
 * @res: a VRAM resource
 * @offset: byte offset into the resource to start at
 * @size: bytes to walk; @offset + @size must not pass the resource's end
 *
 * Afterwards @cur->size is 0 if there is nothing to walk.
 */
static inline void dgmm_vram_cursor_first(struct dgmm_vram_cursor *cur,
					  struct dgmm_vram_mgr *mgr,
					  struct ttm_resource *res, u64 offset, u64 size)
{
	struct gpu_buddy_block *block;

	cur->mm = &mgr->mm;
	cur->blocks = &to_dgmm_vram_resource(res)->blocks;
	cur->remaining = size;
	cur->size = 0;
	list_for_each_entry(block, cur->blocks, link) {
		u64 bytes = gpu_buddy_block_size(cur->mm, block);

		if (offset < bytes) {
			cur->block = block;
			cur->start = gpu_buddy_block_offset(block) + offset;
			cur->size = min(bytes - offset, size);
			return;
		}
		offset -= bytes;
	}
	cur->remaining = 0;
}

/**
 * dgmm_vram_cursor_next - move a walk on
 * @cur: the cursor
 * @size: bytes to advance, at most @cur->size
 */
static inline void dgmm_vram_cursor_next(struct dgmm_vram_cursor *cur, u64 size)
{
	cur->remaining -= size;
	cur->size -= size;
	cur->start += size;
	if (cur->size || !cur->remaining)
		return;
	if (list_is_last(&cur->block->link, cur->blocks)) {
		cur->remaining = 0;
		return;
	}
	cur->block = list_next_entry(cur->block, link);
	cur->start = gpu_buddy_block_offset(cur->block);
	cur->size = min(gpu_buddy_block_size(cur->mm, cur->block), cur->remaining);
}

int dgmm_vram_mgr_init(struct dgmm_vram_mgr *mgr, struct ttm_device *bdev,
		       u64 size, u64 visible_size);
int dgmm_vram_mgr_fini(struct dgmm_vram_mgr *mgr, struct ttm_device *bdev);
void dgmm_vram_mgr_usage(struct dgmm_vram_mgr *mgr, u64 *used, u64 *visible_used);
int dgmm_vram_mgr_snapshot(struct dgmm_vram_mgr *mgr, struct ttm_resource *res,
			   u64 offset, u64 size, bool dirty_only, struct dgmm_mem *mem,
			   u64 *bytes);
void dgmm_vram_mgr_set_cleared(struct ttm_resource *res, struct dma_fence *fence);
void dgmm_vram_mgr_mark_dirty(struct ttm_resource *res);
u64 dgmm_vram_mgr_offset(struct dgmm_vram_mgr *mgr, struct ttm_resource *res, u64 offset,
			 u64 *contiguous);
bool dgmm_vram_mgr_visible(struct ttm_resource *res);
u64 dgmm_vram_mgr_visible_bytes(struct ttm_resource *res);

#endif
