// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * dma-buf sharing: dgmm BOs as dynamic dma-bufs, and other devices'
 * dma-bufs as dgmm BOs.
 *
 * Locking, as drivers/dma-buf/dma-buf.c lays it down: the dma-buf's
 * reservation object is the BO's. attach, detach and release are called
 * without it; pin, unpin, map, unmap, vmap and vunmap with it held, and
 * every function here that needs it asserts it. move_notify goes out, and
 * comes in, with it held.
 *
 * Exporter:
 * - attach decides whether the importer may reach VRAM peer-to-peer: it
 *   asked (allow_peer2peer) and the PCI topology allows it
 *   (pci_p2pdma_distance(), which needs CONFIG_PCI_P2PDMA and both devices
 *   behind one switch). Otherwise the importer reaches the BO only in GTT,
 *   and a BO that may not live there cannot be attached.
 * - map places the BO where the importer reaches it (GTT; VRAM stays VRAM
 *   for a peer-to-peer importer when the BO is in the CPU-visible window,
 *   the part of VRAM the BAR shows) and maps it for the importer's device:
 *   the tt's pages through dma_map_sgtable(), VRAM blocks through
 *   dma_map_resource() of their bus addresses. A dynamic importer's mapping
 *   is good until the next move_notify.
 * - pin holds the BO there for a non-dynamic importer (vkms, vgem) or a
 *   kernel without CONFIG_DMABUF_MOVE_NOTIFY. Pinned bytes are capped per
 *   region (dmabuf_pin_percent); pins that had to move the BO are counted
 *   and traced (reason dma-buf).
 * - Every move of an exported BO, and a swapout, tells the importers
 *   (dma_buf_move_notify()) from the move callback, under the reservation,
 *   before the new backing is set up and long before the old one is freed
 *   (that waits for every fence in the reservation).
 * - vmap pins the BO in GTT (VRAM is not contiguous) and maps its pages;
 *   mmap goes through the BO's own mapping (drm_gem_dmabuf_export() makes
 *   the dma-buf file share the device's address space), so that moves and
 *   unplug zap it as they zap the GEM mmap.
 *
 * Importer (a dgmm device importing anybody's dma-buf, another dgmm
 * device's included): a TTM SG BO that shares the exporter's reservation
 * object, attached dynamically. It lives in the importer's GTT (its
 * aperture) or in SYSTEM, and owns no pages: a device job that uses it maps
 * the attachment under the reservation and hands its DMA addresses to the
 * engine. move_notify drops the mapping after the jobs that use it have
 * finished; the next job maps again. When its last GEM reference goes it
 * detaches at once, in a worker, while TTM frees it only once the whole
 * shared reservation is idle. Importing a dgmm BO into its own device
 * gives back the same GEM object.
 */

#include <linux/delay.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/scatterlist.h>
#include <drm/drm_drv.h>
#include <drm/drm_prime.h>
#include <drm/ttm/ttm_tt.h>
#include <kunit/visibility.h>

#include "trace/dgmm_trace.h"
#include "ttm_backend/dgmm_bo.h"
#include "ttm_backend/dgmm_mm.h"
#include "dgmm_dmabuf.h"

MODULE_IMPORT_NS(DMA_BUF);

static unsigned int dmabuf_pin_percent = 50;
module_param(dmabuf_pin_percent, uint, 0644);
MODULE_PARM_DESC(dmabuf_pin_percent,
		 "Most of each region (VRAM, GTT) dma-buf importers may hold pinned, in percent (default 50)");

#if IS_ENABLED(CONFIG_KUNIT)
/**
 * dgmm_dmabuf_swap_pin_percent - set dmabuf_pin_percent, for tests
 * @percent: the new value
 *
 * Return: the old value.
 */
unsigned int dgmm_dmabuf_swap_pin_percent(unsigned int percent)
{
	return xchg(&dmabuf_pin_percent, percent);
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_dmabuf_swap_pin_percent);
#endif

static struct dgmm_bo *dmabuf_to_bo(struct dma_buf *dmabuf)
{
	return gem_to_dgmm_bo(dmabuf->priv);
}

/* May @importer reach VRAM of @bo's device through the PCI fabric? */
static bool p2p_possible(struct dgmm_bo *bo, struct device *importer)
{
	struct device *exporter = bo->mm->drm->dev;

	if (!dev_is_pci(exporter) || !dev_is_pci(importer))
		return false;
	return pci_p2pdma_distance(to_pci_dev(exporter), importer, false) >= 0;
}

/* Is the BO where a peer-to-peer importer reaches it in VRAM: in the BAR? */
static bool in_peer_vram(struct dgmm_bo *bo)
{
	struct ttm_resource *res = bo->tbo.resource;

	return res && res->mem_type == TTM_PL_VRAM && dgmm_mm_res_cpu_visible(res);
}

