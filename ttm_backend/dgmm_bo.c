// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Buffer objects: TTM BOs that are GEM objects.
 *
 * Lifetime: the GEM reference count owns the BO for handles and dma-bufs;
 * the GEM free callback drops the TTM reference, and CPU mappings hold TTM
 * references of their own, so a mapping outlives the last handle. An
 * imported BO's GEM free passes the TTM reference to its detach (dmabuf/).
 * TTM calls dgmm_bo_destroy() once the BO is idle and unreferenced.
 *
 * CPU faults: a BO in VRAM outside the CPU-visible window is moved into the
 * window, or to GTT when the window is full, before the fault is served
 * (as amdgpu's fault_reserve_notify does). After unplug faults map a dummy page.
 */

#include <linux/dma-buf.h>
#include <linux/mm.h>
#include <kunit/visibility.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_ttm_helper.h>
#include <drm/drm_prime.h>
#include <drm/drm_vma_manager.h>
#include <drm/ttm/ttm_tt.h>

#include "dmabuf/dgmm_dmabuf.h"
#include "eviction/dgmm_evict.h"
#include "trace/dgmm_trace.h"
#include "dgmm_bo.h"
#include "dgmm_mm.h"

static void dgmm_bo_destroy(struct ttm_buffer_object *tbo)
{
	struct dgmm_bo *bo = to_dgmm_bo(tbo);

	trace_dgmm_bo_destroy(bo);
	mutex_lock(&bo->mm->bo_lock);
	list_del(&bo->link);
	mutex_unlock(&bo->mm->bo_lock);

	/* Its attachment went with its last GEM reference (dmabuf/). */
	if (bo->import_buf)
		dma_buf_put(bo->import_buf);
	drm_gem_object_release(&tbo->base);
	kfree(bo);
}

/**
 * dgmm_bo_is_dgmm_bo - tell our BOs from TTM's ghost objects
 * @tbo: a BO TTM handed to a callback
 *
 * Return: true if @tbo is embedded in a struct dgmm_bo.
 */
bool dgmm_bo_is_dgmm_bo(struct ttm_buffer_object *tbo)
{
	return tbo->destroy == dgmm_bo_destroy;
}

/* How often a validation that met a locked victim backs off and tries again. */
#define DGMM_VALIDATE_TRIES 4

/**
 * dgmm_bo_lock_validate - lock a BO under a ww ticket and validate it
 * @bo: the BO, not reserved
 * @placement: where it has to be
 * @reason: why it moves, if it does (DGMM_MOVE_FAULT, _MIGRATE, ...)
 * @ticket: initialised here; on success the caller ends it with
 *	    dgmm_bo_unlock_ticket()
 *
 * TTM's eviction waits for a victim that another task holds locked only
 * when the evicting BO is locked under a ww ticket; without one it skips
 * every such victim and fails with -ENOMEM while memory could be freed.
 * Under a ticket, locking a victim can still meet an older ticket: TTM then
 * gives up the victim (-EDEADLK inside, -ENOMEM out), and the caller has to
 * back off. So on -ENOMEM this drops its lock and ticket and tries again,
 * a few times, before it believes there is no room.
 *
 * Return: 0 with the BO locked under @ticket, or an error with nothing
 * held: -ENOMEM, -ENOSPC, -EBUSY (pinned elsewhere) or -ERESTARTSYS.
 */
int dgmm_bo_lock_validate(struct dgmm_bo *bo, struct ttm_placement *placement,
			  enum dgmm_move_reason reason, struct ww_acquire_ctx *ticket)
{
	struct ttm_operation_ctx ctx = { .interruptible = true };
	struct dma_resv *resv = bo->tbo.base.resv;
	unsigned int tries;
	int err;

	for (tries = 1; ; tries++) {
		ww_acquire_init(ticket, &reservation_ww_class);
		err = dma_resv_lock_interruptible(resv, ticket);
		if (err) {
			ww_acquire_fini(ticket);
			return err;
		}
		dgmm_bo_set_move_reason(bo, reason);
		err = ttm_bo_validate(&bo->tbo, placement, &ctx);
		dgmm_bo_set_move_reason(bo, DGMM_MOVE_NONE);
		if (!err)
			return 0;
		/* TTM says -EINVAL for a pinned BO that would have to move. */
		if (err == -EINVAL && bo->tbo.pin_count)
			err = -EBUSY;
		dgmm_bo_unlock_ticket(bo, ticket);
		if (err != -ENOMEM || tries == DGMM_VALIDATE_TRIES)
			return err;
	}
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_bo_lock_validate);

/**
 * dgmm_bo_unlock_ticket - unlock a BO locked by dgmm_bo_lock_validate()
 * @bo: the BO
 * @ticket: its ticket, ended here
 */
void dgmm_bo_unlock_ticket(struct dgmm_bo *bo, struct ww_acquire_ctx *ticket)
{
	dma_resv_unlock(bo->tbo.base.resv);
	ww_acquire_fini(ticket);
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_bo_unlock_ticket);

/*
 * Makes sure the CPU can reach the whole BO where it is: moves it into the
 * CPU-visible window, or to GTT when the BO allows it and the window cannot
 * be made room in. Called from the fault handler with the BO locked, which
 * ttm_bo_vm_reserve() did without a ticket: when the BO has to move, this
 * relocks it under a ticket (see dgmm_bo_lock_validate()).
 *
 * Return: 0 with the BO locked (under @ticket if *@ticketed), or a
 * vm_fault_t with nothing held.
 */
static vm_fault_t dgmm_bo_fault_reserve_notify(struct dgmm_bo *bo, struct vm_fault *vmf,
					       struct ww_acquire_ctx *ticket, bool *ticketed)
{
	struct dgmm_placement_request req = bo->req;
	struct ttm_resource *res = bo->tbo.resource;
	struct dgmm_placement p;
	bool pinned;
	int err;

	dgmm_bo_assert_held(bo);
	*ticketed = false;
	if (res && dgmm_mm_res_cpu_visible(res))
		return 0;

	pinned = bo->tbo.pin_count;
	dma_resv_unlock(bo->tbo.base.resv);
	if (pinned)
		return VM_FAULT_SIGBUS;
	/* The caller may not sleep here: let it come back. */
	if (vmf->flags & FAULT_FLAG_RETRY_NOWAIT)
		return VM_FAULT_RETRY;

	req.flags |= DGMM_PLACE_CPU_ACCESS;
	err = dgmm_placement_from_request(&p, &req, &bo->mm->limits, NULL);
	if (!err)
		err = dgmm_bo_lock_validate(bo, &p.placement, DGMM_MOVE_FAULT, ticket);
	if (err == -EBUSY || err == -ERESTARTSYS || err == -EINTR)
		return VM_FAULT_NOPAGE;
	if (err)
		return VM_FAULT_SIGBUS;
	*ticketed = true;
	return 0;
}

static vm_fault_t dgmm_bo_vm_fault(struct vm_fault *vmf)
{
	struct ttm_buffer_object *tbo = vmf->vma->vm_private_data;
	struct drm_device *drm = tbo->base.dev;
	struct ww_acquire_ctx ticket;
	bool ticketed = false;
	vm_fault_t ret;
	int idx;

	ret = ttm_bo_vm_reserve(tbo, vmf);
	if (ret)
		return ret;

	if (!drm_dev_enter(drm, &idx)) {
		ret = ttm_bo_vm_dummy_page(vmf, vmf->vma->vm_page_prot);
		goto unlock;
	}
	ret = dgmm_bo_fault_reserve_notify(to_dgmm_bo(tbo), vmf, &ticket, &ticketed);
	if (ret) {
		/* Nothing is held. */
		drm_dev_exit(idx);
		return ret;
	}
	if (tbo->resource->mem_type == TTM_PL_VRAM)
		/* The mapping is writable: its VRAM is no longer known clear. */
		dgmm_vram_mgr_mark_dirty(tbo->resource);
	ret = ttm_bo_vm_fault_reserved(vmf, vmf->vma->vm_page_prot, TTM_BO_VM_NUM_PREFAULT);
	drm_dev_exit(idx);

unlock:
	/* On a retry that was allowed to wait, TTM has dropped the lock. */
	if (!(ret == VM_FAULT_RETRY && !(vmf->flags & FAULT_FLAG_RETRY_NOWAIT)))
		dma_resv_unlock(tbo->base.resv);
	if (ticketed)
		ww_acquire_fini(&ticket);
	return ret;
}

/*
 * ptrace and /proc/pid/mem. Not ttm_bo_vm_access(): for GTT and SYSTEM it
 * reads the pages without waiting for a move into them. dgmm_mm_access()
 * waits in every placement.
 */
static int dgmm_bo_vm_access(struct vm_area_struct *vma, unsigned long addr,
			     void *buf, int len, int write)
{
	struct ttm_buffer_object *tbo = vma->vm_private_data;
	unsigned long offset = addr - vma->vm_start +
		((vma->vm_pgoff - drm_vma_node_start(&tbo->base.vma_node)) << PAGE_SHIFT);
	int ret;

	if (len < 1 || offset + len > tbo->base.size)
		return -EIO;
	/* A debugger's look is no use: not ttm_bo_unreserve(), which bumps the LRU. */
	ret = dma_resv_lock_interruptible(tbo->base.resv, NULL);
	if (ret)
		return -ERESTARTSYS;
	ret = dgmm_mm_access(tbo, offset, buf, len, write);
	dma_resv_unlock(tbo->base.resv);
	return ret;
}

static const struct vm_operations_struct dgmm_bo_vm_ops = {
	.fault = dgmm_bo_vm_fault,
	.open = ttm_bo_vm_open,
	.close = ttm_bo_vm_close,
	.access = dgmm_bo_vm_access,
};

static void dgmm_gem_free(struct drm_gem_object *obj)
{
	struct dgmm_bo *bo = gem_to_dgmm_bo(obj);

	/*
	 * The detach takes the TTM reference over and drops it when done.
	 * Unplug may have detached the BO already (and clears the attachment
	 * under the reservation, not held here): the detach then does nothing.
	 */
	if (READ_ONCE(obj->import_attach))
		dgmm_dmabuf_import_free(bo);
	else
		ttm_bo_put(&bo->tbo);
}

/*
 * An imported BO has no pages of its own for the CPU (only the DMA
 * addresses its attachment gave this device): its mmap is the exporter's,
 * through the dma-buf, as drm_gem_shmem does it.
 */
static int dgmm_gem_mmap(struct drm_gem_object *obj, struct vm_area_struct *vma)
{
	struct dgmm_bo *bo = gem_to_dgmm_bo(obj);
	int ret;

	if (!dgmm_bo_is_imported(bo))
		return drm_gem_ttm_mmap(obj, vma);
	/* Not our vm_ops on the exporter's mapping. */
	vma->vm_private_data = NULL;
	vma->vm_ops = NULL;
	/*
	 * Not obj->dma_buf, which DRM clears when the last handle goes, nor
	 * the attachment, which unplug takes away.
	 */
	ret = dma_buf_mmap(bo->import_buf, vma, 0);
	/* The reference drm_gem_mmap_obj() took is for our own mappings. */
	if (!ret)
		drm_gem_object_put(obj);
	return ret;
}

static const struct drm_gem_object_funcs dgmm_gem_funcs = {
	.free = dgmm_gem_free,
	.export = dgmm_dmabuf_export,
	.mmap = dgmm_gem_mmap,
	.vm_ops = &dgmm_bo_vm_ops,
};

/**
 * dgmm_bo_is_imported - is the BO another exporter's dma-buf?
 * @bo: the BO
 *
 * Such a BO (a TTM SG BO) has no pages: only the DMA addresses its
 * attachment maps for this device, in GTT, while it is mapped.
 *
 * Return: true for an imported BO.
 */
bool dgmm_bo_is_imported(struct dgmm_bo *bo)
{
	return bo->tbo.type == ttm_bo_type_sg;
}

static struct dgmm_bo *bo_create(struct dgmm_mm *mm,
				 const struct dgmm_placement_request *req,
				 enum ttm_bo_type type, struct dma_buf *import,
				 const char **why)
{
	struct dma_resv *resv = import ? import->resv : NULL;
	struct ttm_operation_ctx ctx = { .interruptible = true };
	struct dgmm_bo *bo;
	int err;

	bo = kzalloc(sizeof(*bo), GFP_KERNEL);
	if (!bo)
		return ERR_PTR(-ENOMEM);

	err = dgmm_placement_from_request(&bo->placement, req, &mm->limits, why);
	if (err) {
		kfree(bo);
		return ERR_PTR(err);
	}
	bo->mm = mm;
	bo->id = atomic64_inc_return(&mm->next_bo_id);
	bo->req = *req;
	/* Read by TTM when it puts the BO on an LRU list. */
	bo->tbo.priority = dgmm_evict_priority(type);
	/* Nobody else can see the BO yet: its first placement is a validation. */
	bo->move_reason = DGMM_MOVE_VALIDATE;
	INIT_LIST_HEAD(&bo->link);
	/*
	 * An imported BO shares the dma-buf's reservation from here on, TTM's
	 * delayed delete of a BO that fails to initialise included: the
	 * dma-buf stays until dgmm_bo_destroy().
	 */
	if (import) {
		get_dma_buf(import);
		bo->import_buf = import;
	}
	drm_gem_private_object_init(mm->drm, &bo->tbo.base, req->size);
	bo->tbo.base.funcs = &dgmm_gem_funcs;

	mutex_lock(&mm->bo_lock);
	list_add_tail(&bo->link, &mm->bos);
	mutex_unlock(&mm->bo_lock);

	/*
	 * On failure TTM puts the BO, which calls dgmm_bo_destroy(). With a
	 * @resv of the caller's, the caller holds it and keeps holding it.
	 */
	err = ttm_bo_init_reserved(&mm->ttm, &bo->tbo, type, &bo->placement.placement, 0,
				   &ctx, NULL, resv, dgmm_bo_destroy);
	if (err)
		return ERR_PTR(err);

	dgmm_bo_set_move_reason(bo, DGMM_MOVE_NONE);
	trace_dgmm_bo_create(bo);
	if (resv)
		ttm_bo_move_to_lru_tail_unlocked(&bo->tbo);
	else
		ttm_bo_unreserve(&bo->tbo);
	return bo;
}

/**
 * dgmm_bo_create - create a BO for userspace, placed and cleared
 * @mm: the memory manager
 * @req: size (a multiple of PAGE_SIZE), domains and flags
 * @why: set to the failed condition when the request is rejected (may be NULL)
 *
 * The BO is validated into its placement before this returns; its contents
 * read as zero (a VRAM clear may still be running on the engine, fenced in
 * the BO's reservation object).
 *
 * Return: the BO with one GEM reference, or an ERR_PTR: -EINVAL for a bad
 * request, -ENOSPC if no allowed domain can hold it, -ENOMEM if memory runs
 * out, -ERESTARTSYS on a signal.
 */
struct dgmm_bo *dgmm_bo_create(struct dgmm_mm *mm,
			       const struct dgmm_placement_request *req,
			       const char **why)
{
	return bo_create(mm, req, ttm_bo_type_device, NULL, why);
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_bo_create);

/**
 * dgmm_bo_create_kernel - create a BO the driver uses itself
 * @mm: the memory manager
 * @req: as for dgmm_bo_create()
 *
 * As dgmm_bo_create(), but the BO is a TTM kernel BO (no mmap offset) and
 * is evicted only after every user BO of its region
 * (DGMM_EVICT_PRIO_KERNEL).
 *
 * Return: as dgmm_bo_create().
 */
struct dgmm_bo *dgmm_bo_create_kernel(struct dgmm_mm *mm,
				      const struct dgmm_placement_request *req)
{
	return bo_create(mm, req, ttm_bo_type_kernel, NULL, NULL);
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_bo_create_kernel);

/**
 * dgmm_bo_create_sg - create the BO of an imported dma-buf
 * @mm: the importing device's memory manager
 * @dmabuf: the dma-buf, its reservation object held by the caller; the BO
 *	    shares it, so that both devices' fences meet in one place, and
 *	    keeps a reference to the dma-buf until it is destroyed
 *
 * A TTM SG BO: no pages, no copies. It is created in SYSTEM, unmapped; a
 * device job places it in GTT, and dmabuf/ then maps the attachment and
 * hands its DMA addresses to the engine. It may live in GTT or SYSTEM
 * only: its memory is the exporter's.
 *
 * Return: the BO with one GEM reference, or an ERR_PTR.
 */
struct dgmm_bo *dgmm_bo_create_sg(struct dgmm_mm *mm, struct dma_buf *dmabuf)
{
	struct dgmm_placement_request req = {
		.size = dmabuf->size,
		.preferred = DGMM_DOMAIN_SYSTEM,
		.allowed = DGMM_DOMAIN_GTT | DGMM_DOMAIN_SYSTEM,
	};
	struct dgmm_bo *bo;
	int err;

	dma_resv_assert_held(dmabuf->resv);
	bo = bo_create(mm, &req, ttm_bo_type_sg, dmabuf, NULL);
	if (IS_ERR(bo))
		return bo;
	/* From now on its place is GTT: the engine reaches it there. */
	bo->req.preferred = DGMM_DOMAIN_GTT;
	err = dgmm_placement_from_request(&bo->placement, &bo->req, &mm->limits, NULL);
	if (err) {
		dgmm_bo_put(bo);
		return ERR_PTR(err);
	}
	return bo;
}

/**
 * dgmm_bo_put - drop a GEM reference
 * @bo: the BO
 */
void dgmm_bo_put(struct dgmm_bo *bo)
{
	drm_gem_object_put(&bo->tbo.base);
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_bo_put);

/**
 * dgmm_bo_migrate - move a BO to one domain now
 * @bo: the BO, not reserved
 * @domain: one DGMM_DOMAIN_*, allowed for the BO
 * @why: set to the failed condition when the request is rejected (may be NULL)
 *
 * The move is queued on the engine; this returns without waiting for it.
 *
 * Return: 0; -EINVAL for a domain that is not one allowed domain; -ENOSPC
 * if the domain can never hold the BO; -EBUSY if the BO is pinned elsewhere;
 * -ENOMEM if there is no room even after evicting; -ERESTARTSYS on a signal.
 */
int dgmm_bo_migrate(struct dgmm_bo *bo, u32 domain, const char **why)
{
	struct ww_acquire_ctx ticket;
	struct dgmm_placement p;
	int err;

	err = dgmm_placement_for_domain(&p, &bo->req, &bo->mm->limits, domain, why);
	if (err)
		return err;

	err = dgmm_bo_lock_validate(bo, &p.placement, DGMM_MOVE_MIGRATE, &ticket);
	if (!err)
		dgmm_bo_unlock_ticket(bo, &ticket);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_bo_migrate);

static int validate(struct dgmm_bo *bo, struct ttm_placement *placement,
		    struct ttm_operation_ctx *ctx)
{
	int err;

	dgmm_bo_set_move_reason(bo, DGMM_MOVE_VALIDATE);
	err = ttm_bo_validate(&bo->tbo, placement, ctx);
	dgmm_bo_set_move_reason(bo, DGMM_MOVE_NONE);
	if (err == -EINVAL && bo->tbo.pin_count)
		err = -EBUSY;
	return err;
}

/*
 * Would ttm_bo_validate() leave the BO where it is? In its first pass
 * (@evicting false) the places without TTM_PL_FLAG_FALLBACK count, in its
 * second those without TTM_PL_FLAG_DESIRED. ttm_resource_compatible(),
 * which says the same, is not exported in 6.12.
 */
static bool res_compatible(struct dgmm_bo *bo, const struct ttm_placement *placement,
			   bool evicting)
{
	struct ttm_resource *res = bo->tbo.resource;
	unsigned int i;

	if (!res || (res->placement & TTM_PL_FLAG_TEMPORARY))
		return false;
	for (i = 0; i < placement->num_placement; i++) {
		const struct ttm_place *place = &placement->placement[i];
		struct ttm_resource_manager *man;

		if (res->mem_type != place->mem_type ||
		    (place->flags & (evicting ? TTM_PL_FLAG_DESIRED : TTM_PL_FLAG_FALLBACK)))
			continue;
		if ((place->flags & TTM_PL_FLAG_CONTIGUOUS) &&
		    !(res->placement & TTM_PL_FLAG_CONTIGUOUS))
			continue;
		man = ttm_manager_type(bo->tbo.bdev, res->mem_type);
		if (man->func->compatible &&
		    !man->func->compatible(man, res, place, bo->tbo.base.size))
			continue;
		return true;
	}
	return false;
}

static void promoted(struct dgmm_bo *bo, u32 from, enum dgmm_promote_outcome outcome,
		     s64 budget)
{
	atomic64_inc(&bo->mm->stats.promotions[outcome]);
	trace_dgmm_bo_promote(bo, from, outcome, budget);
}

/*
 * Is the BO reachable by the device but out of its preferred domain? Then
 * @preferred is filled in with its preferred places.
 */
static bool out_of_preferred(struct dgmm_bo *bo, struct dgmm_placement *p,
			     struct dgmm_placement *preferred)
{
	return !bo->tbo.pin_count && !res_compatible(bo, &p->placement, false) &&
	       res_compatible(bo, &p->placement, true) &&
	       dgmm_placement_for_device_preferred(preferred, &bo->req, &bo->mm->limits);
}

/**
 * dgmm_bo_validate_for_device - make a locked BO reachable by the device
 * @bo: the BO, reserved (under a ww ticket, so that eviction may wait)
 * @ctx: the operation context; its bytes_moved counts what this moved
 * @why: set to the failed condition when the BO can never be (may be NULL)
 *
 * A BO the device cannot reach (in SYSTEM, or never placed) moves to VRAM
 * or GTT, as its request prefers and allows, evicting others if it has to.
 * A BO the device reaches where it is stays there, pinned or not: going
 * back to its preferred domain is dgmm_bo_promote()'s, once every BO of a
 * job is reachable (a BO brought back first could take the room another
 * BO of the same job needs, and the job's own BOs are never evicted).
 *
 * Return: 0, -EINVAL for a BO allowed only in SYSTEM, -EBUSY if pinned
 * where the device cannot reach it, -ENOMEM, -ENOSPC or -ERESTARTSYS; on
 * -ENOMEM the caller backs off (drops every lock of its ww context) before
 * it tries again: TTM reports a lost ww contention as -ENOMEM.
 */
int dgmm_bo_validate_for_device(struct dgmm_bo *bo, struct ttm_operation_ctx *ctx,
				const char **why)
{
	struct dgmm_placement p;
	int err;

	dgmm_bo_assert_held(bo);
	err = dgmm_placement_for_device(&p, &bo->req, &bo->mm->limits, why);
	if (err)
		return err;
	/* Allowed and reachable where it is (TTM's second test, done here). */
	if (!res_compatible(bo, &p.placement, true)) {
		if (bo->tbo.pin_count)
			return -EBUSY;
		err = validate(bo, &p.placement, ctx);
		if (err)
			return err;
	}
	/* An imported BO in GTT still needs its attachment mapped. */
	if (dgmm_bo_is_imported(bo))
		return dgmm_dmabuf_import_map(bo);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_bo_validate_for_device);

/**
 * dgmm_bo_promote - bring a reachable BO back to its preferred domain
 * @bo: the BO, reserved under a ww ticket, validated for the device
 * @ctx: the operation context; its bytes_moved counts what this moved
 * @budget: bytes the move budget has left (S64_MAX without a budget)
 * @may_evict: whether it may evict others to go back (false once an
 *	       earlier promotion of the same ww context has failed)
 *
 * A BO out of its preferred domain (evicted there) goes back where there
 * is room, evicting nothing; failing that, and if @may_evict and @budget
 * is above what @ctx moved already (as amdgpu's submissions do while their
 * move budget lasts), by evicting less recently used BOs. Otherwise it
 * stays where it is, which the device reaches. Nothing else moves.
 *
 * Return: 0 when it went back, did not need to, or stays for want of
 * budget or of the right to evict; -ENOMEM or -ENOSPC when evicting found
 * nothing to give way, which is no error for the BO: but the ww context
 * may have lost a contention (TTM reports that as -ENOMEM too) and must
 * lock nothing more before it backs off, so the caller lets no later
 * promotion evict; -ERESTARTSYS on a signal.
 */
int dgmm_bo_promote(struct dgmm_bo *bo, struct ttm_operation_ctx *ctx, s64 budget,
		    bool may_evict)
{
	struct dgmm_placement p, preferred;
	s64 left;
	u32 from;
	int err;

	dgmm_bo_assert_held(bo);
	if (dgmm_placement_for_device(&p, &bo->req, &bo->mm->limits, NULL) ||
	    !out_of_preferred(bo, &p, &preferred))
		return 0;
	from = bo->tbo.resource->mem_type;
	left = budget - (s64)min_t(u64, ctx->bytes_moved, S64_MAX);

	/* Where there is room: TTM_PL_FLAG_DESIRED places lock no victim. */
	for (unsigned int i = 0; i < preferred.placement.num_placement; i++)
		preferred.places[i].flags |= TTM_PL_FLAG_DESIRED;
	err = validate(bo, &preferred.placement, ctx);
	if (!err)
		promoted(bo, from, DGMM_PROMOTE_DONE, left);
	if (err != -ENOSPC && err != -ENOMEM)
		return err;

	if (!may_evict || left <= 0) {
		promoted(bo, from, may_evict ? DGMM_PROMOTE_BUDGET : DGMM_PROMOTE_NO_ROOM, left);
		return 0;
	}
	for (unsigned int i = 0; i < preferred.placement.num_placement; i++)
		preferred.places[i].flags &= ~TTM_PL_FLAG_DESIRED;
	err = validate(bo, &preferred.placement, ctx);
	if (!err)
		promoted(bo, from, DGMM_PROMOTE_DONE, left);
	else if (err == -ENOMEM || err == -ENOSPC)
		promoted(bo, from, DGMM_PROMOTE_NO_ROOM, left);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_bo_promote);

/**
 * dgmm_bo_pin - pin a BO in one domain
 * @bo: the BO, reserved
 * @domain: one DGMM_DOMAIN_* the BO is allowed in
 * @reason: why, if it has to move (DGMM_MOVE_VALIDATE, DGMM_MOVE_DMABUF)
 *
 * Moves it there first if need be. A pinned BO is never evicted (it leaves
 * TTM's LRU lists) and cannot be moved; pins nest, and each is undone by
 * dgmm_bo_unpin(). A BO pinned in one domain cannot be pinned in another.
 *
 * Return: 0; -EINVAL for a domain that is not one allowed domain; -EBUSY if
 * already pinned elsewhere; -ENOSPC, -ENOMEM or -ERESTARTSYS.
 */
int dgmm_bo_pin(struct dgmm_bo *bo, u32 domain, enum dgmm_move_reason reason)
{
	struct ttm_operation_ctx ctx = { .interruptible = true };
	struct dgmm_placement p;
	int err;

	dgmm_bo_assert_held(bo);
	if (bo->tbo.pin_count) {
		err = dgmm_placement_for_domain(&p, &bo->req, &bo->mm->limits, domain, NULL);
		if (err)
			return err;
		if (!res_compatible(bo, &p.placement, false))
			return -EBUSY;
	} else {
		err = dgmm_bo_move_locked(bo, domain, reason, &ctx);
		if (err)
			return err;
	}
	ttm_bo_pin(&bo->tbo);
	trace_dgmm_bo_pin(bo);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_bo_pin);

/**
 * dgmm_bo_move_locked - move a reserved BO to one domain
 * @bo: the BO, reserved (with or without a ww ticket)
 * @domain: one DGMM_DOMAIN_* the BO is allowed in
 * @reason: why it moves
 * @ctx: TTM's operation context
 *
 * For callers that hold the reservation already (dma-buf ops): unlike
 * dgmm_bo_migrate() it cannot back off and retry under a fresh ticket.
 *
 * Return: 0; -EINVAL for a domain the BO is not allowed in; -EBUSY if it is
 * pinned elsewhere; -ENOSPC, -ENOMEM, -ERESTARTSYS.
 */
int dgmm_bo_move_locked(struct dgmm_bo *bo, u32 domain, enum dgmm_move_reason reason,
			struct ttm_operation_ctx *ctx)
{
	struct dgmm_placement p;
	int err;

	dgmm_bo_assert_held(bo);
	err = dgmm_placement_for_domain(&p, &bo->req, &bo->mm->limits, domain, NULL);
	if (err)
		return err;
	dgmm_bo_set_move_reason(bo, reason);
	err = ttm_bo_validate(&bo->tbo, &p.placement, ctx);
	dgmm_bo_set_move_reason(bo, DGMM_MOVE_NONE);
	if (err == -EINVAL && bo->tbo.pin_count)
		err = -EBUSY;
	return err;
}

/**
 * dgmm_bo_unpin - undo one dgmm_bo_pin()
 * @bo: the BO, reserved and pinned
 */
void dgmm_bo_unpin(struct dgmm_bo *bo)
{
	dgmm_bo_assert_held(bo);
	ttm_bo_unpin(&bo->tbo);
	/* TTM leaves it on the unevictable list until its next LRU move. */
	if (!bo->tbo.pin_count)
		ttm_bo_move_to_lru_tail_unlocked(&bo->tbo);
	trace_dgmm_bo_unpin(bo);
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_bo_unpin);

/**
 * dgmm_bo_mem_range - part of a device-reachable BO, as the engine reaches it
 * @bo: the BO, reserved and validated for the device
 * @offset: bytes into the BO, page-aligned
 * @size: bytes, page-aligned, not past the BO's end
 * @write: the engine will write it (VRAM is then no longer known clear)
 * @mem: filled in: VRAM ranges (owned, freed with dgmm_mem_release()) or the
 *	 tt's DMA addresses (borrowed: the job's fence in the BO's reservation
 *	 keeps TTM from unmapping and freeing the pages before it signals)
 *
 * Return: 0, -EINVAL for a range that is not page-aligned or not inside the
 * BO or a BO not in VRAM or GTT, -ENOMEM.
 */
int dgmm_bo_mem_range(struct dgmm_bo *bo, u64 offset, u64 size, bool write,
		      struct dgmm_mem *mem)
{
	struct ttm_resource *res = bo->tbo.resource;
	struct ttm_tt *tt = bo->tbo.ttm;

	dgmm_bo_assert_held(bo);
	if (!size || !PAGE_ALIGNED(offset) || !PAGE_ALIGNED(size) ||
	    offset > bo->tbo.base.size || size > bo->tbo.base.size - offset || !res)
		return -EINVAL;

	if (res->mem_type == TTM_PL_TT) {
		if (!tt || !ttm_tt_is_populated(tt) || (dgmm_bo_is_imported(bo) && !tt->sg))
			return -EINVAL;
		mem->kind = DGMM_MEM_DMA;
		mem->addrs = tt->dma_address + (offset >> PAGE_SHIFT);
		mem->count = size >> PAGE_SHIFT;
		return 0;
	}
	if (res->mem_type != TTM_PL_VRAM)
		return -EINVAL;
	if (write)
		dgmm_vram_mgr_mark_dirty(res);
	return dgmm_vram_mgr_snapshot(&bo->mm->vram, res, offset, size, false, mem, NULL);
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_bo_mem_range);

/**
 * dgmm_bo_state - where a BO is and what happened to it
 * @bo: the BO, not reserved
 * @state: filled in
 *
 * Return: 0 or -ERESTARTSYS.
 */
int dgmm_bo_state(struct dgmm_bo *bo, struct dgmm_bo_state *state)
{
	struct ttm_resource *res;
	int err;

	/*
	 * Looking is not using: dma_resv_unlock() below, not
	 * ttm_bo_unreserve(), which would move the BO to its LRU tail.
	 */
	err = dma_resv_lock_interruptible(bo->tbo.base.resv, NULL);
	if (err)
		return -ERESTARTSYS;	/* -EINTR: restart the ioctl, as ttm_bo_reserve() does */

	res = bo->tbo.resource;
	*state = (struct dgmm_bo_state){
		.domain = res ? dgmm_placement_domain_of(res->mem_type) : 0,
		.pin_count = bo->tbo.pin_count,
		.move_count = bo->move_count,
	};
	if (res) {
		state->cpu_visible = dgmm_mm_res_cpu_visible(res);
		state->contiguous = res->mem_type == TTM_PL_VRAM &&
				    (res->placement & TTM_PL_FLAG_CONTIGUOUS);
	}
	state->swapped = bo->tbo.ttm && (bo->tbo.ttm->page_flags & TTM_TT_FLAG_SWAPPED);
	dma_resv_unlock(bo->tbo.base.resv);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_bo_state);

/**
 * dgmm_bo_wait - wait until every job on the BO has finished
 * @bo: the BO, not reserved
 * @timeout_ns: how long to wait at most; 0 only tests, negative waits forever
 *
 * Return: 0 when idle, -ETIME if still busy after the timeout,
 * -ERESTARTSYS on a signal.
 */
long dgmm_bo_wait(struct dgmm_bo *bo, s64 timeout_ns)
{
	unsigned long timeout;
	long ret;

	if (timeout_ns < 0)
		timeout = MAX_SCHEDULE_TIMEOUT;
	else
		timeout = nsecs_to_jiffies(timeout_ns);

	ret = dma_resv_wait_timeout(bo->tbo.base.resv, DMA_RESV_USAGE_BOOKKEEP,
				    true, timeout);
	if (ret < 0)
		return ret;
	return ret ? 0 : -ETIME;
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_bo_wait);

/**
 * dgmm_bo_memory_stats - add a BO to a client's memory statistics
 * @bo: the BO, reserved
 * @stats: one per TTM_PL_* (SYSTEM, TT, VRAM): the BO is added to the one
 *	   of the region it is in now
 *
 * What drm-usage-stats.rst asks for each region: total (private or
 * shared: more than one handle, or exported), resident (VRAM always; pages
 * only once they exist and are not swapped out), active (a job or move
 * still runs on it). No dgmm BO is ever purgeable.
 */
void dgmm_bo_memory_stats(struct dgmm_bo *bo, struct drm_memory_stats *stats)
{
	struct ttm_resource *res = bo->tbo.resource;
	struct ttm_tt *tt = bo->tbo.ttm;
	struct drm_memory_stats *s;
	u64 size = bo->tbo.base.size;

	dgmm_bo_assert_held(bo);
	if (!res || res->mem_type > TTM_PL_VRAM)
		return;
	s = &stats[res->mem_type];
	if (drm_gem_object_is_shared_for_memory_stats(&bo->tbo.base))
		s->shared += size;
	else
		s->private += size;
	if (res->mem_type == TTM_PL_VRAM || (tt && ttm_tt_is_populated(tt)))
		s->resident += size;
	if (!dma_resv_test_signaled(bo->tbo.base.resv, DMA_RESV_USAGE_BOOKKEEP))
		s->active += size;
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_bo_memory_stats);
