// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * KUnit suite for dma-buf sharing, live on the probed devices, as xe's
 * tests/xe_dma_buf.c: device 0 exports, device 1 attaches. The matrix is
 * {dynamic importer that asks for peer-to-peer, dynamic that does not,
 * static} x {BO in VRAM, GTT, SYSTEM}; whether peer-to-peer is allowed is
 * the platform's (pci_p2pdma_distance()), so each platform runs its own
 * cells. For each cell: where the BO is after attach and after map, its
 * pin count, whether the importer is told of a move, and that device 1's
 * engine reads the BO's bytes through the mapping it was given. Also: the
 * pin cap, and a static importer's pin released at detach.
 */

#include <kunit/test.h>
#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <drm/drm_prime.h>

#include "dmabuf/dgmm_dmabuf.h"
#include "ttm_backend/dgmm_bo.h"
#include "dgmm_kunit.h"

MODULE_IMPORT_NS(DMA_BUF);

#define V DGMM_DOMAIN_VRAM
#define G DGMM_DOMAIN_GTT
#define S DGMM_DOMAIN_SYSTEM
#define BO_SIZE SZ_1M

enum importer_kind { DYNAMIC_P2P, DYNAMIC, STATIC };

struct share_case {
	const char *name;
	enum importer_kind importer;
	u32 domain;	/* where the BO is when the importer attaches */
};

static const struct share_case share_cases[] = {
	{ "dynamic, asks p2p, BO in VRAM", DYNAMIC_P2P, V },
	{ "dynamic, asks p2p, BO in GTT", DYNAMIC_P2P, G },
	{ "dynamic, asks p2p, BO in SYSTEM", DYNAMIC_P2P, S },
	{ "dynamic, no p2p, BO in VRAM", DYNAMIC, V },
	{ "dynamic, no p2p, BO in GTT", DYNAMIC, G },
	{ "dynamic, no p2p, BO in SYSTEM", DYNAMIC, S },
	{ "static, BO in VRAM", STATIC, V },
	{ "static, BO in GTT", STATIC, G },
	{ "static, BO in SYSTEM", STATIC, S },
};

static void share_case_desc(const struct share_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(share, share_cases, share_case_desc);

/* What the test importer saw. */
struct importer {
	atomic_t notified;
};

static void importer_move_notify(struct dma_buf_attachment *attach)
{
	struct importer *imp = attach->importer_priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	atomic_inc(&imp->notified);
}

static const struct dma_buf_attach_ops p2p_ops = {
	.allow_peer2peer = true,
	.move_notify = importer_move_notify,
};

static const struct dma_buf_attach_ops no_p2p_ops = {
	.allow_peer2peer = false,
	.move_notify = importer_move_notify,
};

static void dma_buf_put_action(void *dmabuf)
{
	dma_buf_put(dmabuf);
}

static void detach_action(void *attach)
{
	struct dma_buf_attachment *a = attach;

	dma_buf_detach(a->dmabuf, a);
}

/* Device 0's BO with a pattern, in @domain, exported. */
static struct dma_buf *exported_bo(struct kunit *test, struct dgmm_device *exporter,
				   u32 domain, struct dgmm_bo **out)
{
	struct dgmm_bo *bo;
	struct dma_buf *dmabuf;

	/* CPU access: in VRAM it is in the window, where a peer reaches it. */
	bo = dgmm_kunit_bo_create(test, exporter, BO_SIZE, domain, V | G | S,
				  DGMM_PLACE_CPU_ACCESS);
	KUNIT_ASSERT_EQ(test, 0, dgmm_bo_migrate(bo, domain, NULL));
	dgmm_kunit_bo_stamp(test, bo, 0x5ca1ab1e, false);
	KUNIT_ASSERT_EQ(test, dgmm_kunit_bo_domain(test, bo), domain);
	dmabuf = dgmm_dmabuf_export(&bo->tbo.base, O_RDWR);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dmabuf);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, dma_buf_put_action, dmabuf));
	*out = bo;
	return dmabuf;
}

static u32 pin_count(struct dgmm_bo *bo)
{
	u32 n;

	dma_resv_lock(bo->tbo.base.resv, NULL);
	n = bo->tbo.pin_count;
	dma_resv_unlock(bo->tbo.base.resv);
	return n;
}

/*
 * Device 1's engine copies the BO, through the DMA addresses of @sgt, into
 * a VRAM BO of its own; the copy must hold the exporter's pattern.
 */
