// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Device jobs from userspace: DRM_IOCTL_DGMM_SUBMIT, and the scheduler
 * entity each open file submits them through.
 *
 * A submit, in order:
 *
 * 1. copy the operations and syncobjs in and check every field (-EINVAL
 *    with a debug line naming the condition);
 * 2. look up the BOs, each once, and the syncobjs; allocate the job, the
 *    fence chains of timeline out-syncs: nothing is allocated once the job
 *    is armed;
 * 3. lock every BO with drm_exec (it backs off and retries on contention),
 *    move each where the device reaches it (the locks are under drm_exec's
 *    ww ticket, so eviction may wait for BOs others hold); while the
 *    device's move budget lasts, a BO out of its preferred domain goes
 *    back there, evicting less recently used BOs if it has to;
 * 4. describe each operation's memory, add the dependencies: the in-syncs,
 *    and implicit sync through each BO's reservation object;
 * 5. arm and push the job, add its fence to every BO (writer or reader),
 *    move every BO to the tail of its LRU list (the last to be evicted),
 *    unlock, charge the bytes moved to the budget, and publish the fence
 *    in the out-syncs.
 */

#include <linux/dma-fence-chain.h>
#include <linux/overflow.h>
#include <linux/uaccess.h>
#include <drm/drm_drv.h>
#include <drm/drm_exec.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_print.h>
#include <drm/drm_syncobj.h>

#include <uapi/drm/dgmm_drm.h>

#include "ttm_backend/dgmm_bo.h"
#include "dgmm_drv.h"

/* How often a submit whose validation met a locked victim tries again. */
#define SUBMIT_VALIDATE_TRIES 4

static unsigned int move_budget_mbps;
module_param(move_budget_mbps, uint, 0644);
MODULE_PARM_DESC(move_budget_mbps,
		 "MiB per second device jobs may move to bring BOs back to their preferred domain, as amdgpu's moverate (default 0: no limit)");

#define SUBMIT_CHECK(drm, cond) ({						\
	bool __failed = (cond);							\
	if (__failed)								\
		drm_dbg_driver(drm, "submit: rejected: %s\n", #cond);		\
	__failed;								\
})

/**
 * dgmm_file_open - drm_driver.open: give the file its scheduler entity
 * @drm: the DRM device
 * @file: the new file
 *
 * Return: 0 or a negative error code.
 */
int dgmm_file_open(struct drm_device *drm, struct drm_file *file)
{
	struct drm_gpu_scheduler *sched[] = { to_dgmm_device(drm)->engine.sched };
	struct dgmm_file *dfile;
	int err;

	dfile = kzalloc(sizeof(*dfile), GFP_KERNEL);
	if (!dfile)
		return -ENOMEM;
	err = drm_sched_entity_init(&dfile->entity, DRM_SCHED_PRIORITY_NORMAL, sched, 1, NULL);
	if (err) {
		kfree(dfile);
		return err;
	}
	mutex_init(&dfile->submit_lock);
	file->driver_priv = dfile;
	return 0;
}

/**
 * dgmm_file_postclose - drm_driver.postclose: drop the file's entity
 * @drm: the DRM device
 * @file: the file
 *
 * drm_sched_entity_destroy() waits (killably, and only a second for an
 * exiting process) until the file's queued jobs have reached the engine,
 * then fails those still queued once their dependencies have signalled
 * (foreign ones within the job timeout). Jobs hold their BOs until they are
 * freed; TTM frees busy BOs once their fences have signalled.
 */
void dgmm_file_postclose(struct drm_device *drm, struct drm_file *file)
{
	struct dgmm_file *dfile = file->driver_priv;

	drm_sched_entity_destroy(&dfile->entity);
	mutex_destroy(&dfile->submit_lock);
	kfree(dfile);
}

