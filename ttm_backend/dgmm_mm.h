/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
#ifndef _DGMM_MM_H_
#define _DGMM_MM_H_

#include <linux/types.h>
#include <drm/ttm/ttm_device.h>

#include "dgmm_gtt_mgr.h"
#include "dgmm_vram_mgr.h"

struct drm_device;

/**
 * struct dgmm_mm_config - what the memory manager needs to know of a device
 * @drm: the DRM device whose GEM objects the BOs are; its parent device is
 *	 the one pages are DMA-mapped for
 * @vram_size: VRAM size in bytes (a multiple of PAGE_SIZE)
 * @vram_visible_size: bytes at the start of VRAM that the CPU may map
 * @gtt_size: the most bytes that may be in GTT at once
 */
struct dgmm_mm_config {
	struct drm_device *drm;
	u64 vram_size;
	u64 vram_visible_size;
	u64 gtt_size;
};

/**
 * struct dgmm_mm - the memory manager of one device
 * @ttm: the TTM device
 * @drm: the DRM device the BOs belong to
 * @vram: VRAM manager (TTM_PL_VRAM)
 * @gtt: GTT manager (TTM_PL_TT)
 *
 * The test driver embeds one per device and knows nothing of its insides;
 * everything here works on the TTM device and its managers.
 */
struct dgmm_mm {
	struct ttm_device ttm;
	struct drm_device *drm;
	struct dgmm_vram_mgr vram;
	struct dgmm_gtt_mgr gtt;
};

/**
 * struct dgmm_region_usage - size and use of one memory region, in bytes
 * @size: total size
 * @visible_size: how much of it the CPU can map
 * @used: bytes allocated
 * @visible_used: bytes allocated in the CPU-visible part
 */
struct dgmm_region_usage {
	u64 size;
	u64 visible_size;
	u64 used;
	u64 visible_used;
};

int dgmm_mm_init(struct dgmm_mm *mm, const struct dgmm_mm_config *cfg);
void dgmm_mm_fini(struct dgmm_mm *mm);
void dgmm_mm_region_usage(struct dgmm_mm *mm, u32 mem_type,
			  struct dgmm_region_usage *usage);

#endif
