// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * VRAM resource manager: a buddy allocator over the device's VRAM.
 *
 * A resource is a list of buddy blocks, so a BO in VRAM is not contiguous
 * unless it asks for TTM_PL_FLAG_CONTIGUOUS. The first visible_size bytes of
 * VRAM are the CPU-visible window; a placement whose lpfn ends inside that
 * window asks for CPU-visible memory, and the manager keeps count of how much
 * of the window is in use so that such requests fail fast with -ENOSPC.
 *
 * Cleared blocks. The buddy allocator remembers which free blocks are known
 * to be zero (GPU_BUDDY_CLEARED), and allocations for BOs that hold no data
 * yet prefer them (GPU_BUDDY_CLEAR_ALLOCATION). A BO that needs zeroed VRAM
 * has the engine fill only the blocks that are not (dgmm_vram_mgr_snapshot()
 * with dirty_only), and a resource whose contents are still zero when it is
 * freed gives its blocks back as cleared. Everything that lets anyone write a
 * resource (a CPU mapping, a debugger, a copy into it) makes it dirty first:
 * dgmm_vram_mgr_mark_dirty(). At start all of VRAM counts as dirty.
 *
 * Every error is -ENOSPC ("evict something and retry") or -ENOMEM: a request
 * that can never fit (bigger than the range it may use) also gives -ENOSPC, so
 * that TTM goes on to the next place of the placement rather than failing the
 * whole validation. The placement layer keeps such places out of placements,
 * so TTM does not evict in vain for them.
 */

#include <linux/dma-fence.h>
#include <linux/log2.h>
#include <kunit/visibility.h>
#include <drm/drm_buddy.h>
#include <drm/drm_print.h>
#include <drm/ttm/ttm_bo.h>
#include <drm/ttm/ttm_device.h>
#include <drm/ttm/ttm_placement.h>

#include "dgmm_copy.h"
#include "dgmm_mm.h"
#include "dgmm_vram_mgr.h"

static u64 block_start(const struct gpu_buddy_block *block)
{
	return gpu_buddy_block_offset(block);
}

static u64 block_end(struct gpu_buddy *mm, struct gpu_buddy_block *block)
{
	return gpu_buddy_block_offset(block) + gpu_buddy_block_size(mm, block);
}

/* Bytes of [start, end) that lie inside [0, visible). */
static u64 visible_part(u64 start, u64 end, u64 visible)
{
	return start < visible ? min(end, visible) - start : 0;
}

static bool blocks_contiguous(struct gpu_buddy *mm, struct list_head *blocks)
{
	struct gpu_buddy_block *block, *prev = NULL;

	list_for_each_entry(block, blocks, link) {
		if (prev && block_end(mm, prev) != block_start(block))
			return false;
		prev = block;
	}
	return true;
}

/* Does any of @blocks lie in the first @visible_size bytes? */
static bool blocks_visible(struct gpu_buddy *mm, struct list_head *blocks, u64 visible_size)
{
	struct gpu_buddy_block *block;

	list_for_each_entry(block, blocks, link)
		if (block_start(block) < visible_size)
			return true;
	return false;
}

/* Frees blocks an allocation did not use, each keeping its clear state. */
static void give_back_blocks(struct gpu_buddy *mm, struct list_head *blocks)
{
	struct gpu_buddy_block *block, *next;

	list_for_each_entry_safe(block, next, blocks, link) {
		list_del(&block->link);
		gpu_buddy_free_block(mm, block);
	}
}

static int dgmm_vram_mgr_alloc(struct ttm_resource_manager *man,
			       struct ttm_buffer_object *bo,
			       const struct ttm_place *place,
			       struct ttm_resource **res)
{
	struct dgmm_vram_mgr *mgr = to_dgmm_vram_mgr(man);
	struct gpu_buddy *mm = &mgr->mm;
	u64 fpfn = place->fpfn, lpfn = place->lpfn;
	u64 man_pages = man->size >> PAGE_SHIFT;
	struct dgmm_vram_resource *vres;
	u64 size, min_block_size;
	struct gpu_buddy_block *block;
	unsigned long flags = 0;
	bool visible_only, keep_window;
	int err;

