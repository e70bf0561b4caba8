/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * dgmm's trace events: every BO's life and moves, the eviction decisions
 * and the copy engine's jobs. Enable them all with
 *
 *   echo 1 > /sys/kernel/tracing/events/dgmm/enable
 *
 * (docs/tracing.md shows the fields and trace-cmd). Every event names its
 * device (dev_name() of the PCI device) and, for a BO, dgmm's id of it,
 * which dgmm_bo_create gives and every later event repeats. A move's fence
 * is the one in the BO's reservation object: its context and seqno are the
 * ones the job events print, which ties a move to the job that does it.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM dgmm

#if !defined(_DGMM_TRACE_H_) || defined(TRACE_HEADER_MULTI_READ)
#define _DGMM_TRACE_H_

#include <linux/device.h>
#include <linux/dma-fence.h>
#include <linux/tracepoint.h>
#include <drm/drm_device.h>
#include <drm/ttm/ttm_placement.h>

#include "ttm_backend/dgmm_bo.h"
#include "ttm_backend/dgmm_mm.h"

/*
 * The enums the events print by name: their values go into the events'
 * format files, so that tools outside the kernel (trace-cmd, perf) can
 * print the names too.
 */
TRACE_DEFINE_ENUM(DGMM_MOVE_VALIDATE);
TRACE_DEFINE_ENUM(DGMM_MOVE_EVICT);
TRACE_DEFINE_ENUM(DGMM_MOVE_FAULT);
TRACE_DEFINE_ENUM(DGMM_MOVE_MIGRATE);
TRACE_DEFINE_ENUM(DGMM_MOVE_SWAP);
TRACE_DEFINE_ENUM(DGMM_MOVE_DMABUF);
TRACE_DEFINE_ENUM(DGMM_EVICT_YES);
TRACE_DEFINE_ENUM(DGMM_EVICT_NO_PINNED);
TRACE_DEFINE_ENUM(DGMM_EVICT_NO_RANGE);
TRACE_DEFINE_ENUM(DGMM_PROMOTE_DONE);
TRACE_DEFINE_ENUM(DGMM_PROMOTE_NO_ROOM);
TRACE_DEFINE_ENUM(DGMM_PROMOTE_BUDGET);

/* Placements as the events print them; DGMM_TRACE_SWAP is swap space. */
#define DGMM_TRACE_SWAP		7
#define dgmm_trace_mem_type(t)						\
	__print_symbolic(t, { TTM_PL_SYSTEM, "system" }, { TTM_PL_TT, "gtt" }, \
			 { TTM_PL_VRAM, "vram" }, { DGMM_TRACE_SWAP, "swap" })

#define dgmm_trace_reason(r)						\
	__print_symbolic(r, { DGMM_MOVE_VALIDATE, "validate" },		\
			 { DGMM_MOVE_EVICT, "evict" }, { DGMM_MOVE_FAULT, "fault" }, \
			 { DGMM_MOVE_MIGRATE, "migrate" }, { DGMM_MOVE_SWAP, "swap" }, \
			 { DGMM_MOVE_DMABUF, "dma-buf" })

#define dgmm_trace_verdict(v)						\
	__print_symbolic(v, { DGMM_EVICT_YES, "yes" },			\
			 { DGMM_EVICT_NO_PINNED, "no-pinned" },		\
			 { DGMM_EVICT_NO_RANGE, "no-outside-range" })

#define dgmm_trace_promote(v)						\
	__print_symbolic(v, { DGMM_PROMOTE_DONE, "promoted" },		\
			 { DGMM_PROMOTE_NO_ROOM, "no-room" },		\
			 { DGMM_PROMOTE_BUDGET, "deferred-by-budget" })

#define dgmm_bo_dev(bo)	dev_name((bo)->mm->drm->dev)

