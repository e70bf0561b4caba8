// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Per-client memory in /proc/<pid>/fdinfo/<fd>: the keys of
 * Documentation/gpu/drm-usage-stats.rst for each region, as xe prints them
 * (xe_drm_client.c), so that gputop, nvtop and friends see dgmm's clients:
 *
 *   drm-total-vram:	4 MiB
 *   drm-shared-vram:	0
 *   drm-active-vram:	0
 *   drm-resident-vram:	4 MiB
 *   drm-purgeable-vram:	0
 *
 * and the same for gtt and system. A client's BOs are those it holds a
 * handle to; each is counted in the region it is in when the file is read.
 */

#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_print.h>
#include <drm/ttm/ttm_placement.h>

#include "ttm_backend/dgmm_bo.h"
#include "dgmm_drv.h"

static const char *const region_name[] = {
	[TTM_PL_SYSTEM] = "system",
	[TTM_PL_TT] = "gtt",
	[TTM_PL_VRAM] = "vram",
};

/*
 * Counts one BO under its reservation. The file's handle table is a
 * spinlock: a BO that is locked elsewhere is counted after dropping it,
 * holding a reference meanwhile (the idr walk goes on from the BO's id).
 */
static void count_bos(struct drm_file *file, struct drm_memory_stats *stats)
{
	struct drm_gem_object *obj;
	int id;

	spin_lock(&file->table_lock);
	idr_for_each_entry(&file->object_idr, obj, id) {
		struct dgmm_bo *bo = gem_to_dgmm_bo(obj);

		if (dma_resv_trylock(obj->resv)) {
			dgmm_bo_memory_stats(bo, stats);
			dma_resv_unlock(obj->resv);
			continue;
		}
		drm_gem_object_get(obj);
		spin_unlock(&file->table_lock);
		dma_resv_lock(obj->resv, NULL);
		dgmm_bo_memory_stats(bo, stats);
		dma_resv_unlock(obj->resv);
		drm_gem_object_put(obj);
		spin_lock(&file->table_lock);
	}
	spin_unlock(&file->table_lock);
}

/**
 * dgmm_show_fdinfo - drm_driver.show_fdinfo: the client's memory per region
 * @p: where to print
 * @file: the client's DRM file
 */
void dgmm_show_fdinfo(struct drm_printer *p, struct drm_file *file)
{
	struct drm_memory_stats stats[TTM_PL_VRAM + 1] = {};
	unsigned int i;

	count_bos(file, stats);
	for (i = 0; i < ARRAY_SIZE(region_name); i++)
		drm_print_memory_stats(p, &stats[i],
				       DRM_GEM_OBJECT_RESIDENT | DRM_GEM_OBJECT_PURGEABLE,
				       region_name[i]);
}