static void importer_engine_reads(struct kunit *test, struct dgmm_device *importer,
				  struct dma_buf *dmabuf, struct sg_table *sgt)
{
	struct dgmm_copy_engine *engine = importer->mm.engine;
	struct dgmm_bo *dst = dgmm_kunit_bo_create(test, importer, BO_SIZE, V, V, 0);
	dma_addr_t *addrs = kunit_kcalloc(test, BO_SIZE >> PAGE_SHIFT, sizeof(*addrs),
					  GFP_KERNEL);
	struct dgmm_mem src = { .kind = DGMM_MEM_DMA, .count = BO_SIZE >> PAGE_SHIFT };
	struct dma_fence *fence;
	struct dgmm_mem dmem;
	int err;

	KUNIT_ASSERT_NOT_NULL(test, addrs);
	KUNIT_ASSERT_EQ(test, 0, drm_prime_sg_to_dma_addr_array(sgt, addrs, src.count));
	/* As a dynamic importer must: the exporter's move into place first. */
	KUNIT_ASSERT_GT(test, dma_resv_wait_timeout(dmabuf->resv, DMA_RESV_USAGE_KERNEL, false,
						    10 * HZ), 0);
	src.addrs = addrs;
	KUNIT_ASSERT_EQ(test, 0, dgmm_bo_wait(dst, -1));
	KUNIT_ASSERT_EQ(test, 0, dma_resv_lock(dst->tbo.base.resv, NULL));
	err = dgmm_bo_mem_range(dst, 0, BO_SIZE, true, &dmem);
	fence = ERR_PTR(err);
	if (!err)
		fence = engine->funcs->copy(engine, &src, &dmem, BO_SIZE, dst->tbo.base.resv);
	dma_resv_unlock(dst->tbo.base.resv);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, fence);
	KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(fence, false, 10 * HZ), 0);
	KUNIT_EXPECT_EQ(test, fence->error, 0);
	dma_fence_put(fence);
	dgmm_kunit_bo_stamp(test, dst, 0x5ca1ab1e, true);
}

/* One cell of the matrix. */
static void share_matrix(struct kunit *test)
{
	const struct share_case *c = test->param_value;
	struct dgmm_device *exporter = dgmm_kunit_device_get_nth(test, 0);
	struct dgmm_device *importer = dgmm_kunit_device_get_nth(test, 1);
	struct importer *imp = kunit_kzalloc(test, sizeof(*imp), GFP_KERNEL);
	struct dma_buf_attachment *attach;
	struct dgmm_bo *bo;
	struct dma_buf *dmabuf;
	struct sg_table *sgt;
	bool p2p;
	u32 mapped_in;

	if (!exporter || !importer)
		kunit_skip(test, "sharing needs two dgmm devices");
	KUNIT_ASSERT_NOT_NULL(test, imp);
	p2p = c->importer == DYNAMIC_P2P &&
	      pci_p2pdma_distance(to_pci_dev(exporter->drm.dev), importer->drm.dev, false) >= 0;
	kunit_info(test, "peer-to-peer %s on this platform",
		   pci_p2pdma_distance(to_pci_dev(exporter->drm.dev), importer->drm.dev,
				       false) >= 0 ? "allowed" : "refused");
	/* Behind an IOMMU each device has its own domain: a wrong mapping faults. */
	if (exporter->engine.iommu || importer->engine.iommu)
		KUNIT_EXPECT_PTR_NE(test, exporter->engine.iommu, importer->engine.iommu);
	dmabuf = exported_bo(test, exporter, c->domain, &bo);

	if (c->importer == STATIC)
		attach = dma_buf_attach(dmabuf, importer->drm.dev);
	else
		attach = dma_buf_dynamic_attach(dmabuf, importer->drm.dev,
						c->importer == DYNAMIC_P2P ? &p2p_ops : &no_p2p_ops,
						imp);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, detach_action, attach));
	KUNIT_EXPECT_EQ(test, attach->peer2peer, p2p);

	/* A static importer is pinned at attach, in GTT; a dynamic one is not. */
	if (c->importer == STATIC) {
		KUNIT_EXPECT_EQ(test, pin_count(bo), 1);
		KUNIT_EXPECT_EQ(test, dgmm_kunit_bo_domain(test, bo), G);
	} else {
		KUNIT_EXPECT_EQ(test, pin_count(bo), 0);
		KUNIT_EXPECT_EQ(test, dgmm_kunit_bo_domain(test, bo), c->domain);
	}

	/* Mapped where this importer reaches it: VRAM for a peer, else GTT. */
	KUNIT_ASSERT_EQ(test, 0, dma_resv_lock(dmabuf->resv, NULL));
	sgt = dma_buf_map_attachment(attach, DMA_BIDIRECTIONAL);
	dma_resv_unlock(dmabuf->resv);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	mapped_in = p2p && c->domain == V ? V : G;
	KUNIT_EXPECT_EQ(test, dgmm_kunit_bo_domain(test, bo), mapped_in);
	KUNIT_EXPECT_EQ(test, pin_count(bo), c->importer == STATIC ? 1 : 0);
	importer_engine_reads(test, importer, dmabuf, sgt);

	/*
	 * A move: a dynamic importer is told (once per move), a static
	 * importer's BO cannot move.
	 */
	if (c->importer == STATIC) {
		KUNIT_EXPECT_EQ(test, dgmm_bo_migrate(bo, V, NULL), -EBUSY);
		KUNIT_EXPECT_EQ(test, dgmm_kunit_bo_domain(test, bo), G);
	} else {
		/* The map itself may have moved it, and said so: count from here. */
		int notified = atomic_read(&imp->notified);

		KUNIT_EXPECT_EQ(test, dgmm_bo_migrate(bo, mapped_in == V ? G : V, NULL), 0);
		KUNIT_EXPECT_EQ(test, atomic_read(&imp->notified), notified + 1);
	}
	KUNIT_ASSERT_EQ(test, 0, dma_resv_lock(dmabuf->resv, NULL));
	dma_buf_unmap_attachment(attach, sgt, DMA_BIDIRECTIONAL);
	dma_resv_unlock(dmabuf->resv);
	dgmm_kunit_bo_stamp(test, bo, 0x5ca1ab1e, true);

	/* After detach nothing holds it: it moves again. */
	kunit_release_action(test, detach_action, attach);
	KUNIT_EXPECT_EQ(test, pin_count(bo), 0);
	KUNIT_EXPECT_EQ(test, dgmm_bo_migrate(bo, S, NULL), 0);
	KUNIT_EXPECT_EQ(test, dgmm_bo_migrate(bo, V, NULL), 0);
	dgmm_kunit_bo_stamp(test, bo, 0x5ca1ab1e, true);
}

