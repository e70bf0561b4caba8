// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The memory manager of one device: a TTM device with three placements.
 *
 *   TTM_PL_SYSTEM  TTM's own manager: pages the device cannot reach
 *   TTM_PL_TT      dgmm_gtt_mgr: pages DMA-mapped for the device, size-limited
 *   TTM_PL_VRAM    dgmm_vram_mgr: buddy allocator over the VRAM BAR
 *
 * Pages of TT and SYSTEM come from the TTM device's ttm_pool, which allocates
 * and DMA-maps them for the PCI device. Moves are in dgmm_move.c, BOs in
 * dgmm_bo.c; eviction/ chooses victims and placement/ where they go.
 */

#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <kunit/visibility.h>
#include <drm/drm_device.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_print.h>
#include <drm/ttm/ttm_bo.h>
#include <drm/ttm/ttm_placement.h>
#include <drm/ttm/ttm_tt.h>

#include "dmabuf/dgmm_dmabuf.h"
#include "eviction/dgmm_evict.h"
#include "trace/dgmm_trace.h"
#include "dgmm_bo.h"
#include "dgmm_mm.h"

static struct ttm_tt *dgmm_ttm_tt_create(struct ttm_buffer_object *bo,
					 u32 page_flags)
{
	struct ttm_tt *tt;

	tt = kzalloc(sizeof(*tt), GFP_KERNEL);
	if (!tt)
		return NULL;

	/*
	 * The device snoops the CPU's caches (PCIe devices can; xe keeps system
	 * memory cached too), so GTT pages stay cached: no page-attribute
	 * changes and TLB flushes when they are allocated, no write-combined
	 * pool that clears every page handed back to it, cached CPU mappings.
	 *
	 * ttm_sg_tt_init() gives the tt a dma_address array: ttm_pool_alloc()
	 * maps each page for the device with the DMA API and records its bus
	 * address there, which is all the copy engine is ever given.
	 */
	if (ttm_sg_tt_init(tt, bo, page_flags, ttm_cached)) {
		kfree(tt);
		return NULL;
	}
	return tt;
}

/* An imported BO's tt (TTM_TT_FLAG_EXTERNAL) gets its addresses from dmabuf/. */
static int dgmm_ttm_tt_populate(struct ttm_device *bdev, struct ttm_tt *tt,
				struct ttm_operation_ctx *ctx)
{
	int err;

	if (tt->page_flags & TTM_TT_FLAG_EXTERNAL)
		return 0;
	err = ttm_pool_alloc(&bdev->pool, tt, ctx);
	/*
	 * ttm_pool reports a page it could not DMA-map as -EFAULT. Behind an
	 * IOMMU that is IOVA space or the IOMMU's page tables running out:
	 * memory the request could not get, not a bad address of the caller.
	 */
	return err == -EFAULT ? -ENOMEM : err;
}

static void dgmm_ttm_tt_unpopulate(struct ttm_device *bdev, struct ttm_tt *tt)
{
	if (tt->page_flags & TTM_TT_FLAG_EXTERNAL)
		return;
	ttm_pool_free(&bdev->pool, tt);
}

/*
 * The BO's backing store goes for good (TTM waited for it to be idle): an
 * imported BO lets go of this device's fences in the exporter's
 * reservation (its attachment went with its last GEM reference).
 */
static void dgmm_ttm_delete_mem_notify(struct ttm_buffer_object *tbo)
{
	if (dgmm_bo_is_dgmm_bo(tbo) && dgmm_bo_is_imported(to_dgmm_bo(tbo)))
		dgmm_dmabuf_import_release(to_dgmm_bo(tbo));
}

static void dgmm_ttm_tt_destroy(struct ttm_device *bdev, struct ttm_tt *tt)
{
	ttm_tt_fini(tt);
	kfree(tt);
}

/*
 * TTM is about to swap a BO's pages out (it moved the BO to SYSTEM and
 * waited for it first): the one change of backing store that is no move.
 * Traced and counted here, before ttm_tt_swapout(), which can still fail:
 * the pages then stay where they are.
 */
static void dgmm_ttm_swap_notify(struct ttm_buffer_object *tbo)
{
	struct dgmm_bo *bo;

	if (!dgmm_bo_is_dgmm_bo(tbo))
		return;
	bo = to_dgmm_bo(tbo);
	/* An importer cannot hold a BO in SYSTEM mapped; told all the same. */
	dgmm_dmabuf_move_notify(bo);
	atomic64_inc(&bo->mm->stats.swapouts);
	trace_dgmm_bo_move(bo, tbo->resource->mem_type, DGMM_TRACE_SWAP, DGMM_MOVE_SWAP, 0, NULL);
}