static int dgmm_dmabuf_attach(struct dma_buf *dmabuf, struct dma_buf_attachment *attach)
{
	struct dgmm_bo *bo = dmabuf_to_bo(dmabuf);

	if (attach->peer2peer && !p2p_possible(bo, attach->dev)) {
		drm_dbg(bo->mm->drm, "dma-buf attach: no peer-to-peer path to %s\n",
			dev_name(attach->dev));
		attach->peer2peer = false;
	}
	if (!attach->peer2peer && !(bo->req.allowed & DGMM_DOMAIN_GTT)) {
		drm_dbg(bo->mm->drm,
			"dma-buf attach: BO %llu may not be in GTT, and %s cannot reach VRAM\n",
			bo->id, dev_name(attach->dev));
		return -EOPNOTSUPP;
	}
	trace_dgmm_dmabuf_attach(bo, attach->dev, attach->peer2peer);
	return 0;
}

static void dgmm_dmabuf_detach(struct dma_buf *dmabuf, struct dma_buf_attachment *attach)
{
	trace_dgmm_dmabuf_detach(dmabuf_to_bo(dmabuf), attach->dev, attach->peer2peer);
}

/* Charges @size pinned bytes to region @mem_type, within the cap. */
static int pin_charge(struct dgmm_mm *mm, u32 mem_type, u64 size)
{
	u64 region = mem_type == TTM_PL_VRAM ? mm->limits.vram_size : mm->limits.gtt_size;
	u64 cap = div_u64(region * min(READ_ONCE(dmabuf_pin_percent), 100u), 100);
	s64 pinned = atomic64_add_return(size, &mm->stats.dmabuf_pinned[mem_type]);

	if (pinned > cap) {
		atomic64_sub(size, &mm->stats.dmabuf_pinned[mem_type]);
		drm_dbg(mm->drm,
			"dma-buf pin: %llu more bytes in %s would pass the cap of %llu (dmabuf_pin_percent)\n",
			size, dgmm_mm_mem_type_name(mem_type), cap);
		return -ENOSPC;
	}
	return 0;
}

/*
 * One importer's pin: the first pins the BO where this importer reaches it
 * (and moves it there if need be), the others count, if they reach it
 * there too.
 */
static int importer_pin(struct dgmm_bo *bo, bool p2p)
{
	struct dgmm_mm *mm = bo->mm;
	u32 from, mem_type;
	int err;

	dgmm_bo_assert_held(bo);
	if (bo->dmabuf_pins) {
		if (bo->dmabuf_pinned_in == TTM_PL_VRAM && !p2p) {
			drm_dbg(mm->drm, "dma-buf pin: BO %llu is pinned in VRAM for a peer\n",
				bo->id);
			return -EBUSY;
		}
		bo->dmabuf_pins++;
		return 0;
	}

	mem_type = p2p && in_peer_vram(bo) ? TTM_PL_VRAM : TTM_PL_TT;
	if (mem_type == TTM_PL_TT && !(bo->req.allowed & DGMM_DOMAIN_GTT)) {
		drm_dbg(mm->drm, "dma-buf pin: BO %llu may not be in GTT\n", bo->id);
		return -EINVAL;
	}
	err = pin_charge(mm, mem_type, bo->tbo.base.size);
	if (err)
		return err;
	from = bo->tbo.resource ? bo->tbo.resource->mem_type : TTM_PL_SYSTEM;
	err = dgmm_bo_pin(bo, mem_type == TTM_PL_VRAM ? DGMM_DOMAIN_VRAM : DGMM_DOMAIN_GTT,
			  DGMM_MOVE_DMABUF);
	if (err) {
		atomic64_sub(bo->tbo.base.size, &mm->stats.dmabuf_pinned[mem_type]);
		return err;
	}
	if (from != mem_type)
		atomic64_inc(&mm->stats.dmabuf_pin_migrations);
	bo->dmabuf_pins = 1;
	bo->dmabuf_pinned_in = mem_type;
	return 0;
}

static void importer_unpin(struct dgmm_bo *bo)
{
	dgmm_bo_assert_held(bo);
	if (drm_WARN_ON_ONCE(bo->mm->drm, !bo->dmabuf_pins))
		return;
	if (--bo->dmabuf_pins)
		return;
	atomic64_sub(bo->tbo.base.size, &bo->mm->stats.dmabuf_pinned[bo->dmabuf_pinned_in]);
	dgmm_bo_unpin(bo);
}

static int dgmm_dmabuf_pin(struct dma_buf_attachment *attach)
{
	struct dgmm_bo *bo = dmabuf_to_bo(attach->dmabuf);
	int idx, err;

	/* Not after unplug: that would map pages for a device that is gone. */
	if (!drm_dev_enter(bo->mm->drm, &idx))
		return -ENODEV;
	err = importer_pin(bo, attach->peer2peer);
	if (!err)
		trace_dgmm_dmabuf_pin(bo, attach->dev, attach->peer2peer);
	drm_dev_exit(idx);
	return err;
}