static void restore_pin_percent(void *old)
{
	dgmm_dmabuf_swap_pin_percent((unsigned long)old);
}

/*
 * Pins are capped per region: with the cap below the BO's size a static
 * importer cannot attach (-ENOSPC), nothing stays pinned, and the BO's
 * contents and place are untouched; with room again it attaches.
 */
static void share_pin_cap(struct kunit *test)
{
	struct dgmm_device *exporter = dgmm_kunit_device_get_nth(test, 0);
	struct dgmm_device *importer = dgmm_kunit_device_get_nth(test, 1);
	struct dma_buf_attachment *attach;
	struct dgmm_bo *bo;
	struct dma_buf *dmabuf;
	unsigned long old;

	if (!exporter || !importer)
		kunit_skip(test, "sharing needs two dgmm devices");
	dmabuf = exported_bo(test, exporter, G, &bo);
	old = dgmm_dmabuf_swap_pin_percent(0);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, restore_pin_percent,
							   (void *)old));

	attach = dma_buf_attach(dmabuf, importer->drm.dev);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(attach), -ENOSPC);
	if (!IS_ERR(attach))
		dma_buf_detach(dmabuf, attach);
	KUNIT_EXPECT_EQ(test, pin_count(bo), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&exporter->mm.stats.dmabuf_pinned[TTM_PL_TT]), 0);
	dgmm_kunit_bo_stamp(test, bo, 0x5ca1ab1e, true);

	dgmm_dmabuf_swap_pin_percent(100);
	attach = dma_buf_attach(dmabuf, importer->drm.dev);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	KUNIT_EXPECT_EQ(test, pin_count(bo), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&exporter->mm.stats.dmabuf_pinned[TTM_PL_TT]),
			(s64)BO_SIZE);
	dma_buf_detach(dmabuf, attach);
	KUNIT_EXPECT_EQ(test, pin_count(bo), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&exporter->mm.stats.dmabuf_pinned[TTM_PL_TT]), 0);
}

static struct kunit_case dgmm_dmabuf_cases[] = {
	KUNIT_CASE_PARAM(share_matrix, share_gen_params),
	KUNIT_CASE(share_pin_cap),
	{}
};

static struct kunit_suite dgmm_dmabuf_suite = {
	.name = "dgmm_dmabuf",
	.test_cases = dgmm_dmabuf_cases,
};

kunit_test_suite(dgmm_dmabuf_suite);