TRACE_EVENT(dgmm_bo_create,
	TP_PROTO(struct dgmm_bo *bo),
	TP_ARGS(bo),
	TP_STRUCT__entry(
		__string(dev, dgmm_bo_dev(bo))
		__field(u64, bo)
		__field(u64, size)
		__field(u32, preferred)
		__field(u32, allowed)
		__field(u32, flags)
		__field(bool, kernel)
		__field(u32, priority)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->bo = bo->id;
		__entry->size = bo->tbo.base.size;
		__entry->preferred = bo->req.preferred;
		__entry->allowed = bo->req.allowed;
		__entry->flags = bo->req.flags;
		__entry->kernel = bo->tbo.type == ttm_bo_type_kernel;
		__entry->priority = bo->tbo.priority;
	),
	TP_printk("dev=%s bo=%llu size=%llu preferred=%#x allowed=%#x flags=%#x kernel=%d priority=%u",
		  __get_str(dev), __entry->bo, __entry->size, __entry->preferred,
		  __entry->allowed, __entry->flags, __entry->kernel, __entry->priority)
);

TRACE_EVENT(dgmm_bo_destroy,
	TP_PROTO(struct dgmm_bo *bo),
	TP_ARGS(bo),
	TP_STRUCT__entry(
		__string(dev, dgmm_bo_dev(bo))
		__field(u64, bo)
		__field(u64, size)
		__field(u64, moves)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->bo = bo->id;
		__entry->size = bo->tbo.base.size;
		__entry->moves = bo->move_count;
	),
	TP_printk("dev=%s bo=%llu size=%llu moves=%llu",
		  __get_str(dev), __entry->bo, __entry->size, __entry->moves)
);

TRACE_EVENT(dgmm_bo_move,
	TP_PROTO(struct dgmm_bo *bo, u32 from, u32 to, u32 reason, u64 copied,
		 struct dma_fence *fence),
	TP_ARGS(bo, from, to, reason, copied, fence),
	TP_STRUCT__entry(
		__string(dev, dgmm_bo_dev(bo))
		__field(u64, bo)
		__field(u64, size)
		__field(u32, from)
		__field(u32, to)
		__field(u32, reason)
		__field(u64, copied)
		__field(u64, fence_context)
		__field(u64, fence_seqno)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->bo = bo->id;
		__entry->size = bo->tbo.base.size;
		__entry->from = from;
		__entry->to = to;
		__entry->reason = reason;
		__entry->copied = copied;
		__entry->fence_context = fence ? fence->context : 0;
		__entry->fence_seqno = fence ? fence->seqno : 0;
	),
	TP_printk("dev=%s bo=%llu size=%llu from=%s to=%s reason=%s copied=%llu fence=%llu:%llu",
		  __get_str(dev), __entry->bo, __entry->size,
		  dgmm_trace_mem_type(__entry->from), dgmm_trace_mem_type(__entry->to),
		  dgmm_trace_reason(__entry->reason), __entry->copied,
		  __entry->fence_context, __entry->fence_seqno)
);

TRACE_EVENT(dgmm_evict_valuable,
	TP_PROTO(struct dgmm_bo *bo, const struct ttm_place *place, u32 verdict),
	TP_ARGS(bo, place, verdict),
	TP_STRUCT__entry(
		__string(dev, dgmm_bo_dev(bo))
		__field(u64, bo)
		__field(u64, size)
		__field(u32, mem_type)
		__field(u32, fpfn)
		__field(u32, lpfn)
		__field(u32, verdict)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->bo = bo->id;
		__entry->size = bo->tbo.base.size;
		__entry->mem_type = place->mem_type;
		__entry->fpfn = place->fpfn;
		__entry->lpfn = place->lpfn;
		__entry->verdict = verdict;
	),
	TP_printk("dev=%s bo=%llu size=%llu for=%s pages=%u-%u verdict=%s",
		  __get_str(dev), __entry->bo, __entry->size,
		  dgmm_trace_mem_type(__entry->mem_type), __entry->fpfn, __entry->lpfn,
		  dgmm_trace_verdict(__entry->verdict))
);