static void dgmm_dmabuf_unpin(struct dma_buf_attachment *attach)
{
	struct dgmm_bo *bo = dmabuf_to_bo(attach->dmabuf);

	importer_unpin(bo);
	trace_dgmm_dmabuf_unpin(bo, attach->dev, attach->peer2peer);
}

/* The tt's pages, mapped for the importer's device. */
static struct sg_table *map_pages(struct dgmm_bo *bo, struct device *dev,
				  enum dma_data_direction dir)
{
	struct ttm_tt *tt = bo->tbo.ttm;
	struct sg_table *sgt;
	int err;

	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	/* Segments no longer than the importer's device takes. */
	err = sg_alloc_table_from_pages_segment(sgt, tt->pages, tt->num_pages, 0,
						(u64)tt->num_pages << PAGE_SHIFT,
						dma_get_max_seg_size(dev), GFP_KERNEL);
	if (err)
		goto err_free;
	err = dma_map_sgtable(dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
	if (err)
		goto err_table;
	return sgt;

err_table:
	sg_free_table(sgt);
err_free:
	kfree(sgt);
	return ERR_PTR(err);
}

static void unmap_vram_entries(struct device *dev, struct sg_table *sgt, unsigned int n,
			       enum dma_data_direction dir)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (i == n)
			break;
		dma_unmap_resource(dev, sg_dma_address(sg), sg_dma_len(sg), dir,
				   DMA_ATTR_SKIP_CPU_SYNC);
	}
}

/*
 * VRAM blocks, by their bus addresses in the BAR, mapped for a peer: a DMA
 * table with no pages (there are none), each entry at most the importer's
 * segment size.
 */
static struct sg_table *map_vram(struct dgmm_bo *bo, struct device *dev,
				 enum dma_data_direction dir)
{
	u64 max_seg = round_down(min_t(u64, dma_get_max_seg_size(dev), SZ_1G), PAGE_SIZE);
	struct dgmm_mm *mm = bo->mm;
	struct scatterlist *sg;
	struct sg_table *sgt;
	struct dgmm_mem mem;
	unsigned int i, n = 0;
	int err;

	err = dgmm_vram_mgr_snapshot(&mm->vram, bo->tbo.resource, 0, bo->tbo.base.size,
				     false, &mem, NULL);
	if (err)
		return ERR_PTR(err);
	/* A peer that may write it: its VRAM is no longer known clear. */
	if (dir != DMA_TO_DEVICE)
		dgmm_vram_mgr_mark_dirty(bo->tbo.resource);
	for (i = 0; i < mem.count; i++)
		n += DIV_ROUND_UP_ULL(mem.ranges[i].size, max_seg);
	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt || sg_alloc_table(sgt, n, GFP_KERNEL)) {
		kfree(sgt);
		dgmm_mem_release(&mem);
		return ERR_PTR(-ENOMEM);
	}

	n = 0;
	sg = sgt->sgl;
	for (i = 0; i < mem.count; i++) {
		u64 off = mem.ranges[i].offset, left = mem.ranges[i].size;

		while (left) {
			u64 len = min(left, max_seg);
			dma_addr_t addr;

			addr = dma_map_resource(dev, mm->vram_io_start + off, len, dir,
						DMA_ATTR_SKIP_CPU_SYNC);
			if (dma_mapping_error(dev, addr)) {
				unmap_vram_entries(dev, sgt, n, dir);
				sg_free_table(sgt);
				kfree(sgt);
				dgmm_mem_release(&mem);
				return ERR_PTR(-EIO);
			}
			sg_set_page(sg, NULL, len, 0);
			sg_dma_address(sg) = addr;
			sg_dma_len(sg) = len;
			sg = sg_next(sg);
			n++;
			off += len;
			left -= len;
		}
	}
	dgmm_mem_release(&mem);
	return sgt;
}

static struct sg_table *dgmm_dmabuf_map(struct dma_buf_attachment *attach,
					enum dma_data_direction dir)
{
	struct ttm_operation_ctx ctx = { .interruptible = true };
	struct dgmm_bo *bo = dmabuf_to_bo(attach->dmabuf);
	struct sg_table *sgt;
	u32 mem_type;
	int idx, err;

	dgmm_bo_assert_held(bo);
	if (!drm_dev_enter(bo->mm->drm, &idx))
		return ERR_PTR(-ENODEV);

