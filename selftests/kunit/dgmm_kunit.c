// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Shared helpers of dgmm's KUnit suites. The suites run at insmod of
 * dgmm_test.ko against the devices dgmm.ko has probed; every test case is
 * parameterised over those devices.
 */

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/dma-fence.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mman.h>
#include <linux/workqueue.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_vma_manager.h>
#include <drm/ttm/ttm_tt.h>

#include "ttm_backend/dgmm_bo.h"
#include "dgmm_kunit.h"

#define DGMM_KUNIT_MAX_DEVICES 8

static const unsigned int device_index[DGMM_KUNIT_MAX_DEVICES] = {
	0, 1, 2, 3, 4, 5, 6, 7
};

/**
 * dgmm_kunit_device_gen - KUnit parameter generator: one value per device
 * @prev: the previous value, NULL on the first call
 * @desc: filled with the device's description
 *
 * Return: a pointer to the device's index, or NULL after the last device.
 */
const void *dgmm_kunit_device_gen(const void *prev, char *desc)
{
	unsigned int i = prev ? *(const unsigned int *)prev + 1 : 0;
	struct dgmm_device *ddev;

	if (i >= DGMM_KUNIT_MAX_DEVICES)
		return NULL;
	ddev = dgmm_device_get(i);
	if (!ddev)
		return NULL;
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "dev%u %s %lluMiB VRAM %lluMiB visible",
		 i, pci_name(to_pci_dev(ddev->drm.dev)),
		 (u64)ddev->vram_bar_size >> 20, ddev->mm.vram.visible_size >> 20);
	dgmm_device_put(ddev);
	return &device_index[i];
}

static void device_release(void *ddev)
{
	dgmm_device_put(ddev);
}

static struct dgmm_device *device_get(struct kunit *test, unsigned int index)
{
	struct dgmm_device *ddev = dgmm_device_get(index);

	KUNIT_ASSERT_NOT_NULL_MSG(test, ddev, "device %u went away", index);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, device_release, ddev));
	return ddev;
}

/**
 * dgmm_kunit_device - the device of the running parameterised test case
 * @test: the test
 *
 * Return: the device, referenced until the test ends.
 */
struct dgmm_device *dgmm_kunit_device(struct kunit *test)
{
	const unsigned int *index = test->param_value;

	KUNIT_ASSERT_NOT_NULL(test, index);
	return device_get(test, *index);
}

/**
 * dgmm_kunit_device_get_nth - the n-th probed device, if there is one
 * @test: the test, which releases the device when it ends
 * @n: 0 for the first device bound, 1 for the second, ...
 *
 * Return: the device, or NULL if fewer are bound (the caller skips).
 */
struct dgmm_device *dgmm_kunit_device_get_nth(struct kunit *test, unsigned int n)
{
	struct dgmm_device *ddev = dgmm_device_get(n);

	if (ddev)
		KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, device_release, ddev));
	return ddev;
}

/**
 * dgmm_kunit_device_get_first - the first probed device, for a test whose
 * parameters are not devices
 * @test: the test, which releases the device when it ends
 *
 * Return: the device (the test fails if there is none).
 */
struct dgmm_device *dgmm_kunit_device_get_first(struct kunit *test)
{
	return device_get(test, 0);
}

static void alloc_release(void *data)
{
	struct dgmm_kunit_alloc *a = data;

	dgmm_kunit_free(a);
	drm_gem_private_object_fini(&a->bo.base);
}

/**
 * dgmm_kunit_alloc - ask a device's manager for a resource
 * @test: the test, which frees the resource when it ends
 * @ddev: the device
 * @size: bytes, a multiple of PAGE_SIZE
 * @place: the place to allocate at (its mem_type picks the manager)
 *
 * Return: the allocation; its @err is the manager's answer and its @res is
 * set when that answer was 0.
 */
