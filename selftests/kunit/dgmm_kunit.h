/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
#ifndef _DGMM_KUNIT_H_
#define _DGMM_KUNIT_H_

#include <kunit/test.h>
#include <drm/ttm/ttm_bo.h>
#include <drm/ttm/ttm_placement.h>

#include "testdrv/dgmm_drv.h"

/**
 * struct dgmm_kunit_alloc - a resource taken straight from a TTM manager
 * @bo: the bare BO it was allocated for (a GEM object with no backing store)
 * @res: the resource, NULL if the allocation failed or was freed
 * @err: what the manager's alloc returned
 */
struct dgmm_kunit_alloc {
	struct ttm_buffer_object bo;
	struct ttm_resource *res;
	int err;
};

const void *dgmm_kunit_device_gen(const void *prev, char *desc);
struct dgmm_device *dgmm_kunit_device(struct kunit *test);
struct dgmm_device *dgmm_kunit_device_get_first(struct kunit *test);
struct dgmm_device *dgmm_kunit_device_get_nth(struct kunit *test, unsigned int n);
struct dgmm_kunit_alloc *dgmm_kunit_alloc(struct kunit *test,
					  struct dgmm_device *ddev, u64 size,
					  const struct ttm_place *place);
void dgmm_kunit_free(struct dgmm_kunit_alloc *a);

struct dma_fence;
struct dma_fence *dgmm_kunit_fence(struct kunit *test);
void dgmm_kunit_fence_put(void *fence);

struct dgmm_bo;
void dgmm_kunit_bo_release(void *bo);
struct dgmm_bo *dgmm_kunit_bo_create(struct kunit *test, struct dgmm_device *ddev,
				     u64 size, u32 preferred, u32 allowed, u32 flags);
unsigned long dgmm_kunit_bo_mmap(struct kunit *test, struct dgmm_bo *bo);
struct dgmm_kunit_lock_holder;
struct dgmm_kunit_lock_holder *dgmm_kunit_hold_lock(struct kunit *test, struct dgmm_bo *bo,
						    unsigned int ms);
void dgmm_kunit_lock_started(struct dgmm_kunit_lock_holder *h);
bool dgmm_kunit_lock_done(struct dgmm_kunit_lock_holder *h);
void dgmm_kunit_bo_lock_idle(struct kunit *test, struct dgmm_bo *bo);
int dgmm_kunit_bo_access_locked(struct dgmm_bo *bo, u64 offset, void *buf, u64 len, bool write);
u32 dgmm_kunit_pattern(u32 seed, u64 word);
u32 dgmm_kunit_bo_domain(struct kunit *test, struct dgmm_bo *bo);
void dgmm_kunit_bo_stamp(struct kunit *test, struct dgmm_bo *bo, u32 seed, bool check);

#endif
