/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
#ifndef _DGMM_MM_H_
#define _DGMM_MM_H_

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <drm/ttm/ttm_device.h>
#include <drm/ttm/ttm_placement.h>

#include "eviction/dgmm_evict.h"
#include "placement/dgmm_placement.h"
#include "dgmm_copy.h"
#include "dgmm_gtt_mgr.h"
#include "dgmm_vram_mgr.h"

struct dentry;
struct drm_device;

/**
 * struct dgmm_mm_config - what the memory manager needs to know of a device
 * @drm: the DRM device whose GEM objects the BOs are; its parent device is
 *	 the one pages are DMA-mapped for
 * @engine: the device's DMA engine, which runs every copy and clear
 * @vram_io_start: bus address of VRAM, for CPU mappings of BOs
 * @vram: the kernel's mapping of all of VRAM (debugger access)
 * @vram_size: VRAM size in bytes (a multiple of PAGE_SIZE)
 * @vram_visible_size: bytes at the start of VRAM that the CPU may map
 * @gtt_size: the most bytes that may be in GTT at once
 */
struct dgmm_mm_config {
	struct drm_device *drm;
	struct dgmm_copy_engine *engine;
	phys_addr_t vram_io_start;
	void __iomem *vram;
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
 * @engine: the DMA engine
 * @vram_io_start: bus address of VRAM
 * @vram: kernel mapping of VRAM
 * @limits: sizes of the domains, for the placement layer
 * @bo_lock: protects @bos
 * @bos: every live dgmm_bo of the device
 * @next_bo_id: the last BO id handed out
 * @budget: the move budget of device jobs (eviction/dgmm_evict.h)
 * @detach_wq: where imported BOs whose last GEM reference went detach
 *	       from their dma-bufs (dmabuf/)
 * @import_lock: serialises imports of dma-bufs of other exporters, so that
 *		 the device attaches to each dma-buf once (dmabuf/); taken
 *		 outside any reservation
 * @stats: counters since load: @stats.moves; @stats.clears, the fills that
 *	   zeroed new VRAM, and @stats.cleared_bytes they wrote;
 *	   @stats.clears_skipped, BOs placed in VRAM that was all cleared already;
 *	   bytes copied by the engine from one TTM_PL_* to another in
 *	   @stats.bytes[from][to]; @stats.evictions[from], BOs evicted from
 *	   each TTM_PL_* (hops not counted twice); the way back to the
 *	   preferred domain at a device use, by outcome, in
 *	   @stats.promotions[enum dgmm_promote_outcome]; @stats.swapouts, BOs
 *	   TTM set out to swap out (swap_notify; the swapout itself can still
 *	   fail); dma-buf (dmabuf/): @stats.dmabuf_move_notifies, moves of an
 *	   exported BO its importers were told of, @stats.dmabuf_invalidations,
 *	   mappings of imported BOs dropped on such notice,
 *	   (counted when a mapping was there to drop),
 *	   @stats.dmabuf_maps, attachments mapped (by this device as exporter
 *	   or importer), @stats.dmabuf_pin_migrations, BOs an importer's pin
 *	   moved, and @stats.dmabuf_pinned[TTM_PL_*], bytes importers hold
 *	   pinned there (capped by the dmabuf_pin_percent module parameter)
 *
 * The test driver embeds one per device and knows nothing of its insides;
 * everything here works on the TTM device and its managers.
 */
struct dgmm_mm {
	struct ttm_device ttm;
	struct drm_device *drm;
	struct dgmm_vram_mgr vram;
	struct dgmm_gtt_mgr gtt;
	struct dgmm_copy_engine *engine;
	phys_addr_t vram_io_start;
	void __iomem *vram_map;
	struct dgmm_placement_limits limits;
	struct mutex bo_lock; /* protects bos */
	struct list_head bos;
	atomic64_t next_bo_id;
	struct dgmm_move_budget budget;
	struct workqueue_struct *detach_wq;
	struct mutex import_lock; /* see kernel-doc */
	struct {
		atomic64_t moves;
		atomic64_t clears;
		atomic64_t clears_skipped;
		atomic64_t cleared_bytes;
		atomic64_t bytes[TTM_PL_VRAM + 1][TTM_PL_VRAM + 1];
		atomic64_t evictions[TTM_PL_VRAM + 1];
		atomic64_t promotions[DGMM_PROMOTE_BUDGET + 1];
		atomic64_t swapouts;
		atomic64_t dmabuf_move_notifies;
		atomic64_t dmabuf_invalidations;
		atomic64_t dmabuf_maps;
		atomic64_t dmabuf_pin_migrations;
		atomic64_t dmabuf_pinned[TTM_PL_VRAM + 1];
	} stats;
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
void dgmm_mm_unplug(struct dgmm_mm *mm);
void dgmm_mm_fini(struct dgmm_mm *mm);
void dgmm_mm_region_usage(struct dgmm_mm *mm, u32 mem_type,
			  struct dgmm_region_usage *usage);
void dgmm_mm_debugfs_init(struct dgmm_mm *mm, struct dentry *root);
int dgmm_mm_access(struct ttm_buffer_object *bo, unsigned long offset, void *buf,
		   int len, int write);
void dgmm_mm_pages_access(struct page **pages, u64 offset, void *buf, u64 len, bool write);

/* A TTM_PL_* as debugfs and debug messages name it. */
static inline const char *dgmm_mm_mem_type_name(u32 mem_type)
{
	switch (mem_type) {
	case TTM_PL_SYSTEM:
		return "system";
	case TTM_PL_TT:
		return "gtt";
	case TTM_PL_VRAM:
		return "vram";
	default:
		return "?";
	}
}

/* Can the CPU reach every byte of @res where it is? */
static inline bool dgmm_mm_res_cpu_visible(struct ttm_resource *res)
{
	return res->mem_type != TTM_PL_VRAM || dgmm_vram_mgr_visible(res);
}

static inline struct dgmm_mm *ttm_to_dgmm_mm(struct ttm_device *bdev)
{
	return container_of(bdev, struct dgmm_mm, ttm);
}

/* In dgmm_move.c: ttm_device_funcs.move, and whether a move must copy. */
bool dgmm_bo_holds_data(struct ttm_buffer_object *tbo);
int dgmm_bo_move(struct ttm_buffer_object *tbo, bool evict,
		 struct ttm_operation_ctx *ctx, struct ttm_resource *new_mem,
		 struct ttm_place *hop);

#endif
