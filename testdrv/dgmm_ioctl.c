// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The test driver's ioctls. Every check of user input comes first, fails with
 * -EINVAL and says which condition failed in a drm debug line (drm.debug=0x2).
 */

#include <linux/ktime.h>
#include <linux/overflow.h>
#include <linux/uaccess.h>
#include <drm/drm_drv.h>
#include <drm/drm_gem.h>
#include <drm/drm_vma_manager.h>
#include <drm/drm_print.h>
#include <drm/ttm/ttm_placement.h>

#include <uapi/drm/dgmm_drm.h>

#include "ttm_backend/dgmm_bo.h"
#include "dgmm_drv.h"

/* Reject with -EINVAL and a debug line naming the failed check. */
#define DGMM_IOCTL_CHECK(drm, cond) ({						\
	bool __failed = (cond);							\
	if (__failed)								\
		drm_dbg_driver(drm, "%s: rejected: %s\n", __func__, #cond);	\
	__failed;								\
})

static const struct {
	u32 region;
	u32 mem_type;
} dgmm_regions[] = {
	{ DRM_DGMM_REGION_SYSTEM, TTM_PL_SYSTEM },
	{ DRM_DGMM_REGION_GTT, TTM_PL_TT },
	{ DRM_DGMM_REGION_VRAM, TTM_PL_VRAM },
};

static int dgmm_query_regions(struct dgmm_device *ddev,
			      struct drm_dgmm_device_query *query)
{
	size_t size = struct_size_t(struct drm_dgmm_query_regions, regions,
				    ARRAY_SIZE(dgmm_regions));
	struct drm_dgmm_query_regions *answer;
	void __user *data = u64_to_user_ptr(query->data);
	unsigned int i;
	int err = 0;

	if (query->size == 0) {
		query->size = size;
		return 0;
	}
	if (DGMM_IOCTL_CHECK(&ddev->drm, query->size < size))
		return -EINVAL;

	answer = kzalloc(size, GFP_KERNEL);
	if (!answer)
		return -ENOMEM;

	answer->num_regions = ARRAY_SIZE(dgmm_regions);
	for (i = 0; i < ARRAY_SIZE(dgmm_regions); i++) {
		struct drm_dgmm_region_info *info = &answer->regions[i];
		struct dgmm_region_usage usage;

		dgmm_mm_region_usage(&ddev->mm, dgmm_regions[i].mem_type, &usage);
		info->region = dgmm_regions[i].region;
		info->size = usage.size;
		info->cpu_visible_size = usage.visible_size;
		info->used = usage.used;
		info->cpu_visible_used = usage.visible_used;
	}

	if (copy_to_user(data, answer, size))
		err = -EFAULT;
	else
		query->size = size;
	kfree(answer);
	return err;
}

/**
 * dgmm_device_query_ioctl - DRM_IOCTL_DGMM_DEVICE_QUERY
 * @drm: the DRM device
 * @data: the &struct drm_dgmm_device_query, copied in by the DRM core
 * @file: the caller's file
 *
 * Return: 0 on success, -EINVAL for bad input, -EFAULT for a bad pointer,
 * -ENODEV once the device is unplugged.
 */
int dgmm_device_query_ioctl(struct drm_device *drm, void *data,
			    struct drm_file *file)
{
	struct drm_dgmm_device_query *query = data;
	int idx, err;

	if (DGMM_IOCTL_CHECK(drm, query->flags) ||
	    DGMM_IOCTL_CHECK(drm, query->pad))
		return -EINVAL;

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;

	switch (query->query) {
	case DRM_DGMM_QUERY_REGIONS:
		err = dgmm_query_regions(to_dgmm_device(drm), query);
		break;
	default:
		drm_dbg_driver(drm, "%s: rejected: unknown query %u\n",
			       __func__, query->query);
		err = -EINVAL;
		break;
	}

	drm_dev_exit(idx);
	return err;
}

/* uAPI domain and flag bits are the memory manager's own. */
static_assert(DRM_DGMM_DOMAIN_SYSTEM == DGMM_DOMAIN_SYSTEM);
static_assert(DRM_DGMM_DOMAIN_GTT == DGMM_DOMAIN_GTT);
static_assert(DRM_DGMM_DOMAIN_VRAM == DGMM_DOMAIN_VRAM);
static_assert(DRM_DGMM_GEM_CPU_ACCESS == DGMM_PLACE_CPU_ACCESS);
static_assert(DRM_DGMM_GEM_CONTIGUOUS == DGMM_PLACE_CONTIGUOUS);