	if (!lpfn || lpfn > man_pages)
		lpfn = man_pages;
	if (fpfn >= lpfn || bo->base.size >> PAGE_SHIFT > lpfn - fpfn)
		return -ENOSPC;

	vres = kzalloc(sizeof(*vres), GFP_KERNEL);
	if (!vres)
		return -ENOMEM;
	INIT_LIST_HEAD(&vres->blocks);
	ttm_resource_init(bo, place, &vres->base);
	size = vres->base.size;

	min_block_size = mm->chunk_size;
	if (bo->page_alignment)
		min_block_size = max_t(u64, min_block_size,
				       (u64)bo->page_alignment << PAGE_SHIFT);

	if (place->flags & TTM_PL_FLAG_TOPDOWN)
		flags |= GPU_BUDDY_TOPDOWN_ALLOCATION;
	if (place->flags & TTM_PL_FLAG_CONTIGUOUS)
		flags |= GPU_BUDDY_CONTIGUOUS_ALLOCATION;
	if (fpfn || lpfn != man_pages)
		flags |= GPU_BUDDY_RANGE_ALLOCATION;
	/*
	 * A BO that is to be zeroed here takes cleared blocks first, and then
	 * costs no clear; one whose data is copied in takes dirty ones first,
	 * leaving the cleared ones for the next.
	 */
	if (!dgmm_bo_holds_data(bo))
		flags |= GPU_BUDDY_CLEAR_ALLOCATION;
	visible_only = (lpfn << PAGE_SHIFT) <= mgr->visible_size;
	keep_window = (place->flags & TTM_PL_FLAG_TOPDOWN) &&
		      !(flags & GPU_BUDDY_RANGE_ALLOCATION) &&
		      mgr->visible_size < man->size;

	mutex_lock(&mgr->lock);
	if (visible_only && size > mgr->visible_avail) {
		err = -ENOSPC;
		goto err_unlock;
	}
	err = gpu_buddy_alloc_blocks(mm, fpfn << PAGE_SHIFT, lpfn << PAGE_SHIFT,
				     size, min_block_size, &vres->blocks, flags);
	/*
	 * The allocator ranks a block's clear state above its position: a
	 * top-down request (a BO the CPU does not map) lands in the CPU-visible
	 * window when the only blocks of the state it prefers lie there. Then
	 * ask again above the window, whatever the blocks' state, keeping the
	 * window for the BOs that need it; if that fails, keep the first answer.
	 */
	if (!err && keep_window && blocks_visible(mm, &vres->blocks, mgr->visible_size)) {
		LIST_HEAD(above);

		if (!gpu_buddy_alloc_blocks(mm, mgr->visible_size, man->size, size,
					    min_block_size, &above,
					    flags | GPU_BUDDY_RANGE_ALLOCATION)) {
			give_back_blocks(mm, &vres->blocks);
			list_splice(&above, &vres->blocks);
		}
	}
	if (err) {
		/*
		 * -EINVAL here means a contiguous block rounded up to a power
		 * of two does not fit the range: that request cannot be met.
		 */
		if (err != -ENOMEM)
			err = -ENOSPC;
		goto err_unlock;
	}

	list_for_each_entry(block, &vres->blocks, link)
		vres->used_visible_size += visible_part(block_start(block),
							block_end(mm, block),
							mgr->visible_size);
	mgr->visible_avail -= vres->used_visible_size;
	mutex_unlock(&mgr->lock);

	/* A resource that happens to be contiguous can be mapped linearly. */
	if (blocks_contiguous(mm, &vres->blocks)) {
		vres->base.placement |= TTM_PL_FLAG_CONTIGUOUS;
		block = list_first_entry(&vres->blocks, typeof(*block), link);
		vres->base.start = block_start(block) >> PAGE_SHIFT;
	}