struct dgmm_kunit_alloc *dgmm_kunit_alloc(struct kunit *test,
					  struct dgmm_device *ddev, u64 size,
					  const struct ttm_place *place)
{
	struct ttm_resource_manager *man;
	struct dgmm_kunit_alloc *a;

	a = kunit_kzalloc(test, sizeof(*a), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, a);

	drm_gem_private_object_init(&ddev->drm, &a->bo.base, size);
	a->bo.bdev = &ddev->mm.ttm;
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, alloc_release, a));

	man = ttm_manager_type(&ddev->mm.ttm, place->mem_type);
	KUNIT_ASSERT_NOT_NULL(test, man);
	/* TTM allocates and frees under the BO's reservation; so do we. */
	dma_resv_lock(a->bo.base.resv, NULL);
	a->err = man->func->alloc(man, &a->bo, place, &a->res);
	dma_resv_unlock(a->bo.base.resv);
	if (a->err)
		a->res = NULL;
	return a;
}

/**
 * dgmm_kunit_free - give an allocation's resource back early
 * @a: the allocation; nothing happens if it holds no resource
 */
void dgmm_kunit_free(struct dgmm_kunit_alloc *a)
{
	if (!a->res)
		return;
	dma_resv_lock(a->bo.base.resv, NULL);
	ttm_resource_free(&a->bo, &a->res);
	dma_resv_unlock(a->bo.base.resv);
}

struct kunit_fence {
	struct dma_fence base;	/* first: freed by dma_fence_free() */
	spinlock_t lock;	/* the fence's lock */
};

static const char *kunit_fence_name(struct dma_fence *f)
{
	return "dgmm-kunit";
}

static const struct dma_fence_ops kunit_fence_ops = {
	.get_driver_name = kunit_fence_name,
	.get_timeline_name = kunit_fence_name,
};

/**
 * dgmm_kunit_fence_put - the test action that drops a fence
 * @fence: the fence
 */
void dgmm_kunit_fence_put(void *fence)
{
	dma_fence_put(fence);
}

/*
 * A test fence still unsignalled when its test ends (a failed assertion
 * skipped the signal) signals with -ECANCELED: whatever waits for it must
 * not wait for ever.
 */
static void kunit_fence_release(void *fence)
{
	if (!dma_fence_is_signaled(fence)) {
		dma_fence_set_error(fence, -ECANCELED);
		dma_fence_signal(fence);
	}
	dma_fence_put(fence);
}

/**
 * dgmm_kunit_fence - an unsignalled fence that the test signals itself
 * @test: the test, which signals it (if it has not) and drops it when it ends
 *
 * Return: the fence, on a context of its own.
 */
struct dma_fence *dgmm_kunit_fence(struct kunit *test)
{
	struct kunit_fence *f = kzalloc(sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	spin_lock_init(&f->lock);
	dma_fence_init(&f->base, &kunit_fence_ops, &f->lock, dma_fence_context_alloc(1), 1);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, kunit_fence_release, &f->base));
	return &f->base;
}

/**
 * dgmm_kunit_bo_release - the test action that drops a BO of dgmm_kunit_bo_create()
 * @bo: the BO
 *
 * kunit_release_action(test, dgmm_kunit_bo_release, bo) drops it early.
 */
void dgmm_kunit_bo_release(void *bo)
{
	dgmm_bo_put(bo);
}

/**
 * dgmm_kunit_bo_create - create a real BO for the test
 * @test: the test, which drops the BO when it ends
 * @ddev: the device
 * @size: bytes, a multiple of PAGE_SIZE
 * @preferred: DGMM_DOMAIN_* it should be in
 * @allowed: DGMM_DOMAIN_* it may be in
 * @flags: DGMM_PLACE_*
 *
 * Return: the BO (the test fails if it cannot be created).
 */
struct dgmm_bo *dgmm_kunit_bo_create(struct kunit *test, struct dgmm_device *ddev,
				     u64 size, u32 preferred, u32 allowed, u32 flags)
{
	struct dgmm_placement_request req = {
		.size = size, .preferred = preferred, .allowed = allowed, .flags = flags,
	};
	struct dgmm_bo *bo = dgmm_bo_create(&ddev->mm, &req, NULL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, bo);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, dgmm_kunit_bo_release, bo));
	return bo;
}

static void fput_action(void *file)
{
	fput(file);
}

/**
 * dgmm_kunit_bo_mmap - map a BO into the test's address space, as a process would
 * @test: the test; the mapping and the file go when it ends
 * @bo: the BO
 *
 * Opens the device's render node, gives the BO a handle there and mmaps it
 * through kunit_vm_mmap(), so that the test can touch it with
 * copy_{from,to}_user() and go through the BO's fault handler.
 *
 * Return: the user address of the mapping (the test fails if it cannot map).
 */