	/* Where this importer reaches it, until the next move_notify. */
	if (!bo->tbo.pin_count && !(attach->peer2peer && in_peer_vram(bo))) {
		err = dgmm_bo_move_locked(bo, DGMM_DOMAIN_GTT, DGMM_MOVE_DMABUF, &ctx);
		if (err) {
			sgt = ERR_PTR(err);
			goto out;
		}
	}

	mem_type = bo->tbo.resource->mem_type;
	if (mem_type == TTM_PL_TT) {
		sgt = map_pages(bo, attach->dev, dir);
	} else if (mem_type == TTM_PL_VRAM && attach->peer2peer && in_peer_vram(bo)) {
		sgt = map_vram(bo, attach->dev, dir);
	} else {
		drm_dbg(bo->mm->drm, "dma-buf map: BO %llu is pinned in %s, out of reach of %s\n",
			bo->id, dgmm_mm_mem_type_name(mem_type), dev_name(attach->dev));
		sgt = ERR_PTR(-EBUSY);
	}
	if (!IS_ERR(sgt)) {
		atomic64_inc(&bo->mm->stats.dmabuf_maps);
		trace_dgmm_dmabuf_map(bo, attach->dev, attach->peer2peer);
	}
out:
	drm_dev_exit(idx);
	return sgt;
}

static void dgmm_dmabuf_unmap(struct dma_buf_attachment *attach, struct sg_table *sgt,
			      enum dma_data_direction dir)
{
	struct dgmm_bo *bo = dmabuf_to_bo(attach->dmabuf);

	if (sg_page(sgt->sgl))
		dma_unmap_sgtable(attach->dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
	else
		unmap_vram_entries(attach->dev, sgt, sgt->nents, dir);
	sg_free_table(sgt);
	kfree(sgt);
	trace_dgmm_dmabuf_unmap(bo, attach->dev, attach->peer2peer);
}

/*
 * The kernel's own mapping (vkms reads its framebuffers through it): VRAM
 * blocks are not contiguous, so the BO is pinned in GTT and its pages are
 * mapped, for as long as the mapping lives. dma-buf.c counts vmaps, so this
 * runs once for all of them.
 */
static int dgmm_dmabuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct dgmm_bo *bo = dmabuf_to_bo(dmabuf);
	int idx, err;

	if (!drm_dev_enter(bo->mm->drm, &idx))
		return -ENODEV;
	err = importer_pin(bo, false);
	if (!err) {
		err = ttm_bo_vmap(&bo->tbo, map);
		if (err)
			importer_unpin(bo);
	}
	drm_dev_exit(idx);
	return err;
}

static void dgmm_dmabuf_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct dgmm_bo *bo = dmabuf_to_bo(dmabuf);

	ttm_bo_vunmap(&bo->tbo, map);
	importer_unpin(bo);
}

/*
 * dma-buf.c has waited for the fences already. What is left is to have the
 * BO where the CPU reaches it, now rather than at the first fault: a BO in
 * VRAM outside the CPU-visible window goes to GTT if it may.
 */
static int dgmm_dmabuf_begin_cpu_access(struct dma_buf *dmabuf, enum dma_data_direction dir)
{
	struct ttm_operation_ctx ctx = { .interruptible = true };
	struct dgmm_bo *bo = dmabuf_to_bo(dmabuf);
	int idx, err;

	if (!drm_dev_enter(bo->mm->drm, &idx))
		return 0;	/* nothing to place: CPU mappings show a dummy page */
	err = dma_resv_lock_interruptible(bo->tbo.base.resv, NULL);
	if (err) {
		drm_dev_exit(idx);
		return err;
	}
	if (bo->tbo.resource && !dgmm_mm_res_cpu_visible(bo->tbo.resource) &&
	    !bo->tbo.pin_count && (bo->req.allowed & DGMM_DOMAIN_GTT))
		err = dgmm_bo_move_locked(bo, DGMM_DOMAIN_GTT, DGMM_MOVE_DMABUF, &ctx);
	dma_resv_unlock(bo->tbo.base.resv);
	drm_dev_exit(idx);
	/* No room in GTT: the fault handler finds the CPU a place. */
	return err == -ENOMEM || err == -ENOSPC ? 0 : err;
}

static void dgmm_dmabuf_release(struct dma_buf *dmabuf)
{
	struct dgmm_bo *bo = dmabuf_to_bo(dmabuf);

	/* Moves read it under the reservation: from now on they see no dma-buf. */
	dma_resv_lock(bo->tbo.base.resv, NULL);
	if (bo->dmabuf == dmabuf)
		bo->dmabuf = NULL;
	dma_resv_unlock(bo->tbo.base.resv);
	drm_gem_dmabuf_release(dmabuf);
}