TRACE_EVENT(dgmm_evict_flags,
	TP_PROTO(struct dgmm_bo *bo, u32 from, bool in_window,
		 const struct ttm_placement *placement),
	TP_ARGS(bo, from, in_window, placement),
	TP_STRUCT__entry(
		__string(dev, dgmm_bo_dev(bo))
		__field(u64, bo)
		__field(u64, size)
		__field(u32, from)
		__field(bool, in_window)
		__field(u32, first)
		__field(u32, first_fpfn)
		__field(u32, places)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->bo = bo->id;
		__entry->size = bo->tbo.base.size;
		__entry->from = from;
		__entry->in_window = in_window;
		__entry->first = placement->placement[0].mem_type;
		__entry->first_fpfn = placement->placement[0].fpfn;
		__entry->places = placement->num_placement;
	),
	TP_printk("dev=%s bo=%llu size=%llu from=%s in_window=%d first=%s from_page=%u places=%u",
		  __get_str(dev), __entry->bo, __entry->size,
		  dgmm_trace_mem_type(__entry->from), __entry->in_window,
		  dgmm_trace_mem_type(__entry->first), __entry->first_fpfn, __entry->places)
);

TRACE_EVENT(dgmm_bo_promote,
	TP_PROTO(struct dgmm_bo *bo, u32 from, u32 outcome, s64 budget),
	TP_ARGS(bo, from, outcome, budget),
	TP_STRUCT__entry(
		__string(dev, dgmm_bo_dev(bo))
		__field(u64, bo)
		__field(u64, size)
		__field(u32, from)
		__field(u32, outcome)
		__field(s64, budget)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->bo = bo->id;
		__entry->size = bo->tbo.base.size;
		__entry->from = from;
		__entry->outcome = outcome;
		__entry->budget = budget;
	),
	TP_printk("dev=%s bo=%llu size=%llu from=%s outcome=%s budget=%lld",
		  __get_str(dev), __entry->bo, __entry->size,
		  dgmm_trace_mem_type(__entry->from), dgmm_trace_promote(__entry->outcome),
		  __entry->budget)
);

DECLARE_EVENT_CLASS(dgmm_bo_pin_class,
	TP_PROTO(struct dgmm_bo *bo),
	TP_ARGS(bo),
	TP_STRUCT__entry(
		__string(dev, dgmm_bo_dev(bo))
		__field(u64, bo)
		__field(u64, size)
		__field(u32, mem_type)
		__field(u32, pin_count)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->bo = bo->id;
		__entry->size = bo->tbo.base.size;
		__entry->mem_type = bo->tbo.resource ? bo->tbo.resource->mem_type : 0;
		__entry->pin_count = bo->tbo.pin_count;
	),
	TP_printk("dev=%s bo=%llu size=%llu in=%s pin_count=%u",
		  __get_str(dev), __entry->bo, __entry->size,
		  dgmm_trace_mem_type(__entry->mem_type), __entry->pin_count)
);

DEFINE_EVENT(dgmm_bo_pin_class, dgmm_bo_pin,
	TP_PROTO(struct dgmm_bo *bo),
	TP_ARGS(bo)
);

DEFINE_EVENT(dgmm_bo_pin_class, dgmm_bo_unpin,
	TP_PROTO(struct dgmm_bo *bo),
	TP_ARGS(bo)
);

/*
 * The exporter's side of a dma-buf: @importer is the attached device (none
 * for move_notify, which goes to all of them), @p2p whether it reaches VRAM
 * peer-to-peer. The BO is the exporter's.
 */
DECLARE_EVENT_CLASS(dgmm_dmabuf_class,
	TP_PROTO(struct dgmm_bo *bo, struct device *importer, bool p2p),
	TP_ARGS(bo, importer, p2p),
	TP_STRUCT__entry(
		__string(dev, dgmm_bo_dev(bo))
		__string(importer, importer ? dev_name(importer) : "all")
		__field(u64, bo)
		__field(u32, mem_type)
		__field(u32, pin_count)
		__field(bool, p2p)
	),
	TP_fast_assign(
		__assign_str(dev);
		__assign_str(importer);
		__entry->bo = bo->id;
		__entry->mem_type = bo->tbo.resource ? bo->tbo.resource->mem_type : 0;
		__entry->pin_count = bo->tbo.pin_count;
		__entry->p2p = p2p;
	),
	TP_printk("dev=%s bo=%llu importer=%s p2p=%d in=%s pin_count=%u",
		  __get_str(dev), __entry->bo, __get_str(importer), __entry->p2p,
		  dgmm_trace_mem_type(__entry->mem_type), __entry->pin_count)
);

#define DGMM_DMABUF_EVENT(name)						\
DEFINE_EVENT(dgmm_dmabuf_class, name,					\
	TP_PROTO(struct dgmm_bo *bo, struct device *importer, bool p2p),	\
	TP_ARGS(bo, importer, p2p))