unsigned long dgmm_kunit_bo_mmap(struct kunit *test, struct dgmm_bo *bo)
{
	struct drm_device *drm = bo->tbo.base.dev;
	unsigned long addr;
	struct file *file;
	char path[32];
	u32 handle;

	KUNIT_ASSERT_NOT_NULL(test, drm->render);
	snprintf(path, sizeof(path), "/dev/dri/renderD%d", drm->render->index);
	file = filp_open(path, O_RDWR, 0);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(file), "open %s: %ld", path, PTR_ERR(file));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, fput_action, file));

	KUNIT_ASSERT_EQ(test, 0, drm_gem_handle_create(file->private_data, &bo->tbo.base,
						       &handle));
	addr = kunit_vm_mmap(test, file, 0, bo->tbo.base.size, PROT_READ | PROT_WRITE,
			     MAP_SHARED, drm_vma_node_offset_addr(&bo->tbo.base.vma_node));
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR_VALUE(addr), "mmap: %ld", (long)addr);
	return addr;
}

/**
 * struct dgmm_kunit_lock_holder - another thread holding a BO's lock
 * @work: the thread
 * @bo: the BO
 * @ms: how long it holds the lock
 * @locked: completed once the lock is held
 * @started: set by the test when its operation on another BO starts
 * @done: set by the test when that operation returns
 * @contended: at unlock time, the operation had started and not returned
 */
struct dgmm_kunit_lock_holder {
	struct work_struct work;
	struct dgmm_bo *bo;
	unsigned int ms;
	struct completion locked;
	bool started;
	bool done;
	bool contended;
};

static void lock_holder_work(struct work_struct *work)
{
	struct dgmm_kunit_lock_holder *h = container_of(work, typeof(*h), work);

	dma_resv_lock(h->bo->tbo.base.resv, NULL);
	complete(&h->locked);
	msleep(h->ms);
	h->contended = READ_ONCE(h->started) && !READ_ONCE(h->done);
	dma_resv_unlock(h->bo->tbo.base.resv);
}

static void lock_holder_flush(void *h)
{
	flush_work(&((struct dgmm_kunit_lock_holder *)h)->work);
}

/**
 * dgmm_kunit_hold_lock - lock a BO from another thread for a while
 * @test: the test, which waits for the thread when it ends
 * @bo: the BO
 * @ms: how long the other thread holds the lock
 *
 * Returns once the BO is locked: for @ms milliseconds it is what another
 * process in the middle of an ioctl or a fault would make it. The test
 * brackets the operation it expects to wait with dgmm_kunit_lock_started()
 * and dgmm_kunit_lock_done().
 *
 * Return: the holder.
 */
struct dgmm_kunit_lock_holder *dgmm_kunit_hold_lock(struct kunit *test, struct dgmm_bo *bo,
						    unsigned int ms)
{
	struct dgmm_kunit_lock_holder *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, h);
	h->bo = bo;
	h->ms = ms;
	init_completion(&h->locked);
	INIT_WORK(&h->work, lock_holder_work);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, lock_holder_flush, h));
	queue_work(system_unbound_wq, &h->work);
	wait_for_completion(&h->locked);
	return h;
}

/**
 * dgmm_kunit_lock_started - the operation that should wait for the lock starts
 * @h: the holder
 */
void dgmm_kunit_lock_started(struct dgmm_kunit_lock_holder *h)
{
	WRITE_ONCE(h->started, true);
}

/**
 * dgmm_kunit_lock_done - that operation has returned
 * @h: the holder
 *
 * Return: whether it was still running when the lock was dropped (so it
 * really waited for it), once the holder is done.
 */
bool dgmm_kunit_lock_done(struct dgmm_kunit_lock_holder *h)
{
	WRITE_ONCE(h->done, true);
	flush_work(&h->work);
	return h->contended;
}

