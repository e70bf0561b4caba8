// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * debugfs of a memory manager, under the DRM device's debugfs directory:
 *
 *   vram_mm, gtt_mm, system_mm  each resource manager's own dump
 *   bos                         every BO: size, placement, pins, moves
 *   stats                       moves, clears (and those VRAM's cleared blocks
 *                               made unnecessary), bytes copied per direction,
 *                               evictions per region, the way back to the
 *                               preferred domain by outcome, swapouts
 */

#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <drm/ttm/ttm_placement.h>

#include "dgmm_bo.h"
#include "dgmm_mm.h"

static int bos_show(struct seq_file *m, void *unused)
{
	struct dgmm_mm *mm = m->private;
	struct dgmm_bo *bo;

	seq_puts(m, "      size  where   visible  preferred allowed flags pins  moves  last move\n");
	mutex_lock(&mm->bo_lock);
	list_for_each_entry(bo, &mm->bos, link) {
		struct ttm_resource *res;

		/* Never wait for a BO here: print what can be read now. */
		if (!dma_resv_trylock(bo->tbo.base.resv)) {
			seq_printf(m, "%10zu  (busy: reserved)\n", bo->tbo.base.size);
			continue;
		}
		res = bo->tbo.resource;
		seq_printf(m, "%10zu  %-6s  %-7s  %#9x %#7x %#5x %4u %6llu  ",
			   bo->tbo.base.size, res ? dgmm_mm_mem_type_name(res->mem_type) : "none",
			   !res ? "-" : dgmm_mm_res_cpu_visible(res) ? "yes" : "no",
			   bo->req.preferred, bo->req.allowed, bo->req.flags,
			   bo->tbo.pin_count, bo->move_count);
		if (bo->move_count)
			seq_printf(m, "%s->%s\n", dgmm_mm_mem_type_name(bo->last_move_from),
				   dgmm_mm_mem_type_name(bo->last_move_to));
		else
			seq_puts(m, "-\n");
		dma_resv_unlock(bo->tbo.base.resv);
	}
	mutex_unlock(&mm->bo_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(bos);

static int stats_show(struct seq_file *m, void *unused)
{
	struct dgmm_mm *mm = m->private;
	u32 from, to;

	seq_printf(m, "moves: %lld\nclears: %lld\nclears_skipped: %lld\ncleared_bytes: %lld\n",
		   (s64)atomic64_read(&mm->stats.moves),
		   (s64)atomic64_read(&mm->stats.clears),
		   (s64)atomic64_read(&mm->stats.clears_skipped),
		   (s64)atomic64_read(&mm->stats.cleared_bytes));
	for (from = 0; from <= TTM_PL_VRAM; from++)
		for (to = 0; to <= TTM_PL_VRAM; to++)
			seq_printf(m, "bytes %s->%s: %lld\n", dgmm_mm_mem_type_name(from),
				   dgmm_mm_mem_type_name(to),
				   (s64)atomic64_read(&mm->stats.bytes[from][to]));
	for (from = 0; from <= TTM_PL_VRAM; from++)
		seq_printf(m, "evictions from %s: %lld\n", dgmm_mm_mem_type_name(from),
			   (s64)atomic64_read(&mm->stats.evictions[from]));
	seq_printf(m, "promotions: %lld\npromotions_no_room: %lld\npromotions_over_budget: %lld\n",
		   (s64)atomic64_read(&mm->stats.promotions[DGMM_PROMOTE_DONE]),
		   (s64)atomic64_read(&mm->stats.promotions[DGMM_PROMOTE_NO_ROOM]),
		   (s64)atomic64_read(&mm->stats.promotions[DGMM_PROMOTE_BUDGET]));
	seq_printf(m, "swapouts: %lld\n", (s64)atomic64_read(&mm->stats.swapouts));
	/* 0: dma-buf.c pins a BO for every mapping of a dynamic importer. */
	seq_printf(m, "dmabuf_move_notify: %d\n", IS_ENABLED(CONFIG_DMABUF_MOVE_NOTIFY));
	seq_printf(m, "dmabuf_move_notifies: %lld\ndmabuf_invalidations: %lld\n"
		   "dmabuf_maps: %lld\ndmabuf_pin_migrations: %lld\n",
		   (s64)atomic64_read(&mm->stats.dmabuf_move_notifies),
		   (s64)atomic64_read(&mm->stats.dmabuf_invalidations),
		   (s64)atomic64_read(&mm->stats.dmabuf_maps),
		   (s64)atomic64_read(&mm->stats.dmabuf_pin_migrations));
	for (from = TTM_PL_TT; from <= TTM_PL_VRAM; from++)
		seq_printf(m, "dmabuf_pinned %s: %lld\n", dgmm_mm_mem_type_name(from),
			   (s64)atomic64_read(&mm->stats.dmabuf_pinned[from]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

/**
 * dgmm_mm_debugfs_init - create the memory manager's debugfs files
 * @mm: the memory manager
 * @root: the directory to create them in
 */
void dgmm_mm_debugfs_init(struct dgmm_mm *mm, struct dentry *root)
{
	ttm_resource_manager_create_debugfs(&mm->vram.manager, root, "vram_mm");
	ttm_resource_manager_create_debugfs(&mm->gtt.manager, root, "gtt_mm");
	ttm_resource_manager_create_debugfs(ttm_manager_type(&mm->ttm, TTM_PL_SYSTEM),
					    root, "system_mm");
	debugfs_create_file("bos", 0444, root, mm, &bos_fops);
	debugfs_create_file("stats", 0444, root, mm, &stats_fops);
}