	*res = &vres->base;
	return 0;

err_unlock:
	mutex_unlock(&mgr->lock);
	ttm_resource_fini(man, &vres->base);
	kfree(vres);
	return err;
}

/* Still zero: marked cleared, and its clear (if any) done without error. */
static bool resource_is_clear(struct dgmm_vram_resource *vres)
{
	struct dma_fence *fence = vres->clear_fence;

	if (!READ_ONCE(vres->cleared))
		return false;
	return !fence || (dma_fence_is_signaled(fence) && !fence->error);
}

static void dgmm_vram_mgr_free(struct ttm_resource_manager *man,
			       struct ttm_resource *res)
{
	struct dgmm_vram_resource *vres = to_dgmm_vram_resource(res);
	struct dgmm_vram_mgr *mgr = to_dgmm_vram_mgr(man);
	unsigned int flags = resource_is_clear(vres) ? GPU_BUDDY_CLEARED : 0;

	dma_fence_put(vres->clear_fence);
	mutex_lock(&mgr->lock);
	gpu_buddy_free_list(&mgr->mm, &vres->blocks, flags);
	mgr->visible_avail += vres->used_visible_size;
	mutex_unlock(&mgr->lock);

	ttm_resource_fini(man, res);
	kfree(vres);
}

/*
 * @intersects: could evicting @res help an allocation at @place?
 * @compatible: does @res already satisfy @place?
 * Both walk the blocks; the visible window is answered from the count.
 */
static bool dgmm_vram_mgr_intersects(struct ttm_resource_manager *man,
				     struct ttm_resource *res,
				     const struct ttm_place *place, size_t size)
{
	struct dgmm_vram_resource *vres = to_dgmm_vram_resource(res);
	struct dgmm_vram_mgr *mgr = to_dgmm_vram_mgr(man);
	struct gpu_buddy_block *block;

	if (!place->fpfn && !place->lpfn)
		return true;
	if (!place->fpfn && place->lpfn == mgr->visible_size >> PAGE_SHIFT)
		return vres->used_visible_size > 0;

	list_for_each_entry(block, &vres->blocks, link) {
		u64 fpfn = block_start(block) >> PAGE_SHIFT;
		u64 lpfn = block_end(&mgr->mm, block) >> PAGE_SHIFT;

		if (place->fpfn < lpfn && (!place->lpfn || place->lpfn > fpfn))
			return true;
	}
	return false;
}

static bool dgmm_vram_mgr_compatible(struct ttm_resource_manager *man,
				     struct ttm_resource *res,
				     const struct ttm_place *place, size_t size)
{
	struct dgmm_vram_resource *vres = to_dgmm_vram_resource(res);
	struct dgmm_vram_mgr *mgr = to_dgmm_vram_mgr(man);
	struct gpu_buddy_block *block;

	if (!place->fpfn && !place->lpfn)
		return true;
	if (!place->fpfn && place->lpfn == mgr->visible_size >> PAGE_SHIFT)
		return vres->used_visible_size == size;

	list_for_each_entry(block, &vres->blocks, link) {
		u64 fpfn = block_start(block) >> PAGE_SHIFT;
		u64 lpfn = block_end(&mgr->mm, block) >> PAGE_SHIFT;

		if (fpfn < place->fpfn || (place->lpfn && lpfn > place->lpfn))
			return false;
	}
	return true;
}

static void dgmm_vram_mgr_debug(struct ttm_resource_manager *man,
				struct drm_printer *p)
{
	struct dgmm_vram_mgr *mgr = to_dgmm_vram_mgr(man);

	mutex_lock(&mgr->lock);
	drm_printf(p, "visible_size: %llu MiB\n", mgr->visible_size >> 20);
	drm_printf(p, "visible_avail: %llu MiB\n", mgr->visible_avail >> 20);
	drm_buddy_print(&mgr->mm, p);
	mutex_unlock(&mgr->lock);
}

static const struct ttm_resource_manager_func dgmm_vram_mgr_func = {
	.alloc = dgmm_vram_mgr_alloc,
	.free = dgmm_vram_mgr_free,
	.intersects = dgmm_vram_mgr_intersects,
	.compatible = dgmm_vram_mgr_compatible,
	.debug = dgmm_vram_mgr_debug,
};

