/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
#ifndef _DGMM_DMABUF_H_
#define _DGMM_DMABUF_H_

#include <linux/types.h>

struct dgmm_bo;
struct dgmm_mm;
struct dma_buf;
struct drm_gem_object;
struct ttm_operation_ctx;

/* Exporter. */
struct dma_buf *dgmm_dmabuf_export(struct drm_gem_object *obj, int flags);
void dgmm_dmabuf_move_notify(struct dgmm_bo *bo);

#if IS_ENABLED(CONFIG_KUNIT)
unsigned int dgmm_dmabuf_swap_pin_percent(unsigned int percent);
#endif

/* Importer. */
struct drm_gem_object *dgmm_dmabuf_import(struct dgmm_mm *mm, struct dma_buf *dmabuf);
int dgmm_dmabuf_import_map(struct dgmm_bo *bo);
int dgmm_dmabuf_import_unmap(struct dgmm_bo *bo, struct ttm_operation_ctx *ctx);
void dgmm_dmabuf_import_release(struct dgmm_bo *bo);
void dgmm_dmabuf_import_free(struct dgmm_bo *bo);
void dgmm_dmabuf_import_detach(struct dgmm_bo *bo);

#endif