DGMM_DMABUF_EVENT(dgmm_dmabuf_attach);
DGMM_DMABUF_EVENT(dgmm_dmabuf_detach);
DGMM_DMABUF_EVENT(dgmm_dmabuf_pin);
DGMM_DMABUF_EVENT(dgmm_dmabuf_unpin);
DGMM_DMABUF_EVENT(dgmm_dmabuf_map);
DGMM_DMABUF_EVENT(dgmm_dmabuf_unmap);
DGMM_DMABUF_EVENT(dgmm_dmabuf_move_notify);

/*
 * The importer's side: @bo is the importing device's BO, @exporter the
 * exporting driver's name. invalidate is the exporter's move_notify
 * arriving; import_unmap and import_map drop and (at the next job) make
 * the mapping the engine uses.
 */
DECLARE_EVENT_CLASS(dgmm_import_class,
	TP_PROTO(struct dgmm_bo *bo, const char *exporter),
	TP_ARGS(bo, exporter),
	TP_STRUCT__entry(
		__string(dev, dgmm_bo_dev(bo))
		__string(exporter, exporter)
		__field(u64, bo)
		__field(u32, mem_type)
	),
	TP_fast_assign(
		__assign_str(dev);
		__assign_str(exporter);
		__entry->bo = bo->id;
		__entry->mem_type = bo->tbo.resource ? bo->tbo.resource->mem_type : 0;
	),
	TP_printk("dev=%s bo=%llu exporter=%s in=%s", __get_str(dev), __entry->bo,
		  __get_str(exporter), dgmm_trace_mem_type(__entry->mem_type))
);

#define DGMM_IMPORT_EVENT(name)						\
DEFINE_EVENT(dgmm_import_class, name,					\
	TP_PROTO(struct dgmm_bo *bo, const char *exporter),		\
	TP_ARGS(bo, exporter))

DGMM_IMPORT_EVENT(dgmm_dmabuf_invalidate);
DGMM_IMPORT_EVENT(dgmm_dmabuf_import_map);
DGMM_IMPORT_EVENT(dgmm_dmabuf_import_unmap);

/* Jobs are named by their scheduler fence, the one BOs and syncobjs get. */
DECLARE_EVENT_CLASS(dgmm_job_class,
	TP_PROTO(struct device *dev, struct dma_fence *fence, bool user, u32 ops, u64 bytes,
		 int error),
	TP_ARGS(dev, fence, user, ops, bytes, error),
	TP_STRUCT__entry(
		__string(dev, dev_name(dev))
		__field(u64, fence_context)
		__field(u64, fence_seqno)
		__field(bool, user)
		__field(u32, ops)
		__field(u64, bytes)
		__field(int, error)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->fence_context = fence->context;
		__entry->fence_seqno = fence->seqno;
		__entry->user = user;
		__entry->ops = ops;
		__entry->bytes = bytes;
		__entry->error = error;
	),
	TP_printk("dev=%s fence=%llu:%llu user=%d ops=%u bytes=%llu error=%d",
		  __get_str(dev), __entry->fence_context, __entry->fence_seqno,
		  __entry->user, __entry->ops, __entry->bytes, __entry->error)
);

DEFINE_EVENT(dgmm_job_class, dgmm_job_queue,
	TP_PROTO(struct device *dev, struct dma_fence *fence, bool user, u32 ops, u64 bytes,
		 int error),
	TP_ARGS(dev, fence, user, ops, bytes, error)
);

DEFINE_EVENT(dgmm_job_class, dgmm_job_run,
	TP_PROTO(struct device *dev, struct dma_fence *fence, bool user, u32 ops, u64 bytes,
		 int error),
	TP_ARGS(dev, fence, user, ops, bytes, error)
);

DEFINE_EVENT(dgmm_job_class, dgmm_job_done,
	TP_PROTO(struct device *dev, struct dma_fence *fence, bool user, u32 ops, u64 bytes,
		 int error),
	TP_ARGS(dev, fence, user, ops, bytes, error)
);

#endif /* _DGMM_TRACE_H_ */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE dgmm_trace
#include <trace/define_trace.h>