/**
 * dgmm_vram_mgr_init - register the VRAM manager with TTM
 * @mgr: the manager to initialise
 * @bdev: the TTM device
 * @size: VRAM size in bytes, a multiple of PAGE_SIZE
 * @visible_size: size of the CPU-visible window at the start of VRAM
 *
 * Return: 0 on success, -ENOMEM if the buddy allocator cannot be set up.
 */
int dgmm_vram_mgr_init(struct dgmm_vram_mgr *mgr, struct ttm_device *bdev,
		       u64 size, u64 visible_size)
{
	struct ttm_resource_manager *man = &mgr->manager;
	int err;

	mutex_init(&mgr->lock);
	mgr->visible_size = min(visible_size, size);
	mgr->visible_avail = mgr->visible_size;

	man->func = &dgmm_vram_mgr_func;
	ttm_resource_manager_init(man, bdev, size);
	err = gpu_buddy_init(&mgr->mm, size, PAGE_SIZE);
	if (err) {
		mutex_destroy(&mgr->lock);
		return err;
	}
	ttm_set_driver_manager(bdev, TTM_PL_VRAM, man);
	ttm_resource_manager_set_used(man, true);
	return 0;
}

/**
 * dgmm_vram_mgr_fini - evict everything and unregister the VRAM manager
 * @mgr: the manager
 * @bdev: the TTM device it was registered with
 *
 * Return: 0, or the error of evicting the BOs still in VRAM, in which case
 * the manager stays registered (and its memory is leaked, not corrupted).
 */
int dgmm_vram_mgr_fini(struct dgmm_vram_mgr *mgr, struct ttm_device *bdev)
{
	struct ttm_resource_manager *man = &mgr->manager;
	int err;

	/*
	 * Evicting also waits for BOs that are already deleted but still
	 * busy (TTM frees them from its workqueue), up to TTM's 15 s each:
	 * only then is the LRU empty, as ttm_resource_manager_set_used()
	 * wants it. A BO still busy after that fails the teardown (below).
	 */
	err = ttm_resource_manager_evict_all(bdev, man);
	if (err)
		return err;

	ttm_resource_manager_set_used(man, false);
	ttm_resource_manager_cleanup(man);
	ttm_set_driver_manager(bdev, TTM_PL_VRAM, NULL);
	gpu_buddy_fini(&mgr->mm);
	mutex_destroy(&mgr->lock);
	return 0;
}

/**
 * dgmm_vram_mgr_usage - how much VRAM is allocated
 * @mgr: the manager
 * @used: bytes allocated in all of VRAM
 * @visible_used: bytes allocated in the CPU-visible window
 */
void dgmm_vram_mgr_usage(struct dgmm_vram_mgr *mgr, u64 *used, u64 *visible_used)
{
	mutex_lock(&mgr->lock);
	*used = mgr->mm.size - mgr->mm.avail;
	*visible_used = mgr->visible_size - mgr->visible_avail;
	mutex_unlock(&mgr->lock);
}

/**
 * dgmm_vram_mgr_snapshot - the VRAM ranges of part of a resource, for the copy engine
 * @mgr: the manager
 * @res: a VRAM resource
 * @offset: where in the resource to start, in bytes
 * @size: bytes, not past the resource's end
 * @dirty_only: only the blocks that the allocator did not hand out cleared
 * @mem: filled with a copy of the ranges, allocated with kvmalloc (the
 *	 caller, or the engine it hands @mem to, frees it with
 *	 dgmm_mem_release())
 * @bytes: set to the bytes the ranges cover (may be NULL)
 *
 * Return: 0 or -ENOMEM.
 */
