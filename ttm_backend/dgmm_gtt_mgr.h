/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
#ifndef _DGMM_GTT_MGR_H_
#define _DGMM_GTT_MGR_H_

#include <linux/atomic.h>
#include <drm/ttm/ttm_resource.h>

struct ttm_device;

/**
 * struct dgmm_gtt_mgr - TTM resource manager for GTT
 * @manager: the TTM manager, registered for TTM_PL_TT
 * @used: bytes allocated, never above @manager.size
 *
 * GTT is system memory that the device reaches through the DMA API. The
 * simulated device has no GART aperture to allocate addresses in, so the
 * manager only enforces the size limit; the pages themselves come from the
 * ttm_tt of each BO (ttm_pool on the PCI device).
 */
struct dgmm_gtt_mgr {
	struct ttm_resource_manager manager;
	atomic64_t used;
};

static inline struct dgmm_gtt_mgr *
to_dgmm_gtt_mgr(struct ttm_resource_manager *man)
{
	return container_of(man, struct dgmm_gtt_mgr, manager);
}

void dgmm_gtt_mgr_init(struct dgmm_gtt_mgr *mgr, struct ttm_device *bdev, u64 size);
int dgmm_gtt_mgr_fini(struct dgmm_gtt_mgr *mgr, struct ttm_device *bdev);
u64 dgmm_gtt_mgr_usage(struct dgmm_gtt_mgr *mgr);

#endif