static const struct dma_buf_ops dgmm_dmabuf_ops = {
	.attach = dgmm_dmabuf_attach,
	.detach = dgmm_dmabuf_detach,
	.pin = dgmm_dmabuf_pin,
	.unpin = dgmm_dmabuf_unpin,
	.map_dma_buf = dgmm_dmabuf_map,
	.unmap_dma_buf = dgmm_dmabuf_unmap,
	.release = dgmm_dmabuf_release,
	.begin_cpu_access = dgmm_dmabuf_begin_cpu_access,
	.mmap = drm_gem_dmabuf_mmap,
	.vmap = dgmm_dmabuf_vmap,
	.vunmap = dgmm_dmabuf_vunmap,
};

/* Was @dmabuf exported by dgmm (any device)? Its priv is then a dgmm BO's. */
static bool dgmm_dmabuf_is_dgmm(struct dma_buf *dmabuf)
{
	return dmabuf->ops == &dgmm_dmabuf_ops;
}

/**
 * dgmm_dmabuf_export - drm_gem_object_funcs.export: a BO as a dynamic dma-buf
 * @obj: the BO's GEM object
 * @flags: the dma-buf file's flags (O_CLOEXEC, O_RDWR)
 *
 * Return: the dma-buf, or an ERR_PTR: -EINVAL for a driver-internal BO.
 */
struct dma_buf *dgmm_dmabuf_export(struct drm_gem_object *obj, int flags)
{
	struct dgmm_bo *bo = gem_to_dgmm_bo(obj);
	struct dma_buf_export_info exp_info = {
		.exp_name = KBUILD_MODNAME,
		.owner = THIS_MODULE,
		.ops = &dgmm_dmabuf_ops,
		.size = obj->size,
		.flags = flags,
		.priv = obj,
		.resv = obj->resv,
	};
	struct dma_buf *dmabuf;

	if (bo->tbo.type != ttm_bo_type_device) {
		drm_dbg(obj->dev, "export: BO %llu is not a user BO\n", bo->id);
		return ERR_PTR(-EINVAL);
	}
	/* Shares the device's address space: see the top of the file. */
	dmabuf = drm_gem_dmabuf_export(obj->dev, &exp_info);
	if (IS_ERR(dmabuf))
		return dmabuf;
	dma_resv_lock(obj->resv, NULL);
	bo->dmabuf = dmabuf;
	dma_resv_unlock(obj->resv);
	return dmabuf;
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_dmabuf_export);

/**
 * dgmm_dmabuf_move_notify - tell an exported BO's importers that it moves
 * @bo: the BO, reserved, about to get a new backing store (the move
 *	callback) or lose its pages (swapout)
 *
 * Dynamic importers drop their mappings in their move_notify; they may
 * wait for their own jobs there (this one does), and may not take the
 * reservation (they have it) nor map again before the move is done.
 */
void dgmm_dmabuf_move_notify(struct dgmm_bo *bo)
{
	dgmm_bo_assert_held(bo);
	if (!bo->dmabuf)
		return;
	atomic64_inc(&bo->mm->stats.dmabuf_move_notifies);
	trace_dgmm_dmabuf_move_notify(bo, NULL, false);
	dma_buf_move_notify(bo->dmabuf);
}

/* Unmaps an imported BO's attachment, if mapped; its jobs are done. */
static void drop_mapping(struct dgmm_bo *bo)
{
	struct ttm_tt *tt = bo->tbo.ttm;

	dgmm_bo_assert_held(bo);
	if (!tt || !tt->sg)
		return;
	dma_buf_unmap_attachment(bo->tbo.base.import_attach, tt->sg, DMA_BIDIRECTIONAL);
	tt->sg = NULL;
	trace_dgmm_dmabuf_import_unmap(bo, bo->tbo.base.import_attach->dmabuf->exp_name);
}

/**
 * dgmm_dmabuf_import_unmap - drop an imported BO's mapping
 * @bo: an imported BO, reserved
 * @ctx: whether the wait may be interrupted
 *
 * Waits for every job that may use the mapping's addresses first: once
 * unmapped (and with an IOMMU, unmapped means gone), a job still using
 * them would fault.
 *
 * Return: 0; -ERESTARTSYS if an interruptible wait was interrupted, or
 * -EBUSY if a job still runs and @ctx may not wait (the mapping then stays).
 */
int dgmm_dmabuf_import_unmap(struct dgmm_bo *bo, struct ttm_operation_ctx *ctx)
{
	struct dgmm_copy_engine *engine = bo->mm->engine;
	struct dma_resv_iter cursor;
	struct dma_fence *fence;
	long ret;

	dgmm_bo_assert_held(bo);
	if (!bo->tbo.ttm || !bo->tbo.ttm->sg)
		return 0;
	/*
	 * Only this device's jobs use the mapping, and each ends within the
	 * job timeout. Other fences of the shared reservation (the exporter's,
	 * a user's sync_file that never signals) are not waited for here.
	 */
	/* Reservation fences are never containers (dma_resv_add_fence()). */
	dma_resv_for_each_fence(&cursor, bo->tbo.base.resv, DMA_RESV_USAGE_BOOKKEEP, fence) {
		if (!engine->funcs->owns_fence(engine, fence))
			continue;
		if (ctx->no_wait_gpu && !dma_fence_is_signaled(fence))
			return -EBUSY;
		ret = dma_fence_wait(fence, ctx->interruptible);
		if (ret < 0)
			return ret;
	}
	drop_mapping(bo);
	return 0;
}