int dgmm_vram_mgr_snapshot(struct dgmm_vram_mgr *mgr, struct ttm_resource *res,
			   u64 offset, u64 size, bool dirty_only, struct dgmm_mem *mem,
			   u64 *bytes)
{
	struct dgmm_vram_cursor cur;
	unsigned int n = 0;
	u64 total = 0;

	/* One range per block: the cursor stops at every block's end. */
	for (dgmm_vram_cursor_first(&cur, mgr, res, offset, size); cur.remaining;
	     dgmm_vram_cursor_next(&cur, cur.size))
		n += !dirty_only || !gpu_buddy_block_is_clear(cur.block);
	mem->kind = DGMM_MEM_VRAM;
	mem->count = n;
	/* Not one high-order allocation for a fragmented BO under pressure. */
	mem->ranges = kvmalloc_array(n, sizeof(*mem->ranges), GFP_KERNEL);
	if (!mem->ranges)
		return -ENOMEM;

	n = 0;
	for (dgmm_vram_cursor_first(&cur, mgr, res, offset, size); cur.remaining;
	     dgmm_vram_cursor_next(&cur, cur.size)) {
		if (dirty_only && gpu_buddy_block_is_clear(cur.block))
			continue;
		mem->ranges[n].offset = cur.start;
		mem->ranges[n].size = cur.size;
		total += cur.size;
		n++;
	}
	if (bytes)
		*bytes = total;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_vram_mgr_snapshot);

/**
 * dgmm_vram_mgr_set_cleared - a resource reads zero, or will
 * @res: a VRAM resource, of a reserved BO
 * @fence: the job that zeroes its dirty blocks, or NULL if none had to be
 *
 * Its blocks go back to the allocator as cleared when it is freed, unless it
 * is marked dirty before, or @fence has not signalled, or failed.
 */
void dgmm_vram_mgr_set_cleared(struct ttm_resource *res, struct dma_fence *fence)
{
	struct dgmm_vram_resource *vres = to_dgmm_vram_resource(res);

	dma_fence_put(vres->clear_fence);
	vres->clear_fence = dma_fence_get(fence);
	WRITE_ONCE(vres->cleared, true);
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_vram_mgr_set_cleared);

/**
 * dgmm_vram_mgr_mark_dirty - someone may write this resource now
 * @res: a VRAM resource, of a reserved BO
 *
 * Call it before giving anyone a way to write the resource: a CPU mapping,
 * a debugger's access, a copy into it. Its blocks then go back to the
 * allocator as dirty, and the next BO that gets them has them zeroed.
 */
void dgmm_vram_mgr_mark_dirty(struct ttm_resource *res)
{
	WRITE_ONCE(to_dgmm_vram_resource(res)->cleared, false);
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_vram_mgr_mark_dirty);

/**
 * dgmm_vram_mgr_offset - where a byte of a resource lies in VRAM
 * @mgr: the manager
 * @res: a VRAM resource
 * @offset: byte offset into the resource, below its size
 * @contiguous: set to how many bytes from there on are contiguous in VRAM
 *
 * Return: the byte offset in VRAM.
 */
u64 dgmm_vram_mgr_offset(struct dgmm_vram_mgr *mgr, struct ttm_resource *res, u64 offset,
			 u64 *contiguous)
{
	struct dgmm_vram_cursor cur;

	dgmm_vram_cursor_first(&cur, mgr, res, offset, res->size - offset);
	*contiguous = cur.size;
	return cur.size ? cur.start : 0;
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_vram_mgr_offset);

/**
 * dgmm_vram_mgr_visible - does a VRAM resource lie wholly in the CPU-visible window?
 * @res: a VRAM resource
 *
 * Return: true if the CPU can reach every byte of it.
 */
bool dgmm_vram_mgr_visible(struct ttm_resource *res)
{
	return to_dgmm_vram_resource(res)->used_visible_size >= res->size;
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_vram_mgr_visible);

/**
 * dgmm_vram_mgr_visible_bytes - how much of a VRAM resource is CPU-visible
 * @res: a VRAM resource
 *
 * Return: its bytes inside the CPU-visible window.
 */
u64 dgmm_vram_mgr_visible_bytes(struct ttm_resource *res)
{
	return to_dgmm_vram_resource(res)->used_visible_size;
}
