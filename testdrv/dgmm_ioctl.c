// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The test driver's ioctls. Every check of user input comes first, fails with
 * -EINVAL and says which condition failed in a drm debug line (drm.debug=0x2).
 */

#include <linux/overflow.h>
#include <linux/uaccess.h>
#include <drm/drm_drv.h>
#include <drm/drm_print.h>
#include <drm/ttm/ttm_placement.h>

#include <uapi/drm/dgmm_drm.h>

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