/*
 * CPU mappings of VRAM go through the BAR, write-combined. bus.offset is the
 * BAR address of the resource's first byte. Only a contiguous resource can
 * be mapped linearly from it (ttm_bo_kmap(), ttm_bo_vmap()); user mappings
 * find each page with io_mem_pfn, and dgmm makes no linear kernel mapping
 * of VRAM BOs.
 */
static int dgmm_ttm_io_mem_reserve(struct ttm_device *bdev, struct ttm_resource *res)
{
	struct dgmm_mm *mm = ttm_to_dgmm_mm(bdev);
	u64 contiguous;

	switch (res->mem_type) {
	case TTM_PL_SYSTEM:
	case TTM_PL_TT:
		return 0;
	case TTM_PL_VRAM:
		/* The fault handler moves BOs into the window first. */
		if (!dgmm_vram_mgr_visible(res))
			return -EINVAL;
		res->bus.is_iomem = true;
		res->bus.caching = ttm_write_combined;
		res->bus.offset = mm->vram_io_start +
				  dgmm_vram_mgr_offset(&mm->vram, res, 0, &contiguous);
		return 0;
	default:
		return -EINVAL;
	}
}

/* A VRAM BO is not contiguous in general: find each page's block. */
static unsigned long dgmm_ttm_io_mem_pfn(struct ttm_buffer_object *bo,
					 unsigned long page_offset)
{
	struct dgmm_mm *mm = ttm_to_dgmm_mm(bo->bdev);
	u64 contiguous;
	u64 offset = dgmm_vram_mgr_offset(&mm->vram, bo->resource,
					  (u64)page_offset << PAGE_SHIFT, &contiguous);

	return (mm->vram_io_start + offset) >> PAGE_SHIFT;
}

/**
 * dgmm_mm_pages_access - read or write bytes of an array of pages
 * @pages: the pages
 * @offset: where to start, in bytes from the first page
 * @buf: what to write, or where to read to
 * @len: bytes
 * @write: write @buf into the pages rather than read them
 */
void dgmm_mm_pages_access(struct page **pages, u64 offset, void *buf, u64 len, bool write)
{
	while (len) {
		u64 n = min_t(u64, len, PAGE_SIZE - offset % PAGE_SIZE);
		void *p = kmap_local_page(pages[offset >> PAGE_SHIFT]);

		if (write)
			memcpy(p + offset % PAGE_SIZE, buf, n);
		else
			memcpy(buf, p + offset % PAGE_SIZE, n);
		kunmap_local(p);
		buf += n;
		offset += n;
		len -= n;
	}
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_mm_pages_access);

/* VRAM, visible or not, through the kernel's mapping of all of it. */
static int access_vram(struct dgmm_mm *mm, struct ttm_resource *res, unsigned long offset,
		       void *buf, int len, int write)
{
	struct dgmm_vram_cursor cur;
	int idx;

	/* The VRAM mapping goes away with the device. */
	if (!drm_dev_enter(mm->drm, &idx))
		return -ENODEV;
	if (write)
		dgmm_vram_mgr_mark_dirty(res);

	for (dgmm_vram_cursor_first(&cur, &mm->vram, res, offset, len); cur.remaining;
	     dgmm_vram_cursor_next(&cur, cur.size)) {
		if (write)
			memcpy_toio(mm->vram_map + cur.start, buf, cur.size);
		else
			memcpy_fromio(buf, mm->vram_map + cur.start, cur.size);
		buf += cur.size;
	}
	drm_dev_exit(idx);
	return len;
}

/**
 * dgmm_mm_access - a debugger's access to a BO (ptrace, /proc/pid/mem)
 * @bo: the BO, reserved
 * @offset: where in the BO
 * @buf: what to write, or where to read to
 * @len: bytes, within the BO
 * @write: write rather than read
 *
 * Waits for every pending move and clear first (KERNEL fences), whatever
 * the placement: TTM's own helper for GTT and SYSTEM does not, and would
 * read pages a copy has yet to fill. VRAM is reached through the kernel's
 * mapping without moving the BO, pages are brought back from swap. This is
 * both TTM's access_memory callback and what the BO's vm_ops.access calls.
 *
 * Return: bytes accessed, or a negative error code.
 */
int dgmm_mm_access(struct ttm_buffer_object *bo, unsigned long offset, void *buf,
		   int len, int write)
{
	struct ttm_operation_ctx ctx = { .interruptible = true };
	struct dgmm_mm *mm = ttm_to_dgmm_mm(bo->bdev);
	long ret;

	dma_resv_assert_held(bo->base.resv);
	if (!bo->resource)
		return -ENODATA;
	ret = dma_resv_wait_timeout(bo->base.resv, DMA_RESV_USAGE_KERNEL, true,
				    MAX_SCHEDULE_TIMEOUT);
	if (ret < 0)
		return ret;
	if (bo->resource->mem_type == TTM_PL_VRAM)
		return access_vram(mm, bo->resource, offset, buf, len, write);

	/* An imported BO has no pages here: the exporter's mmap has them. */
	if (!bo->ttm || bo->type == ttm_bo_type_sg)
		return -EIO;
	ret = ttm_tt_populate(bo->bdev, bo->ttm, &ctx);
	if (ret)
		return ret;
	dgmm_mm_pages_access(bo->ttm->pages, offset, buf, len, write);
	return len;
}

