// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The memory manager of one device: a TTM device with three placements.
 *
 *   TTM_PL_SYSTEM  TTM's own manager: pages the device cannot reach
 *   TTM_PL_TT      dgmm_gtt_mgr: pages DMA-mapped for the device, size-limited
 *   TTM_PL_VRAM    dgmm_vram_mgr: buddy allocator over the VRAM BAR
 *
 * Pages of TT and SYSTEM come from the TTM device's ttm_pool, which allocates
 * and DMA-maps them for the PCI device.
 */

#include <linux/mm.h>
#include <linux/slab.h>
#include <kunit/visibility.h>
#include <drm/drm_device.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_print.h>
#include <drm/ttm/ttm_bo.h>
#include <drm/ttm/ttm_placement.h>
#include <drm/ttm/ttm_tt.h>

#include "dgmm_mm.h"

static struct ttm_tt *dgmm_ttm_tt_create(struct ttm_buffer_object *bo,
					 u32 page_flags)
{
	struct ttm_tt *tt;

	tt = kzalloc(sizeof(*tt), GFP_KERNEL);
	if (!tt)
		return NULL;

	/* The device snoops nothing: its view of system pages is uncached. */
	if (ttm_tt_init(tt, bo, page_flags, ttm_write_combined, 0)) {
		kfree(tt);
		return NULL;
	}
	return tt;
}

static int dgmm_ttm_tt_populate(struct ttm_device *bdev, struct ttm_tt *tt,
				struct ttm_operation_ctx *ctx)
{
	return ttm_pool_alloc(&bdev->pool, tt, ctx);
}

static void dgmm_ttm_tt_unpopulate(struct ttm_device *bdev, struct ttm_tt *tt)
{
	ttm_pool_free(&bdev->pool, tt);
}

static void dgmm_ttm_tt_destroy(struct ttm_device *bdev, struct ttm_tt *tt)
{
	ttm_tt_fini(tt);
	kfree(tt);
}

/* Where an evicted BO goes: out of the device's reach, to system memory. */
static void dgmm_ttm_evict_flags(struct ttm_buffer_object *bo,
				 struct ttm_placement *placement)
{
	static const struct ttm_place sys_place = { .mem_type = TTM_PL_SYSTEM };

	placement->num_placement = 1;
	placement->placement = &sys_place;
}

/*
 * Buffer objects arrive with the copy engine; until then no BO exists and
 * nothing can ask to move one. Refuse loudly rather than move wrongly.
 */
static int dgmm_ttm_move(struct ttm_buffer_object *bo, bool evict,
			 struct ttm_operation_ctx *ctx,
			 struct ttm_resource *new_mem, struct ttm_place *hop)
{
	drm_dbg_driver(bo->base.dev, "no moves before the copy engine exists\n");
	return -EOPNOTSUPP;
}

static const struct ttm_device_funcs dgmm_ttm_funcs = {
	.ttm_tt_create = dgmm_ttm_tt_create,
	.ttm_tt_populate = dgmm_ttm_tt_populate,
	.ttm_tt_unpopulate = dgmm_ttm_tt_unpopulate,
	.ttm_tt_destroy = dgmm_ttm_tt_destroy,
	.eviction_valuable = ttm_bo_eviction_valuable,
	.evict_flags = dgmm_ttm_evict_flags,
	.move = dgmm_ttm_move,
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

	if (!cfg->vram_size || !PAGE_ALIGNED(cfg->vram_size) || !cfg->gtt_size) {
		drm_err(drm, "bad memory sizes: vram %llu, gtt %llu\n",
			cfg->vram_size, cfg->gtt_size);
		return -EINVAL;
	}

	mm->drm = drm;
	err = ttm_device_init(&mm->ttm, &dgmm_ttm_funcs, drm->dev,
			      drm->anon_inode->i_mapping,
			      drm->vma_offset_manager, false, false);
	if (err)
		return err;

	err = dgmm_vram_mgr_init(&mm->vram, &mm->ttm, cfg->vram_size,
				 cfg->vram_visible_size);
	if (err)
		goto err_ttm;

	dgmm_gtt_mgr_init(&mm->gtt, &mm->ttm, PAGE_ALIGN(cfg->gtt_size));
	return 0;

err_ttm:
	ttm_device_fini(&mm->ttm);
	return err;
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

	err = dgmm_gtt_mgr_fini(&mm->gtt, &mm->ttm);
	if (err)
		drm_err(mm->drm, "evicting GTT at teardown failed: %d\n", err);
	err = dgmm_vram_mgr_fini(&mm->vram, &mm->ttm);
	if (err)
		drm_err(mm->drm, "evicting VRAM at teardown failed: %d\n", err);
	ttm_device_fini(&mm->ttm);
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