/* What one submit holds while it is built. */
struct submit {
	struct drm_device *drm;
	struct drm_file *file;
	struct drm_dgmm_job_op *ops;
	struct drm_dgmm_sync *in, *out;
	u32 num_ops, num_in, num_out;
	struct drm_gem_object **objs;	/* distinct BOs, one reference each */
	bool *written;			/* per BO: some operation writes it */
	unsigned int *dst_obj, *src_obj;	/* per operation: index in @objs */
	unsigned int num_objs;
	struct drm_syncobj **out_syncobjs;
	struct dma_fence_chain **chains;
	struct dma_fence **in_fences;	/* the in-syncs' fences, looked up first */
};

static void *copy_array(u64 user, u32 n, size_t size)
{
	if (!n)
		return NULL;
	return vmemdup_array_user(u64_to_user_ptr(user), n, size);
}

static int check_args(struct drm_device *drm, const struct drm_dgmm_submit *args)
{
	if (SUBMIT_CHECK(drm, args->flags) ||
	    SUBMIT_CHECK(drm, !args->num_ops) ||
	    SUBMIT_CHECK(drm, args->num_ops > DRM_DGMM_SUBMIT_MAX_OPS) ||
	    SUBMIT_CHECK(drm, args->num_in_syncs > DRM_DGMM_SUBMIT_MAX_SYNCS) ||
	    SUBMIT_CHECK(drm, args->num_out_syncs > DRM_DGMM_SUBMIT_MAX_SYNCS))
		return -EINVAL;
	return 0;
}

/* Do [a, a + n) and [b, b + n) overlap? */
static bool overlap(u64 a, u64 b, u64 n)
{
	return a < b + n && b < a + n;
}

static int check_op(struct drm_device *drm, const struct drm_dgmm_job_op *op)
{
	bool copy = op->op == DRM_DGMM_OP_COPY;

	if (SUBMIT_CHECK(drm, op->op != DRM_DGMM_OP_COPY && op->op != DRM_DGMM_OP_FILL) ||
	    SUBMIT_CHECK(drm, !op->size) ||
	    SUBMIT_CHECK(drm, !PAGE_ALIGNED(op->size)) ||
	    SUBMIT_CHECK(drm, !PAGE_ALIGNED(op->dst_offset)) ||
	    SUBMIT_CHECK(drm, !copy && (op->src_handle || op->src_offset)) ||
	    SUBMIT_CHECK(drm, !copy && op->value > 0xff) ||
	    SUBMIT_CHECK(drm, copy && op->value) ||
	    SUBMIT_CHECK(drm, copy && !PAGE_ALIGNED(op->src_offset)))
		return -EINVAL;
	return 0;
}

static int check_sync(struct drm_device *drm, const struct drm_dgmm_sync *sync)
{
	if (SUBMIT_CHECK(drm, sync->flags))
		return -EINVAL;
	return 0;
}

/* Index of @handle's BO in s->objs, adding it (looked up) if new. */
static int add_obj(struct submit *s, u32 handle, bool write)
{
	struct drm_gem_object *obj;
	unsigned int i;

	obj = drm_gem_object_lookup(s->file, handle);
	if (!obj) {
		drm_dbg_driver(s->drm, "submit: no BO with handle %u\n", handle);
		return -ENOENT;
	}
	for (i = 0; i < s->num_objs; i++) {
		if (s->objs[i] == obj) {
			drm_gem_object_put(obj);
			s->written[i] |= write;
			return i;
		}
	}
	s->objs[s->num_objs] = obj;
	s->written[s->num_objs] = write;
	return s->num_objs++;
}

static void submit_release(struct submit *s)
{
	unsigned int i;

	for (i = 0; i < s->num_objs; i++)
		drm_gem_object_put(s->objs[i]);
	for (i = 0; s->out_syncobjs && i < s->num_out; i++) {
		if (s->out_syncobjs[i])
			drm_syncobj_put(s->out_syncobjs[i]);
		if (s->chains)
			dma_fence_chain_free(s->chains[i]);
	}
	for (i = 0; s->in_fences && i < s->num_in; i++)
		dma_fence_put(s->in_fences[i]);
	kfree(s->in_fences);
	kfree(s->out_syncobjs);
	kfree(s->chains);
	kfree(s->objs);
	kfree(s->written);
	kfree(s->dst_obj);
	kfree(s->src_obj);
	kvfree(s->ops);
	kvfree(s->in);
	kvfree(s->out);
}

