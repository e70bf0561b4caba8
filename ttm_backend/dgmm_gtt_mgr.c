// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * GTT resource manager: a byte budget for device-reachable system memory.
 *
 * Allocation reserves bo->base.size bytes of the budget or fails with -ENOSPC,
 * which makes TTM evict from GTT (to SYSTEM) and retry. There is no address
 * range to allocate in: a place with fpfn or lpfn set cannot be satisfied.
 *
 * Temporary resources (TTM_PL_FLAG_TEMPORARY: the hop of a move between
 * VRAM and SYSTEM, which the engine can only make through GTT) are counted
 * but never refused, as amdgpu's GTT manager never refuses them: they live
 * only while the BO moves, and refusing them would make a BO bigger than
 * GTT impossible to evict from VRAM, and every eviction wait for room in a
 * full GTT. So GTT's use can pass its size for the time of a hop. (If the
 * second half of a hop fails, the BO stays on its temporary resource, still
 * counted, until its next move.)
 */

#include <linux/slab.h>
#include <drm/drm_print.h>
#include <drm/ttm/ttm_bo.h>
#include <drm/ttm/ttm_device.h>
#include <drm/ttm/ttm_placement.h>

#include "dgmm_gtt_mgr.h"

static int dgmm_gtt_mgr_alloc(struct ttm_resource_manager *man,
			      struct ttm_buffer_object *bo,
			      const struct ttm_place *place,
			      struct ttm_resource **res)
{
	struct dgmm_gtt_mgr *mgr = to_dgmm_gtt_mgr(man);
	u64 size = bo->base.size;
	struct ttm_resource *r;

	if (place->fpfn || place->lpfn)
		return -ENOSPC;

	if (atomic64_add_return(size, &mgr->used) > man->size &&
	    !(place->flags & TTM_PL_FLAG_TEMPORARY)) {
		atomic64_sub(size, &mgr->used);
		return -ENOSPC;
	}

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r) {
		atomic64_sub(size, &mgr->used);
		return -ENOMEM;
	}
	ttm_resource_init(bo, place, r);
	*res = r;
	return 0;
}

static void dgmm_gtt_mgr_free(struct ttm_resource_manager *man,
			      struct ttm_resource *res)
{
	struct dgmm_gtt_mgr *mgr = to_dgmm_gtt_mgr(man);

	atomic64_sub(res->size, &mgr->used);
	ttm_resource_fini(man, res);
	kfree(res);
}

/* Any GTT resource satisfies any GTT place: there are no ranges. */
static bool dgmm_gtt_mgr_intersects(struct ttm_resource_manager *man,
				    struct ttm_resource *res,
				    const struct ttm_place *place, size_t size)
{
	return true;
}

static bool dgmm_gtt_mgr_compatible(struct ttm_resource_manager *man,
				    struct ttm_resource *res,
				    const struct ttm_place *place, size_t size)
{
	return true;
}

static void dgmm_gtt_mgr_debug(struct ttm_resource_manager *man,
			       struct drm_printer *p)
{
	struct dgmm_gtt_mgr *mgr = to_dgmm_gtt_mgr(man);

	drm_printf(p, "limit: %llu MiB, used: %llu KiB\n", man->size >> 20,
		   (u64)atomic64_read(&mgr->used) >> 10);
}

static const struct ttm_resource_manager_func dgmm_gtt_mgr_func = {
	.alloc = dgmm_gtt_mgr_alloc,
	.free = dgmm_gtt_mgr_free,
	.intersects = dgmm_gtt_mgr_intersects,
	.compatible = dgmm_gtt_mgr_compatible,
	.debug = dgmm_gtt_mgr_debug,
};

/**
 * dgmm_gtt_mgr_init - register the GTT manager with TTM
 * @mgr: the manager to initialise
 * @bdev: the TTM device
 * @size: the most bytes that may be in GTT at once
 */
void dgmm_gtt_mgr_init(struct dgmm_gtt_mgr *mgr, struct ttm_device *bdev, u64 size)
{
	struct ttm_resource_manager *man = &mgr->manager;

	atomic64_set(&mgr->used, 0);
	man->use_tt = true;
	man->func = &dgmm_gtt_mgr_func;
	ttm_resource_manager_init(man, bdev, size);
	ttm_set_driver_manager(bdev, TTM_PL_TT, man);
	ttm_resource_manager_set_used(man, true);
}

/**
 * dgmm_gtt_mgr_fini - evict everything and unregister the GTT manager
 * @mgr: the manager
 * @bdev: the TTM device it was registered with
 *
 * Return: 0, or the error of evicting the BOs still in GTT.
 */
int dgmm_gtt_mgr_fini(struct dgmm_gtt_mgr *mgr, struct ttm_device *bdev)
{
	struct ttm_resource_manager *man = &mgr->manager;
	int err;

	/* As for VRAM: deleted but busy BOs are waited for first. */
	err = ttm_resource_manager_evict_all(bdev, man);
	if (err)
		return err;
	ttm_resource_manager_set_used(man, false);
	ttm_resource_manager_cleanup(man);
	ttm_set_driver_manager(bdev, TTM_PL_TT, NULL);
	return 0;
}

/**
 * dgmm_gtt_mgr_usage - bytes allocated in GTT
 * @mgr: the manager
 *
 * Return: the bytes of the budget in use.
 */
u64 dgmm_gtt_mgr_usage(struct dgmm_gtt_mgr *mgr)
{
	return atomic64_read(&mgr->used);
}