/* Has every fence of @context in @resv signalled? */
static bool context_idle(struct dma_resv *resv, u64 context)
{
	struct dma_resv_iter cursor;
	struct dma_fence *fence;

	dma_resv_for_each_fence(&cursor, resv, DMA_RESV_USAGE_BOOKKEEP, fence)
		if (fence->context == context && !dma_fence_is_signaled(fence))
			return false;
	return true;
}

/* A context of @engine's fences in @resv, all signalled; 0 if none. */
static u64 idle_own_context(struct dgmm_copy_engine *engine, struct dma_resv *resv)
{
	struct dma_resv_iter cursor;
	struct dma_fence *fence;

	dma_resv_for_each_fence(&cursor, resv, DMA_RESV_USAGE_BOOKKEEP, fence)
		if (engine->funcs->owns_fence(engine, fence) && context_idle(resv, fence->context))
			return fence->context;
	return 0;
}

/*
 * The import goes: this device's fences in the exporter's reservation
 * whose context has nothing left running give way to the (signalled) stub
 * fence. Each dgmm fence keeps the module (struct dgmm_sched_home in
 * testdrv/dgmm_engine.c), and a reservation keeps a signalled fence until
 * a later fence or a larger list pushes it out: an idle buffer that dgmm
 * once wrote would keep rmmod waiting for as long as its exporter keeps it.
 * A failed fence goes too (dma_resv_replace_fences() allows it: the job
 * touches nothing any more); its error is lost to later readers of the
 * reservation. Contexts with a fence still running (another file's jobs on
 * its own import) stay as they are. Fence contexts start at 1.
 */
static void drop_own_fences(struct dgmm_bo *bo)
{
	struct dgmm_copy_engine *engine = bo->mm->engine;
	struct dma_resv *resv = bo->tbo.base.resv;
	struct dma_fence *stub;
	u64 context;

	dma_resv_assert_held(resv);
	stub = dma_fence_get_stub();
	/* Each round replaces one context: it ends. */
	while ((context = idle_own_context(engine, resv)))
		dma_resv_replace_fences(resv, context, stub, DMA_RESV_USAGE_BOOKKEEP);
	dma_fence_put(stub);
}

/**
 * dgmm_dmabuf_import_release - TTM frees an imported BO
 * @bo: the imported BO, reserved (its reservation is the exporter's)
 *
 * Every fence of the reservation has signalled. The attachment went before
 * (dgmm_dmabuf_import_detach()); this device's fences that have come since
 * (a later import of the same dma-buf) go too, as at the detach.
 */
void dgmm_dmabuf_import_release(struct dgmm_bo *bo)
{
	dgmm_bo_assert_held(bo);
	/* The mapping went with the attachment. */
	drm_WARN_ON_ONCE(bo->mm->drm, bo->tbo.ttm && bo->tbo.ttm->sg);
	drop_own_fences(bo);
}

/**
 * dgmm_dmabuf_import_detach - an imported BO lets go of its dma-buf
 * @bo: an imported BO, not reserved; nobody will use it on the device any
 *	more (its last GEM reference went, or the device is unplugged)
 *
 * Drops its mapping, this device's finished fences in the exporter's
 * reservation, and its GTT space (a move to SYSTEM, which for an imported
 * BO moves nothing), then detaches: no more move_notify, and a
 * non-dynamic exporter's attach-time mapping goes too. The BO keeps its
 * reference to the dma-buf, whose reservation it shares until TTM frees it.
 * Whoever clears the attachment, under the reservation, detaches it: the
 * second caller finds nothing to do.
 */
void dgmm_dmabuf_import_detach(struct dgmm_bo *bo)
{
	struct ttm_operation_ctx ctx = { .interruptible = false };
	struct dma_buf_attachment *attach;
	int err;

	dma_resv_lock(bo->tbo.base.resv, NULL);
	attach = bo->tbo.base.import_attach;
	if (!attach) {
		dma_resv_unlock(bo->tbo.base.resv);
		return;
	}
	/* No job of the device uses the mapping: the move does not wait. */
	err = dgmm_bo_move_locked(bo, DGMM_DOMAIN_SYSTEM, DGMM_MOVE_DMABUF, &ctx);
	if (err)
		drm_dbg(bo->mm->drm, "import: BO %llu keeps its GTT space (%d)\n", bo->id, err);
	drop_mapping(bo);
	drop_own_fences(bo);
	/* Cleared with the mapping, in one hold of the reservation. */
	WRITE_ONCE(bo->tbo.base.import_attach, NULL);
	dma_resv_unlock(bo->tbo.base.resv);
	dma_buf_detach(attach->dmabuf, attach);
}