/* Steps 1 and 2: copy in, check, look up the BOs and out-syncs. */
static int submit_prepare(struct submit *s, const struct drm_dgmm_submit *args)
{
	unsigned int i;
	int err;

	err = check_args(s->drm, args);
	if (err)
		return err;
	s->num_ops = args->num_ops;
	s->num_in = args->num_in_syncs;
	s->num_out = args->num_out_syncs;
	s->ops = copy_array(args->ops, s->num_ops, sizeof(*s->ops));
	s->in = copy_array(args->in_syncs, s->num_in, sizeof(*s->in));
	s->out = copy_array(args->out_syncs, s->num_out, sizeof(*s->out));
	if (IS_ERR(s->ops) || IS_ERR(s->in) || IS_ERR(s->out)) {
		err = IS_ERR(s->ops) ? PTR_ERR(s->ops) :
		      IS_ERR(s->in) ? PTR_ERR(s->in) : PTR_ERR(s->out);
		if (IS_ERR(s->ops))
			s->ops = NULL;
		if (IS_ERR(s->in))
			s->in = NULL;
		if (IS_ERR(s->out))
			s->out = NULL;
		return err;
	}
	for (i = 0; i < s->num_ops; i++) {
		err = check_op(s->drm, &s->ops[i]);
		if (err)
			return err;
	}
	for (i = 0; i < s->num_in; i++) {
		err = check_sync(s->drm, &s->in[i]);
		if (err)
			return err;
	}
	for (i = 0; i < s->num_out; i++) {
		err = check_sync(s->drm, &s->out[i]);
		if (err)
			return err;
	}

	s->objs = kcalloc(2 * s->num_ops, sizeof(*s->objs), GFP_KERNEL);
	s->written = kcalloc(2 * s->num_ops, sizeof(*s->written), GFP_KERNEL);
	s->dst_obj = kcalloc(s->num_ops, sizeof(*s->dst_obj), GFP_KERNEL);
	s->src_obj = kcalloc(s->num_ops, sizeof(*s->src_obj), GFP_KERNEL);
	s->out_syncobjs = kcalloc(s->num_out, sizeof(*s->out_syncobjs), GFP_KERNEL);
	s->chains = kcalloc(s->num_out, sizeof(*s->chains), GFP_KERNEL);
	if (!s->objs || !s->written || !s->dst_obj || !s->src_obj ||
	    (s->num_out && (!s->out_syncobjs || !s->chains)))
		return -ENOMEM;
	for (i = 0; i < s->num_ops; i++) {
		err = add_obj(s, s->ops[i].dst_handle, true);
		if (err < 0)
			return err;
		s->dst_obj[i] = err;
		if (s->ops[i].op != DRM_DGMM_OP_COPY)
			continue;
		err = add_obj(s, s->ops[i].src_handle, false);
		if (err < 0)
			return err;
		s->src_obj[i] = err;
		/* Two handles may name one BO: compare the BOs. */
		if (SUBMIT_CHECK(s->drm, s->src_obj[i] == s->dst_obj[i] &&
				 overlap(s->ops[i].src_offset, s->ops[i].dst_offset,
					 s->ops[i].size)))
			return -EINVAL;
	}
	/* In-syncs first: a bad one must fail the submit before BOs move. */
	s->in_fences = kcalloc(s->num_in, sizeof(*s->in_fences), GFP_KERNEL);
	if (s->num_in && !s->in_fences)
		return -ENOMEM;
	for (i = 0; i < s->num_in; i++) {
		err = drm_syncobj_find_fence(s->file, s->in[i].handle, s->in[i].point, 0,
					     &s->in_fences[i]);
		if (err) {
			drm_dbg_driver(s->drm, "submit: in-sync %u (point %llu): %d\n",
				       s->in[i].handle, s->in[i].point, err);
			return err;
		}
	}
	for (i = 0; i < s->num_out; i++) {
		s->out_syncobjs[i] = drm_syncobj_find(s->file, s->out[i].handle);
		if (!s->out_syncobjs[i]) {
			drm_dbg_driver(s->drm, "submit: no syncobj %u\n", s->out[i].handle);
			return -ENOENT;
		}
		if (s->out[i].point) {
			s->chains[i] = dma_fence_chain_alloc();
			if (!s->chains[i])
				return -ENOMEM;
		}
	}
	return 0;
}