static const struct ttm_device_funcs dgmm_ttm_funcs = {
	.ttm_tt_create = dgmm_ttm_tt_create,
	.ttm_tt_populate = dgmm_ttm_tt_populate,
	.ttm_tt_unpopulate = dgmm_ttm_tt_unpopulate,
	.ttm_tt_destroy = dgmm_ttm_tt_destroy,
	.eviction_valuable = dgmm_evict_valuable,
	.evict_flags = dgmm_evict_flags,
	.swap_notify = dgmm_ttm_swap_notify,
	.delete_mem_notify = dgmm_ttm_delete_mem_notify,
	.move = dgmm_bo_move,
	.io_mem_reserve = dgmm_ttm_io_mem_reserve,
	.io_mem_pfn = dgmm_ttm_io_mem_pfn,
	.access_memory = dgmm_mm_access,
};

/**
 * dgmm_mm_init - set up the TTM device and its VRAM and GTT managers
 * @mm: the memory manager to initialise
 * @cfg: sizes and the DRM device
 *
 * Return: 0 on success, a negative error code on failure (nothing is left
 * initialised then).
 */
int dgmm_mm_init(struct dgmm_mm *mm, const struct dgmm_mm_config *cfg)
{
	struct drm_device *drm = cfg->drm;
	int err;

	if (!cfg->vram_size || !PAGE_ALIGNED(cfg->vram_size) || !cfg->gtt_size ||
	    !cfg->engine) {
		drm_err(drm, "bad memory sizes: vram %llu, gtt %llu\n",
			cfg->vram_size, cfg->gtt_size);
		return -EINVAL;
	}

	mm->drm = drm;
	mm->engine = cfg->engine;
	mm->vram_io_start = cfg->vram_io_start;
	mm->vram_map = cfg->vram;
	mm->limits = (struct dgmm_placement_limits){
		.vram_size = cfg->vram_size,
		.vram_visible_size = min(cfg->vram_visible_size, cfg->vram_size),
		.gtt_size = PAGE_ALIGN(cfg->gtt_size),
		.system_size = (u64)totalram_pages() << PAGE_SHIFT,
	};
	mm->detach_wq = alloc_workqueue("dgmm-detach", WQ_UNBOUND, 0);
	if (!mm->detach_wq)
		return -ENOMEM;
	mutex_init(&mm->bo_lock);
	mutex_init(&mm->import_lock);
	INIT_LIST_HEAD(&mm->bos);
	dgmm_move_budget_init(&mm->budget, ktime_get());
	err = ttm_device_init(&mm->ttm, &dgmm_ttm_funcs, drm->dev,
			      drm->anon_inode->i_mapping,
			      drm->vma_offset_manager, false, false);
	if (err)
		goto err_wq;

	err = dgmm_vram_mgr_init(&mm->vram, &mm->ttm, cfg->vram_size,
				 cfg->vram_visible_size);
	if (err)
		goto err_ttm;

	dgmm_gtt_mgr_init(&mm->gtt, &mm->ttm, PAGE_ALIGN(cfg->gtt_size));
	return 0;

err_ttm:
	ttm_device_fini(&mm->ttm);
err_wq:
	destroy_workqueue(mm->detach_wq);
	mutex_destroy(&mm->import_lock);
	mutex_destroy(&mm->bo_lock);
	return err;
}

/*
 * The BO after @after on the list (the first if NULL) that TTM still holds
 * (a BO without GEM handles can live on in a CPU mapping), with one more
 * TTM reference; under bo_lock.
 */
static struct dgmm_bo *next_bo_get(struct dgmm_mm *mm, struct dgmm_bo *after)
{
	struct dgmm_bo *bo = after ? list_next_entry(after, link) :
			     list_first_entry(&mm->bos, struct dgmm_bo, link);

	lockdep_assert_held(&mm->bo_lock);
	list_for_each_entry_from(bo, &mm->bos, link)
		if (ttm_bo_get_unless_zero(&bo->tbo))
			return bo;
	return NULL;
}

