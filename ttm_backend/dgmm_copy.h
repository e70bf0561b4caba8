/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * What the memory manager needs from a device's DMA engine: copy a BO's
 * backing store from one place to another, and fill it, asynchronously,
 * after the fences of the BO's reservation object, returning a fence.
 *
 * The test driver implements it with a simulated engine (testdrv/dgmm_engine.c);
 * a real driver would build command buffers here.
 */
#ifndef _DGMM_COPY_H_
#define _DGMM_COPY_H_

#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/types.h>

struct dma_fence;
struct dma_resv;

/**
 * enum dgmm_mem_kind - how the engine reaches a backing store
 * @DGMM_MEM_VRAM: byte ranges of the device's own VRAM, by offset
 * @DGMM_MEM_DMA: memory outside the device, one bus (DMA) address per page,
 *		  as the DMA API gave them for the device: GTT pages, or an
 *		  imported dma-buf's pages or a peer's VRAM. The device
 *		  translates them as its IOMMU would; a page never reaches it
 *		  as a struct page.
 */
enum dgmm_mem_kind {
	DGMM_MEM_VRAM,
	DGMM_MEM_DMA,
};

/**
 * struct dgmm_mem_range - a range of VRAM
 * @offset: byte offset from the start of VRAM
 * @size: bytes
 */
struct dgmm_mem_range {
	u64 offset;
	u64 size;
};

/**
 * struct dgmm_mem - a backing store as the engine sees it
 * @kind: VRAM ranges or DMA addresses
 * @count: number of @ranges or @addrs
 * @ranges: for VRAM, a snapshot of the resource's blocks. The engine owns it
 *	    once the job is submitted: VRAM resources may be freed before the
 *	    job runs (pipelined eviction), the ranges may not.
 * @addrs: for DMA, page-aligned bus addresses, one per page: the ttm_tt's
 *	   dma_address array, borrowed. TTM keeps the tt of a move, and its
 *	   DMA mappings, alive until the move's fence signals; an importer
 *	   keeps its attachment's mapping until the fences of the jobs using it
 *	   signal.
 */
struct dgmm_mem {
	enum dgmm_mem_kind kind;
	unsigned int count;
	union {
		struct dgmm_mem_range *ranges;
		const dma_addr_t *addrs;
	};
};

/**
 * dgmm_mem_release - free what a struct dgmm_mem owns (its VRAM ranges)
 * @mem: the backing store description; its page array is borrowed, not owned
 */
static inline void dgmm_mem_release(struct dgmm_mem *mem)
{
	if (mem->kind == DGMM_MEM_VRAM)
		kvfree(mem->ranges);
	mem->ranges = NULL;
}

struct dgmm_copy_engine;

/**
 * struct dgmm_copy_engine_funcs - operations of a DMA engine
 * @owns_fence: is @fence one of this engine's jobs (not a container)?
 * @copy: copy @size bytes from @src to @dst once every fence of @deps (with
 *	  any usage) has signalled. Takes ownership of the ranges of both.
 * @fill: set @size bytes of @dst to @value, likewise.
 *
 * Both are called with @deps locked and return the job's fence, or an
 * ERR_PTR if the job could not be created (the ranges are freed then too).
 * A dependency that failed does not stop the job: moves and clears must not
 * inherit the error of a fence a user put in the BO. If the device is gone
 * the fence signals -ENODEV, and system pages the job was to write are
 * zeroed rather than left as they were.
 */
struct dgmm_copy_engine_funcs {
	bool (*owns_fence)(struct dgmm_copy_engine *engine, struct dma_fence *fence);
	struct dma_fence *(*copy)(struct dgmm_copy_engine *engine,
				  struct dgmm_mem *src, struct dgmm_mem *dst,
				  u64 size, struct dma_resv *deps);
	struct dma_fence *(*fill)(struct dgmm_copy_engine *engine,
				  struct dgmm_mem *dst, u64 size, u8 value,
				  struct dma_resv *deps);
};

/**
 * struct dgmm_copy_engine - a DMA engine, embedded in the driver's own
 * @funcs: its operations
 */
struct dgmm_copy_engine {
	const struct dgmm_copy_engine_funcs *funcs;
};

#endif