/* Step 4, with every BO locked and validated: the job's memory and dependencies. */
static int submit_fill_job(struct submit *s, struct dgmm_engine_job *job)
{
	unsigned int i;
	int err;

	for (i = 0; i < s->num_ops; i++) {
		const struct drm_dgmm_job_op *uop = &s->ops[i];
		struct dgmm_engine_op *op = dgmm_engine_job_op(job, i);
		struct dgmm_bo *dst = gem_to_dgmm_bo(s->objs[s->dst_obj[i]]);

		op->size = uop->size;
		op->src.kind = DGMM_MEM_DMA;	/* nothing to free until set */
		op->dst.kind = DGMM_MEM_DMA;
		if (uop->op == DRM_DGMM_OP_FILL) {
			op->op = DGMM_OP_FILL;
			op->value = uop->value;
		} else {
			op->op = DGMM_OP_COPY;
			err = dgmm_bo_mem_range(gem_to_dgmm_bo(s->objs[s->src_obj[i]]),
						uop->src_offset, uop->size, false, &op->src);
			if (err)
				goto bad_range;
		}
		err = dgmm_bo_mem_range(dst, uop->dst_offset, uop->size, true, &op->dst);
		if (err)
			goto bad_range;
	}

	for (i = 0; i < s->num_in; i++) {
		err = dgmm_engine_job_add_fence(job, s->in_fences[i]);
		if (err)
			return err;
	}
	for (i = 0; i < s->num_objs; i++) {
		err = dgmm_engine_job_add_resv(job, s->objs[i]->resv,
					       dma_resv_usage_rw(s->written[i]));
		if (err)
			return err;
	}
	return 0;

bad_range:
	if (err == -EINVAL)
		drm_dbg_driver(s->drm, "submit: op %u: range outside its BO\n", i);
	return err;
}

/**
 * dgmm_submit_ioctl - DRM_IOCTL_DGMM_SUBMIT
 * @drm: the DRM device
 * @data: the &struct drm_dgmm_submit
 * @file: the caller's file
 *
 * Return: 0 or a negative error code (see the uAPI header).
 */