/* One BO at unplug: see dgmm_mm_unplug(). */
static void unplug_bo(struct dgmm_mm *mm, struct dgmm_bo *bo)
{
	struct ttm_operation_ctx ctx = { .interruptible = false };
	struct ttm_placement gutting = {};
	struct ttm_tt *tt;
	int err = 0;

	dma_resv_lock(bo->tbo.base.resv, NULL);
	/* Already on TTM's delayed delete: its worker frees it (flushed below). */
	if (bo->tbo.deleted) {
		dma_resv_unlock(bo->tbo.base.resv);
		return;
	}
	if (dgmm_bo_is_imported(bo)) {
		/* Its attachment goes now, not when its file closes. */
		dma_resv_unlock(bo->tbo.base.resv);
		dgmm_dmabuf_import_detach(bo);
		return;
	}
	tt = bo->tbo.ttm;
	/* Importers drop their mappings of it (and wait for their jobs). */
	dgmm_dmabuf_move_notify(bo);
	if (!bo->tbo.pin_count && bo->tbo.resource && tt && ttm_tt_is_populated(tt))
		/* An empty placement drops the pages with their DMA mappings. */
		err = ttm_bo_validate(&bo->tbo, &gutting, &ctx);
	dma_resv_unlock(bo->tbo.base.resv);
	if (err)
		drm_dbg(mm->drm, "unplug: BO %llu keeps its pages (%d)\n", bo->id, err);
}

/**
 * dgmm_mm_unplug - drop every DMA mapping of a device that is going away
 * @mm: the memory manager, whose engine has finished every job
 *
 * Open files keep BOs after the device is unbound; their pages must not
 * stay mapped for a device that is gone. Each BO's importers are told
 * first; an imported BO detaches from its dma-buf (with the exporter's
 * mapping for the device), and a BO with pages loses them (its contents
 * are gone with the device: CPU mappings already fault in a dummy page).
 * VRAM needs nothing. A BO pinned for another device keeps its pages and
 * mapping until that device lets go. TTM's delayed deletions, which hold
 * the pages of finished moves, are waited for.
 */
void dgmm_mm_unplug(struct dgmm_mm *mm)
{
	struct dgmm_bo *bo, *next;

	/* Not under bo_lock: a BO's last put takes it, under other locks. */
	mutex_lock(&mm->bo_lock);
	bo = next_bo_get(mm, NULL);
	mutex_unlock(&mm->bo_lock);
	while (bo) {
		unplug_bo(mm, bo);
		mutex_lock(&mm->bo_lock);
		next = next_bo_get(mm, bo);
		mutex_unlock(&mm->bo_lock);
		ttm_bo_put(&bo->tbo);
		bo = next;
	}
	/*
	 * Detaches queued by last GEM references (unplug_bo() did their work,
	 * or they did it first): their TTM references go before TTM's frees
	 * are waited for.
	 */
	flush_workqueue(mm->detach_wq);
	flush_workqueue(mm->ttm.wq);
}

/**
 * dgmm_mm_fini - tear down what dgmm_mm_init() set up
 * @mm: the memory manager
 *
 * Called after the last user of the device is gone.
 */
void dgmm_mm_fini(struct dgmm_mm *mm)
{
	int err;

	/* The last detaches hold their BOs: they end before TTM does. */
	destroy_workqueue(mm->detach_wq);
	/* VRAM first: what it still holds is evicted to GTT and SYSTEM. */
	err = dgmm_vram_mgr_fini(&mm->vram, &mm->ttm);
	if (err)
		drm_err(mm->drm, "evicting VRAM at teardown failed: %d\n", err);
	err = dgmm_gtt_mgr_fini(&mm->gtt, &mm->ttm);
	if (err)
		drm_err(mm->drm, "evicting GTT at teardown failed: %d\n", err);
	ttm_device_fini(&mm->ttm);
	mutex_destroy(&mm->import_lock);
	mutex_destroy(&mm->bo_lock);
}

/**
 * dgmm_mm_region_usage - size and use of a region
 * @mm: the memory manager
 * @mem_type: TTM_PL_SYSTEM, TTM_PL_TT or TTM_PL_VRAM
 * @usage: filled in
 */
void dgmm_mm_region_usage(struct dgmm_mm *mm, u32 mem_type,
			  struct dgmm_region_usage *usage)
{
	struct ttm_resource_manager *man = ttm_manager_type(&mm->ttm, mem_type);

	switch (mem_type) {
	case TTM_PL_VRAM:
		usage->size = man->size;
		usage->visible_size = mm->vram.visible_size;
		dgmm_vram_mgr_usage(&mm->vram, &usage->used, &usage->visible_used);
		break;
	case TTM_PL_TT:
		usage->size = man->size;
		usage->visible_size = man->size;
		usage->used = dgmm_gtt_mgr_usage(&mm->gtt);
		usage->visible_used = usage->used;
		break;
	default:
		usage->size = (u64)totalram_pages() << PAGE_SHIFT;
		usage->visible_size = usage->size;
		usage->used = ttm_resource_manager_usage(man);
		usage->visible_used = usage->used;
		break;
	}
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_mm_region_usage);
