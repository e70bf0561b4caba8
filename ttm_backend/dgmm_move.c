// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Moving a BO between placements: ttm_device_funcs.move.
 *
 *   from \ to   SYSTEM          GTT               VRAM
 *   none        nothing         nothing (pages    clear on the engine
 *                               come zeroed)
 *   SYSTEM      -               nothing (pages    via GTT (multihop), or a
 *                               get mapped)       clear if it holds no data
 *   GTT         nothing (pages  -                 copy on the engine
 *               stay mapped)
 *   VRAM        via GTT         copy on the       copy on the engine
 *               (multihop)      engine            (e.g. into the visible window)
 *
 * Copies and clears are pipelined: the engine runs them after every fence of
 * the BO's reservation object (which includes the move fence TTM attached
 * for the new resource) and the move returns at once with the job's fence
 * installed as DMA_RESV_USAGE_KERNEL. Whoever touches the BO next waits for
 * it: CPU faults wait for KERNEL fences, later jobs depend on all fences.
 */

#include <linux/dma-fence.h>
#include <drm/ttm/ttm_bo.h>
#include <drm/ttm/ttm_tt.h>

#include "dmabuf/dgmm_dmabuf.h"
#include "trace/dgmm_trace.h"
#include "dgmm_bo.h"
#include "dgmm_mm.h"

/* The backing store of @res as the engine reaches it. */
static int mem_of(struct dgmm_mm *mm, struct ttm_buffer_object *tbo,
		  struct ttm_resource *res, struct dgmm_mem *mem)
{
	if (res->mem_type == TTM_PL_VRAM)
		return dgmm_vram_mgr_snapshot(&mm->vram, res, 0, res->size, false, mem, NULL);

	if (!tbo->ttm || !ttm_tt_is_populated(tbo->ttm))
		return -EINVAL;
	mem->kind = DGMM_MEM_DMA;
	mem->count = tbo->ttm->num_pages;
	mem->addrs = tbo->ttm->dma_address;
	return 0;
}

/*
 * A move done: @copied bytes went through the engine (0 for clears and null
 * moves), @fence is the job doing it (NULL if none). Ghost objects are
 * TTM's: counted, not traced.
 */
static void account(struct dgmm_mm *mm, struct ttm_buffer_object *tbo, bool evict,
		    bool from_hop, u32 from, u32 to, u64 copied, struct dma_fence *fence)
{
	if (dgmm_bo_is_dgmm_bo(tbo)) {
		struct dgmm_bo *bo = to_dgmm_bo(tbo);
		enum dgmm_move_reason reason = bo->move_reason;

		/* Evictions, and the hops on their way, have nobody to say why. */
		if (evict || reason == DGMM_MOVE_NONE)
			reason = DGMM_MOVE_EVICT;
		bo->move_count++;
		bo->last_move_from = from;
		bo->last_move_to = to;
		trace_dgmm_bo_move(bo, from, to, reason, copied, fence);
	}
	/*
	 * An eviction through a hop (VRAM -> GTT -> SYSTEM) is flagged as one
	 * only at its second half, from the temporary GTT: it left VRAM. TTM's
	 * swapout moves GTT BOs to SYSTEM as evictions too: they count as
	 * evictions from GTT. Ghost objects do not count.
	 */
	if (evict && dgmm_bo_is_dgmm_bo(tbo))
		atomic64_inc(&mm->stats.evictions[from_hop ? TTM_PL_VRAM : from]);
	atomic64_inc(&mm->stats.moves);
	atomic64_add(copied, &mm->stats.bytes[from][to]);
}

/*
 * A BO that holds no data yet lands in VRAM: zero the blocks of it that the
 * allocator did not hand out cleared. The resource then counts as cleared
 * (its blocks go back as such if nobody writes it) once the fill is done.
 */
static int clear_into_vram(struct dgmm_mm *mm, struct ttm_buffer_object *tbo,
			   struct ttm_resource *new_mem, struct dma_fence **out)
{
	struct dma_fence *fence;
	struct dgmm_mem dst;
	u64 dirty;
	int err;

	err = dgmm_vram_mgr_snapshot(&mm->vram, new_mem, 0, new_mem->size, true, &dst, &dirty);
	if (err)
		return err;
	if (!dirty) {
		dgmm_mem_release(&dst);
		dgmm_vram_mgr_set_cleared(new_mem, NULL);
		ttm_bo_move_null(tbo, new_mem);
		atomic64_inc(&mm->stats.clears_skipped);
		return 0;
	}

	fence = mm->engine->funcs->fill(mm->engine, &dst, dirty, 0, tbo->base.resv);
	if (IS_ERR(fence))
		return PTR_ERR(fence);

	/* TTM reserved a slot for this fence before calling move. */
	dma_resv_add_fence(tbo->base.resv, fence, DMA_RESV_USAGE_KERNEL);
	dgmm_vram_mgr_set_cleared(new_mem, fence);
	*out = fence;
	ttm_bo_move_null(tbo, new_mem);
	atomic64_inc(&mm->stats.clears);
	atomic64_add(dirty, &mm->stats.cleared_bytes);
	return 0;
}

/* On success *@out is the copy's fence, with a reference for the caller. */
static int copy_on_engine(struct dgmm_mm *mm, struct ttm_buffer_object *tbo,
			  struct ttm_resource *new_mem, struct dma_fence **out)
{
	struct dgmm_mem src, dst;
	struct dma_fence *fence;
	int err;

	err = mem_of(mm, tbo, tbo->resource, &src);
	if (err)
		return err;
	err = mem_of(mm, tbo, new_mem, &dst);
	if (err) {
		dgmm_mem_release(&src);
		return err;
	}