MODULE_DESCRIPTION("KUnit suites for dgmm, run against the probed devices");
MODULE_LICENSE("Dual MIT/GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

/**
 * dgmm_kunit_bo_lock_idle - lock a BO and wait for every job on it
 * @test: the test
 * @bo: the BO; on return it is reserved (ttm_bo_unreserve() it)
 *
 * Nothing may assert while the lock is held: an aborted test case would
 * leave the BO locked for ever. Helpers that run locked return errors.
 */
void dgmm_kunit_bo_lock_idle(struct kunit *test, struct dgmm_bo *bo)
{
	long ret;

	KUNIT_ASSERT_EQ(test, 0, ttm_bo_reserve(&bo->tbo, false, false, NULL));
	ret = dma_resv_wait_timeout(bo->tbo.base.resv, DMA_RESV_USAGE_BOOKKEEP, false, 30 * HZ);
	if (ret <= 0)
		ttm_bo_unreserve(&bo->tbo);
	KUNIT_ASSERT_GT_MSG(test, ret, 0, "BO still busy after 30s");
}

/**
 * dgmm_kunit_bo_access_locked - read or write a locked, idle BO
 * @bo: the BO
 * @offset: bytes into it
 * @buf: what to write, or where to read to
 * @len: bytes
 * @write: write rather than read
 *
 * Reads or writes @len bytes at @offset of a locked, idle BO the way an
 * observer outside the device would: through the BAR for VRAM (visible or
 * not), through the pages otherwise.
 */
int dgmm_kunit_bo_access_locked(struct dgmm_bo *bo, u64 offset, void *buf, u64 len, bool write)
{
	struct ttm_operation_ctx ctx = { };
	struct ttm_buffer_object *tbo = &bo->tbo;
	struct ttm_resource *res = tbo->resource;
	int err;

	dgmm_bo_assert_held(bo);
	if (res->mem_type == TTM_PL_VRAM) {
		struct dgmm_vram_cursor cur;

		if (offset + len > res->size)
			return -ERANGE;
		if (write)
			dgmm_vram_mgr_mark_dirty(res);
		for (dgmm_vram_cursor_first(&cur, &bo->mm->vram, res, offset, len); cur.remaining;
		     dgmm_vram_cursor_next(&cur, cur.size)) {
			if (write)
				memcpy_toio(bo->mm->vram_map + cur.start, buf, cur.size);
			else
				memcpy_fromio(buf, bo->mm->vram_map + cur.start, cur.size);
			buf += cur.size;
		}
		return 0;
	}

	if (!tbo->ttm)
		return -ENODATA;
	err = ttm_tt_populate(tbo->bdev, tbo->ttm, &ctx);
	if (err)
		return err;
	dgmm_mm_pages_access(tbo->ttm->pages, offset, buf, len, write);
	return 0;
}

/**
 * dgmm_kunit_pattern - the test pattern: word @word of seed @seed
 * @seed: the seed
 * @word: the word's index
 *
 * Return: the word.
 */
u32 dgmm_kunit_pattern(u32 seed, u64 word)
{
	return seed ^ (u32)(word * 2654435761u) ^ (u32)(word >> 32);
}

/**
 * dgmm_kunit_bo_domain - the DGMM_DOMAIN_* a BO is in now
 * @test: the test
 * @bo: the BO, not reserved
 *
 * Return: the domain.
 */
u32 dgmm_kunit_bo_domain(struct kunit *test, struct dgmm_bo *bo)
{
	struct dgmm_bo_state st;

	KUNIT_ASSERT_EQ(test, 0, dgmm_bo_state(bo, &st));
	return st.domain;
}

/**
 * dgmm_kunit_bo_stamp - write, or check, one word per page of a BO
 * @test: the test
 * @bo: the BO, not reserved
 * @seed: the pattern's seed
 * @check: check rather than write
 *
 * One word per page is enough to catch a misplaced or lost page.
 */
void dgmm_kunit_bo_stamp(struct kunit *test, struct dgmm_bo *bo, u32 seed, bool check)
{
	u64 off, bad = U64_MAX;
	int err = 0;
	u32 w = 0;

	dgmm_kunit_bo_lock_idle(test, bo);
	for (off = 0; off < bo->tbo.base.size && !err; off += PAGE_SIZE) {
		if (!check)
			w = dgmm_kunit_pattern(seed, off);
		err = dgmm_kunit_bo_access_locked(bo, off, &w, sizeof(w), !check);
		if (!err && check && w != dgmm_kunit_pattern(seed, off)) {
			bad = off;
			break;
		}
	}
	ttm_bo_unreserve(&bo->tbo);
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_ASSERT_EQ_MSG(test, bad, U64_MAX, "page at %llu lost its contents", bad);
}