/* Creates a BO and a handle for it; the handle holds the only reference. */
static int dgmm_create_handle(struct drm_device *drm, struct drm_file *file,
			      const struct dgmm_placement_request *req, u32 *handle)
{
	const char *why = NULL;
	struct dgmm_bo *bo;
	int err;

	bo = dgmm_bo_create(&to_dgmm_device(drm)->mm, req, &why);
	if (IS_ERR(bo)) {
		if (why)
			drm_dbg_driver(drm, "BO create rejected: %s\n", why);
		return PTR_ERR(bo);
	}
	err = drm_gem_handle_create(file, &bo->tbo.base, handle);
	dgmm_bo_put(bo);
	return err;
}

/**
 * dgmm_gem_create_ioctl - DRM_IOCTL_DGMM_GEM_CREATE
 * @drm: the DRM device
 * @data: the &struct drm_dgmm_gem_create
 * @file: the caller's file
 *
 * Return: 0 or a negative error code (see the uAPI header).
 */
int dgmm_gem_create_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_dgmm_gem_create *args = data;
	struct dgmm_placement_request req;
	int idx, err;

	/* PAGE_ALIGN would wrap a size this close to the top. */
	if (DGMM_IOCTL_CHECK(drm, !args->size) ||
	    DGMM_IOCTL_CHECK(drm, args->size > (U64_MAX & PAGE_MASK)))
		return -EINVAL;

	req = (struct dgmm_placement_request){
		.size = PAGE_ALIGN(args->size),
		.preferred = args->preferred_domains,
		.allowed = args->allowed_domains,
		.flags = args->flags,
	};
	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;
	err = dgmm_create_handle(drm, file, &req, &args->handle);
	drm_dev_exit(idx);
	if (!err)
		args->size = req.size;
	return err;
}

static struct dgmm_bo *lookup_bo(struct drm_device *drm, struct drm_file *file, u32 handle)
{
	struct drm_gem_object *obj = drm_gem_object_lookup(file, handle);

	if (!obj) {
		drm_dbg_driver(drm, "no BO with handle %u\n", handle);
		return NULL;
	}
	return gem_to_dgmm_bo(obj);
}

/**
 * dgmm_gem_mmap_offset_ioctl - DRM_IOCTL_DGMM_GEM_MMAP_OFFSET
 * @drm: the DRM device
 * @data: the &struct drm_dgmm_gem_mmap_offset
 * @file: the caller's file
 *
 * Return: 0, -EINVAL or -ENOENT.
 */
int dgmm_gem_mmap_offset_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_dgmm_gem_mmap_offset *args = data;
	struct dgmm_bo *bo;

	if (DGMM_IOCTL_CHECK(drm, args->flags))
		return -EINVAL;
	bo = lookup_bo(drm, file, args->handle);
	if (!bo)
		return -ENOENT;
	args->offset = drm_vma_node_offset_addr(&bo->tbo.base.vma_node);
	dgmm_bo_put(bo);
	return 0;
}

/**
 * dgmm_gem_info_ioctl - DRM_IOCTL_DGMM_GEM_INFO
 * @drm: the DRM device
 * @data: the &struct drm_dgmm_gem_info
 * @file: the caller's file
 *
 * Return: 0, -EINVAL, -ENOENT or -ERESTARTSYS.
 */
int dgmm_gem_info_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_dgmm_gem_info *args = data;
	struct dgmm_bo_state state;
	struct dgmm_bo *bo;
	int err;

	if (DGMM_IOCTL_CHECK(drm, args->pad))
		return -EINVAL;
	bo = lookup_bo(drm, file, args->handle);
	if (!bo)
		return -ENOENT;

	err = dgmm_bo_state(bo, &state);
	if (!err) {
		args->size = bo->tbo.base.size;
		args->domain = state.domain;
		args->state = (state.cpu_visible ? DRM_DGMM_STATE_CPU_VISIBLE : 0) |
			      (state.contiguous ? DRM_DGMM_STATE_CONTIGUOUS : 0) |
			      (state.swapped ? DRM_DGMM_STATE_SWAPPED : 0);
		args->preferred_domains = bo->req.preferred;
		args->allowed_domains = bo->req.allowed;
		args->flags = bo->req.flags;
		args->pin_count = state.pin_count;
		args->move_count = state.move_count;
	}
	dgmm_bo_put(bo);
	return err;
}