int dgmm_submit_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct dgmm_device *ddev = to_dgmm_device(drm);
	struct dgmm_file *dfile = file->driver_priv;
	u32 budget_rate = READ_ONCE(move_budget_mbps);
	struct submit s = { .drm = drm, .file = file };
	struct ttm_operation_ctx ctx = { .interruptible = true };
	struct dgmm_engine_job *job = NULL;
	struct dma_fence *fence = NULL;
	unsigned int i, tries;
	const char *why = NULL;
	bool may_evict;
	s64 budget;
	struct drm_exec exec;
	int idx, err;

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;
	err = submit_prepare(&s, data);
	if (err)
		goto out;

	job = dgmm_engine_job_create(&ddev->engine, &dfile->entity, s.num_ops, s.num_objs,
				     file->client_id);
	if (IS_ERR(job)) {
		err = PTR_ERR(job);
		job = NULL;
		goto out;
	}

	/*
	 * TTM reports a victim held by an older ww ticket as -ENOMEM (its
	 * -EDEADLK means: back off): then drop every lock and try again, as
	 * dgmm_bo_lock_validate() does, before believing there is no room.
	 */
	for (tries = 1; ; tries++) {
		drm_exec_init(&exec, DRM_EXEC_INTERRUPTIBLE_WAIT, s.num_objs);
		drm_exec_until_all_locked(&exec) {
			for (i = 0; i < s.num_objs; i++) {
				err = drm_exec_lock_obj(&exec, s.objs[i]);
				drm_exec_retry_on_contention(&exec);
				if (err)
					goto out_exec;
			}
		}
		for (i = 0; i < s.num_objs && !err; i++)
			err = dgmm_bo_validate_for_device(gem_to_dgmm_bo(s.objs[i]), &ctx, &why);
		if (!err)
			break;
		if (why)
			drm_dbg_driver(drm, "submit: BO %u: %s\n", i - 1, why);
		if ((err != -ENOMEM && err != -ENOSPC) || tries == SUBMIT_VALIDATE_TRIES)
			goto out_exec;
		drm_exec_fini(&exec);
	}
	/*
	 * Then the way back to the preferred domains, now that every BO is
	 * where the device reaches it: where there is room, and by evicting
	 * while the budget lasts. A promotion whose eviction fails may have
	 * lost a ww contention (TTM says -ENOMEM for that too): the context
	 * then locks nothing more, so later BOs only take room that is free.
	 */
	budget = dgmm_move_budget_left(&ddev->mm.budget, budget_rate, ktime_get());
	for (i = 0, may_evict = true; i < s.num_objs; i++) {
		err = dgmm_bo_promote(gem_to_dgmm_bo(s.objs[i]), &ctx, budget, may_evict);
		if (err == -ENOMEM || err == -ENOSPC) {
			may_evict = false;
			err = 0;
		}
		if (err)
			goto out_exec;
	}
	/* A move during validation used the slot drm_exec reserved: reserve anew. */
	for (i = 0; i < s.num_objs; i++) {
		err = dma_resv_reserve_fences(s.objs[i]->resv, 1);
		if (err)
			goto out_exec;
	}
	err = submit_fill_job(&s, job);
	if (err)
		goto out_exec;

	/* The job holds its BOs until it is freed. */
	for (i = 0; i < s.num_objs; i++) {
		drm_gem_object_get(s.objs[i]);
		dgmm_engine_job_obj(job, i, s.objs[i]);
	}
	fence = dgmm_engine_job_push(job, &dfile->submit_lock);
	job = NULL;
	if (IS_ERR(fence)) {
		err = PTR_ERR(fence);
		fence = NULL;
		goto out_exec;
	}
	for (i = 0; i < s.num_objs; i++) {
		dma_resv_add_fence(s.objs[i]->resv, fence, s.written[i] ?
				   DMA_RESV_USAGE_WRITE : DMA_RESV_USAGE_READ);
		/* Just used: the last of its priority to be evicted. */
		ttm_bo_move_to_lru_tail_unlocked(&gem_to_dgmm_bo(s.objs[i])->tbo);
	}

out_exec:
	drm_exec_fini(&exec);
	/* Whatever moved, for this job or a failed one, spent budget. */
	dgmm_move_budget_charge(&ddev->mm.budget, budget_rate, ctx.bytes_moved);
	if (fence) {
		for (i = 0; i < s.num_out; i++) {
			if (s.chains[i]) {
				drm_syncobj_add_point(s.out_syncobjs[i], s.chains[i], fence,
						      s.out[i].point);
				s.chains[i] = NULL;
			} else {
				drm_syncobj_replace_fence(s.out_syncobjs[i], fence);
			}
		}
		dma_fence_put(fence);
	}
out:
	if (job)
		dgmm_engine_job_abort(job);
	submit_release(&s);
	drm_dev_exit(idx);
	return err;
}