	fence = mm->engine->funcs->copy(mm->engine, &src, &dst, tbo->base.size,
					tbo->base.resv);
	if (IS_ERR(fence))
		return PTR_ERR(fence);

	/*
	 * Pipelined, the CPU never waits. VRAM the BO leaves is handed back
	 * at once, for an eviction, a migration or the first half of a hop
	 * alike (TTM flags none but the first as eviction, and would keep the
	 * VRAM on a ghost object that the next eviction has to wait for): the
	 * manager's move fence makes its next user depend on this copy. Pages
	 * the BO leaves go to a ghost object, freed once the copy is done.
	 */
	err = ttm_bo_move_accel_cleanup(tbo, fence, tbo->resource->mem_type == TTM_PL_VRAM,
					true, new_mem);
	if (err)
		dma_fence_put(fence);
	else
		*out = fence;
	return err;
}

/**
 * dgmm_bo_holds_data - does a BO hold contents that a move must keep?
 * @tbo: the BO, reserved
 *
 * Pages that TTM swapped out are data too: such a tt is no longer populated,
 * and ttm_tt_populate() brings the pages back from swap.
 *
 * Return: true once it has been in VRAM or its pages exist, in memory or
 * swapped out; false for a new BO, whose next placement is zeroed instead.
 */
bool dgmm_bo_holds_data(struct ttm_buffer_object *tbo)
{
	struct ttm_resource *res = tbo->resource;
	struct ttm_tt *tt = tbo->ttm;

	dma_resv_assert_held(tbo->base.resv);
	if (!res)
		return false;
	if (res->mem_type == TTM_PL_VRAM)
		return true;
	return tt && (ttm_tt_is_populated(tt) || (tt->page_flags & TTM_TT_FLAG_SWAPPED));
}

/**
 * dgmm_bo_move - ttm_device_funcs.move
 * @tbo: the BO, reserved
 * @evict: the move is an eviction (treated as any other move)
 * @ctx: the operation context
 * @new_mem: the resource to move to
 * @hop: where to go first when one step is not enough (NULL inside a hop)
 *
 * Return: 0, -EMULTIHOP with @hop filled in, or the error of the wait or of
 * the engine; on error the BO keeps its old resource.
 */
int dgmm_bo_move(struct ttm_buffer_object *tbo, bool evict,
		 struct ttm_operation_ctx *ctx, struct ttm_resource *new_mem,
		 struct ttm_place *hop)
{
	struct dgmm_mm *mm = ttm_to_dgmm_mm(tbo->bdev);
	struct ttm_resource *old = tbo->resource;
	bool from_hop = old && (old->placement & TTM_PL_FLAG_TEMPORARY);
	u32 from = old ? old->mem_type : TTM_PL_SYSTEM;
	struct dma_fence *fence = NULL;
	u32 to = new_mem->mem_type;
	int err = 0;

	dma_resv_assert_held(tbo->base.resv);

	if (dgmm_bo_is_dgmm_bo(tbo)) {
		struct dgmm_bo *bo = to_dgmm_bo(tbo);

		/* An imported BO has no memory to copy: only a mapping to drop. */
		if (dgmm_bo_is_imported(bo)) {
			if (to == TTM_PL_VRAM)
				return -EINVAL;
			if (to == TTM_PL_SYSTEM) {
				err = dgmm_dmabuf_import_unmap(bo, ctx);
				if (err)
					return err;
			}
			ttm_bo_move_null(tbo, new_mem);
			account(mm, tbo, evict, from_hop, from, to, 0, NULL);
			return 0;
		}
		/* Importers drop their mappings before the backing changes. */
		if (old)
			dgmm_dmabuf_move_notify(bo);
	}

	if (!dgmm_bo_holds_data(tbo)) {
		if (to == TTM_PL_VRAM)
			err = clear_into_vram(mm, tbo, new_mem, &fence);
		else
			ttm_bo_move_null(tbo, new_mem);	/* zeroed pages */
		if (!err)
			account(mm, tbo, evict, from_hop, from, to, 0, fence);
		dma_fence_put(fence);
		return err;
	}

	switch (from << 4 | to) {
	case TTM_PL_SYSTEM << 4 | TTM_PL_TT:
		/* TTM populated and DMA-mapped the pages already. */
		ttm_bo_move_null(tbo, new_mem);
		account(mm, tbo, evict, from_hop, from, to, 0, NULL);
		return 0;
	case TTM_PL_TT << 4 | TTM_PL_SYSTEM:
		/*
		 * Pipelined, without waiting: the device has no GART binding to
		 * tear down, and the pages (and their DMA mappings) stay until
		 * TTM unpopulates the tt, which it does only when the BO is idle
		 * (swapout and destruction wait). A copy into them that is still
		 * running (the second half of VRAM -> GTT -> SYSTEM) keeps its
		 * fence in the reservation, and every CPU access waits for it.
		 */
		ttm_bo_move_null(tbo, new_mem);
		account(mm, tbo, evict, from_hop, from, to, 0, NULL);
		return 0;
	case TTM_PL_SYSTEM << 4 | TTM_PL_VRAM:
	case TTM_PL_VRAM << 4 | TTM_PL_SYSTEM:
		/* The engine reaches system pages only through GTT. */
		if (!hop)
			return -EINVAL;
		*hop = (struct ttm_place){ .mem_type = TTM_PL_TT,
					   .flags = TTM_PL_FLAG_TEMPORARY };
		return -EMULTIHOP;
	default:
		err = copy_on_engine(mm, tbo, new_mem, &fence);
		if (err)
			return err;
		account(mm, tbo, evict, from_hop, from, to, tbo->base.size, fence);
		dma_fence_put(fence);
		return 0;
	}
}