/**
 * dgmm_gem_wait_ioctl - DRM_IOCTL_DGMM_GEM_WAIT
 * @drm: the DRM device
 * @data: the &struct drm_dgmm_gem_wait
 * @file: the caller's file
 *
 * Return: 0 when idle, -ETIME, -EINVAL, -ENOENT or -ERESTARTSYS.
 */
int dgmm_gem_wait_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_dgmm_gem_wait *args = data;
	ktime_t start = ktime_get();
	struct dgmm_bo *bo;
	long err;

	if (DGMM_IOCTL_CHECK(drm, args->flags))
		return -EINVAL;
	bo = lookup_bo(drm, file, args->handle);
	if (!bo)
		return -ENOENT;
	err = dgmm_bo_wait(bo, args->timeout_ns);
	dgmm_bo_put(bo);

	/*
	 * The DRM core copies args back even on error: a call interrupted by
	 * a signal (-ERESTARTSYS) is restarted with what is left of the time.
	 */
	if (args->timeout_ns > 0) {
		s64 left = args->timeout_ns - ktime_to_ns(ktime_sub(ktime_get(), start));

		args->timeout_ns = err == -ETIME ? 0 : max_t(s64, left, 0);
	}
	return err;
}

/**
 * dgmm_gem_migrate_ioctl - DRM_IOCTL_DGMM_GEM_MIGRATE
 * @drm: the DRM device
 * @data: the &struct drm_dgmm_gem_migrate
 * @file: the caller's file
 *
 * Return: 0 or a negative error code (see the uAPI header).
 */
int dgmm_gem_migrate_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_dgmm_gem_migrate *args = data;
	const char *why = NULL;
	struct dgmm_bo *bo;
	int idx, err;

	if (DGMM_IOCTL_CHECK(drm, args->flags) || DGMM_IOCTL_CHECK(drm, args->pad))
		return -EINVAL;
	bo = lookup_bo(drm, file, args->handle);
	if (!bo)
		return -ENOENT;

	err = -ENODEV;
	if (drm_dev_enter(drm, &idx)) {
		err = dgmm_bo_migrate(bo, args->domain, &why);
		drm_dev_exit(idx);
	}
	if (why)
		drm_dbg_driver(drm, "migrate rejected: %s\n", why);
	dgmm_bo_put(bo);
	return err;
}

/**
 * dgmm_dumb_create - drm_driver.dumb_create
 * @file: the caller's file
 * @drm: the DRM device
 * @args: width, height and bpp in (checked non-zero and without overflow by
 *	  the DRM core); pitch, size and handle out
 *
 * A dumb buffer is for scanout-style CPU drawing: CPU-visible VRAM when
 * there is room, else GTT; zero-filled.
 *
 * Return: 0 or a negative error code.
 */
int dgmm_dumb_create(struct drm_file *file, struct drm_device *drm,
		     struct drm_mode_create_dumb *args)
{
	struct dgmm_placement_request req = {
		.preferred = DGMM_DOMAIN_VRAM,
		.allowed = DGMM_DOMAIN_VRAM | DGMM_DOMAIN_GTT,
		.flags = DGMM_PLACE_CPU_ACCESS,
	};
	u64 pitch, size;
	int idx, err;

	if (DGMM_IOCTL_CHECK(drm, args->flags))
		return -EINVAL;
	pitch = (u64)args->width * DIV_ROUND_UP(args->bpp, 8);
	size = PAGE_ALIGN(pitch * args->height);
	if (DGMM_IOCTL_CHECK(drm, !size || pitch > U32_MAX))
		return -EINVAL;

	req.size = size;
	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;
	err = dgmm_create_handle(drm, file, &req, &args->handle);
	drm_dev_exit(idx);
	if (err)
		return err;
	args->pitch = pitch;
	args->size = size;
	return 0;
}