/* The detach of an imported BO whose last GEM reference went. */
static void import_detach_work(struct work_struct *work)
{
	struct dgmm_bo *bo = container_of(work, struct dgmm_bo, detach_work);

	dgmm_dmabuf_import_detach(bo);
	ttm_bo_put(&bo->tbo);
}

/**
 * dgmm_dmabuf_import_free - an imported BO's last GEM reference went
 * @bo: the imported BO; its TTM reference passes to the detach
 *
 * TTM frees a BO only once every fence of its reservation has signalled,
 * and an imported BO's is the exporter's: other devices' fences and users'
 * (a sync_file imported into the dma-buf) are there too, and may never
 * signal. The attachment does not wait for them. A non-dynamic exporter
 * (the system dma-heap) mapped it at attach time for the whole life of the
 * attachment; importing the same dma-buf again while that mapping stays
 * maps the same pages twice for this device.
 *
 * The detach runs on the device's detach worker: the last reference may go
 * where taking the reservation is not allowed (the scheduler's free_job,
 * drm_exec's unlocking with other reservations still held). Until it has
 * run, dgmm_dmabuf_import() of the same dma-buf waits for it.
 */
void dgmm_dmabuf_import_free(struct dgmm_bo *bo)
{
	queue_work(bo->mm->detach_wq, &bo->detach_work);
}

/* Does the exporter's table cover exactly @pages whole pages? */
static bool sgt_covers(struct sg_table *sgt, unsigned long pages)
{
	struct scatterlist *sg;
	u64 bytes = 0;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (!PAGE_ALIGNED(sg_dma_address(sg)) || !PAGE_ALIGNED(sg_dma_len(sg)))
			return false;
		bytes += sg_dma_len(sg);
	}
	return bytes == (u64)pages << PAGE_SHIFT;
}

/**
 * dgmm_dmabuf_import_map - map an imported BO's attachment for a job
 * @bo: an imported BO, reserved, in GTT
 *
 * Nothing to do while the last mapping holds; after a move_notify (or the
 * BO's eviction from GTT) the exporter maps it again, wherever the BO is
 * now. The tt's DMA addresses are the engine's view of it.
 *
 * Return: 0, -EINVAL if the BO is not in GTT or the exporter's table does
 * not cover it exactly, in whole pages, or the exporter's error.
 */
int dgmm_dmabuf_import_map(struct dgmm_bo *bo)
{
	struct dma_buf_attachment *attach = bo->tbo.base.import_attach;
	struct ttm_tt *tt = bo->tbo.ttm;
	struct sg_table *sgt;

	dgmm_bo_assert_held(bo);
	if (!attach || !tt || !ttm_tt_is_populated(tt) ||
	    bo->tbo.resource->mem_type != TTM_PL_TT)
		return -EINVAL;
	if (tt->sg)
		return 0;
	sgt = dma_buf_map_attachment(attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(sgt))
		return PTR_ERR(sgt);
	if (!sgt_covers(sgt, tt->num_pages)) {
		drm_dbg(bo->mm->drm, "import: %s's table does not cover BO %llu in whole pages\n",
			attach->dmabuf->exp_name, bo->id);
		dma_buf_unmap_attachment(attach, sgt, DMA_BIDIRECTIONAL);
		return -EINVAL;
	}
	/* Cannot fail: the table was checked to fit. */
	drm_prime_sg_to_dma_addr_array(sgt, tt->dma_address, tt->num_pages);
	tt->sg = sgt;
	atomic64_inc(&bo->mm->stats.dmabuf_maps);
	trace_dgmm_dmabuf_import_map(bo, attach->dmabuf->exp_name);
	return 0;
}

/* dma_buf_attach_ops.move_notify: the exporter moves the buffer. */
static void dgmm_dmabuf_invalidate(struct dma_buf_attachment *attach)
{
	struct dgmm_bo *bo = gem_to_dgmm_bo(attach->importer_priv);
	struct ttm_operation_ctx ctx = { .interruptible = false };

	dgmm_bo_assert_held(bo);
	trace_dgmm_dmabuf_invalidate(bo, attach->dmabuf->exp_name);
	/* Counted when there is a mapping to drop. */
	if (bo->tbo.ttm && bo->tbo.ttm->sg)
		atomic64_inc(&bo->mm->stats.dmabuf_invalidations);
	/* Cannot fail: the wait is not interruptible. */
	dgmm_dmabuf_import_unmap(bo, &ctx);
}

static const struct dma_buf_attach_ops dgmm_importer_ops = {
	.allow_peer2peer = true,
	.move_notify = dgmm_dmabuf_invalidate,
};

/*
 * This device's import of @dmabuf, with a new GEM reference; NULL if there
 * is none. One whose last GEM reference went is waited for until it has
 * detached. Under dgmm_mm.import_lock, so that no other import attaches
 * meanwhile.
 */
static struct drm_gem_object *imported_already(struct dgmm_mm *mm, struct dma_buf *dmabuf)
{
	struct dma_buf_attachment *attach;
	struct drm_gem_object *obj;
	struct dgmm_bo *dying;
	int err;

	lockdep_assert_held(&mm->import_lock);
	for (;;) {
		err = dma_resv_lock_interruptible(dmabuf->resv, NULL);
		if (err)
			return ERR_PTR(err);
		obj = NULL;
		dying = NULL;
		/* The attachment list is under the reservation (dma-buf.c). */
		list_for_each_entry(attach, &dmabuf->attachments, node) {
			struct drm_gem_object *ours = attach->importer_priv;

			/* Not attach->dev: a rebound device has the same one. */
			if (attach->importer_ops != &dgmm_importer_ops || ours->dev != mm->drm)
				continue;
			if (kref_get_unless_zero(&ours->refcount)) {
				obj = ours;
				break;
			}
			/* Its detach, which holds a TTM reference, has not ended. */
			dying = gem_to_dgmm_bo(ours);
			ttm_bo_get(&dying->tbo);
			break;
		}
		dma_resv_unlock(dmabuf->resv);
		if (!dying)
			return obj;
		/* Queued by its GEM free, if that has got so far; else look again. */
		if (!flush_work(&dying->detach_work))
			usleep_range(1000, 2000);
		ttm_bo_put(&dying->tbo);
	}
}

/**
 * dgmm_dmabuf_import - drm_driver.gem_prime_import
 * @mm: the importing device's memory manager
 * @dmabuf: the dma-buf
 *
 * One attachment per device and dma-buf: a dma-buf this device imports
 * already (for another file, or for a job of a closed handle) gives back
 * that BO. A second attachment would map the same pages for the device
 * twice; a non-dynamic exporter (the system dma-heap) maps at attach time,
 * and DMA-API debugging reports such an overlap.
 *
 * Return: the GEM object with a new reference: the BO itself for a dgmm
 * BO of this device, this device's import of the dma-buf, or a new
 * imported BO; or an ERR_PTR: -EINVAL for a dma-buf whose size is not
 * whole pages, -ERESTARTSYS, -EINTR, -ENOMEM, or the exporter's attach
 * error.
 */
struct drm_gem_object *dgmm_dmabuf_import(struct dgmm_mm *mm, struct dma_buf *dmabuf)
{
	struct dma_buf_attachment *attach;
	struct drm_gem_object *obj;
	struct dgmm_bo *bo;
	int err;

	if (dgmm_dmabuf_is_dgmm(dmabuf)) {
		obj = dmabuf->priv;
		if (obj->dev == mm->drm) {
			drm_gem_object_get(obj);
			return obj;
		}
	}
	if (!dmabuf->size || !PAGE_ALIGNED(dmabuf->size)) {
		drm_dbg(mm->drm, "import: %s's dma-buf of %zu bytes is not whole pages\n",
			dmabuf->exp_name, dmabuf->size);
		return ERR_PTR(-EINVAL);
	}

	err = mutex_lock_interruptible(&mm->import_lock);
	if (err)
		return ERR_PTR(err);
	obj = imported_already(mm, dmabuf);
	if (obj)
		goto out_unlock;

	err = dma_resv_lock_interruptible(dmabuf->resv, NULL);
	if (err) {
		obj = ERR_PTR(err);
		goto out_unlock;
	}
	bo = dgmm_bo_create_sg(mm, dmabuf);
	dma_resv_unlock(dmabuf->resv);
	if (IS_ERR(bo)) {
		obj = ERR_CAST(bo);
		goto out_unlock;
	}
	INIT_WORK(&bo->detach_work, import_detach_work);

	/* Once attached, the exporter may call move_notify: the BO is ready. */
	attach = dma_buf_dynamic_attach(dmabuf, mm->drm->dev, &dgmm_importer_ops,
					&bo->tbo.base);
	if (IS_ERR(attach)) {
		dgmm_bo_put(bo);
		obj = ERR_CAST(attach);
		goto out_unlock;
	}
	bo->tbo.base.import_attach = attach;
	obj = &bo->tbo.base;
out_unlock:
	mutex_unlock(&mm->import_lock);
	return obj;
}
