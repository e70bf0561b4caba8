/* SPDX-License-Identifier: MIT */
/*
 * dgmm: a TTM-based memory manager for a discrete device, and its test driver.
 *
 * This is the only uAPI header of the project. It is shared by the kernel
 * module and the userspace tests, and follows
 * Documentation/process/botching-up-ioctls.rst: every structure has explicit
 * padding that must be zero, sizes are 64-bit aligned, flags that the kernel
 * does not know are rejected with -EINVAL.
 */
#ifndef _UAPI_DGMM_DRM_H_
#define _UAPI_DGMM_DRM_H_

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

/**
 * DOC: dgmm uAPI
 *
 * A dgmm device is a render node (``/dev/dri/renderD*``) whose
 * DRM_IOCTL_VERSION name is "dgmm". Its memory is split into regions:
 *
 * - %DRM_DGMM_REGION_SYSTEM: system pages the device cannot reach.
 * - %DRM_DGMM_REGION_GTT: system pages the device reaches through the DMA API,
 *   limited in size by the ``gtt_size_mb`` module parameter.
 * - %DRM_DGMM_REGION_VRAM: device-local memory behind a PCI BAR. Only its
 *   first ``cpu_visible_size`` bytes can be mapped by the CPU.
 */

/* Region identifiers, as reported by DRM_DGMM_QUERY_REGIONS. */
#define DRM_DGMM_REGION_SYSTEM	0
#define DRM_DGMM_REGION_GTT	1
#define DRM_DGMM_REGION_VRAM	2

#define DRM_DGMM_DEVICE_QUERY	0x00
#define DRM_DGMM_GEM_CREATE	0x01
#define DRM_DGMM_GEM_MMAP_OFFSET	0x02
#define DRM_DGMM_GEM_INFO	0x03
#define DRM_DGMM_GEM_WAIT	0x04
#define DRM_DGMM_GEM_MIGRATE	0x05
#define DRM_DGMM_SUBMIT		0x06

#define DRM_IOCTL_DGMM_DEVICE_QUERY \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_DGMM_DEVICE_QUERY, struct drm_dgmm_device_query)
#define DRM_IOCTL_DGMM_GEM_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_DGMM_GEM_CREATE, struct drm_dgmm_gem_create)
#define DRM_IOCTL_DGMM_GEM_MMAP_OFFSET \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_DGMM_GEM_MMAP_OFFSET, struct drm_dgmm_gem_mmap_offset)
#define DRM_IOCTL_DGMM_GEM_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_DGMM_GEM_INFO, struct drm_dgmm_gem_info)
#define DRM_IOCTL_DGMM_GEM_WAIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_DGMM_GEM_WAIT, struct drm_dgmm_gem_wait)
#define DRM_IOCTL_DGMM_GEM_MIGRATE \
	DRM_IOW(DRM_COMMAND_BASE + DRM_DGMM_GEM_MIGRATE, struct drm_dgmm_gem_migrate)
#define DRM_IOCTL_DGMM_SUBMIT \
	DRM_IOW(DRM_COMMAND_BASE + DRM_DGMM_SUBMIT, struct drm_dgmm_submit)

/* Memory domains of a buffer object, for the GEM ioctls (a bit each). */
#define DRM_DGMM_DOMAIN_SYSTEM	(1 << 0)
#define DRM_DGMM_DOMAIN_GTT	(1 << 1)
#define DRM_DGMM_DOMAIN_VRAM	(1 << 2)

/* Flags of &drm_dgmm_gem_create.flags. */
/* The CPU maps the BO: in VRAM, keep it in the CPU-visible window. */
#define DRM_DGMM_GEM_CPU_ACCESS	(1 << 0)
/* In VRAM, the BO is one physically contiguous range. */
#define DRM_DGMM_GEM_CONTIGUOUS	(1 << 1)

/**
 * struct drm_dgmm_region_info - one memory region of a device
 *
 * Returned in &drm_dgmm_query_regions.regions. All sizes are in bytes.
 */
struct drm_dgmm_region_info {
	/** @region: one of DRM_DGMM_REGION_SYSTEM, _GTT or _VRAM. */
	__u32 region;

	/** @pad: always zero. */
	__u32 pad;

	/**
	 * @size: total size of the region. For VRAM the size of the BAR,
	 * for GTT the limit on pages mapped for the device, for SYSTEM the
	 * amount of RAM in the machine.
	 */
	__u64 size;

	/**
	 * @cpu_visible_size: how much of the region the CPU can map. Equal to
	 * @size for SYSTEM and GTT; for VRAM the size of the CPU-visible
	 * window at the start of the region.
	 */
	__u64 cpu_visible_size;

	/** @used: bytes currently allocated in the region. */
	__u64 used;

	/** @cpu_visible_used: bytes allocated within the CPU-visible window. */
	__u64 cpu_visible_used;

	/** @reserved: always zero, for future fields. */
	__u64 reserved[3];
};

/**
 * struct drm_dgmm_query_regions - answer to DRM_DGMM_QUERY_REGIONS
 */
struct drm_dgmm_query_regions {
	/** @num_regions: number of entries in @regions. */
	__u32 num_regions;

	/** @pad: always zero. */
	__u32 pad;

	/** @regions: one entry per region, in the order SYSTEM, GTT, VRAM. */
	struct drm_dgmm_region_info regions[];
};

/* Queries for &drm_dgmm_device_query.query. */
#define DRM_DGMM_QUERY_REGIONS	0

/**
 * struct drm_dgmm_device_query - ask the device for information
 *
 * Used with DRM_IOCTL_DGMM_DEVICE_QUERY. Call it once with @size set to zero
 * and the kernel writes the size the answer needs into @size. Then allocate
 * that many bytes, point @data at them and call it again: the kernel fills
 * them and sets @size to the number of bytes written.
 *
 * Errors:
 *
 * - -EINVAL: @query unknown, @flags or @pad not zero, or @size non-zero but
 *   smaller than the answer.
 * - -EFAULT: @data does not point to @size writable bytes.
 * - -ENODEV: the device has been unplugged.
 */
struct drm_dgmm_device_query {
	/** @query: what to ask, one of DRM_DGMM_QUERY_*. */
	__u32 query;

	/** @flags: must be zero. */
	__u32 flags;

	/**
	 * @size: in: size of the buffer at @data, or zero to ask for the size
	 * needed. Out: the size of the answer.
	 */
	__u32 size;

	/** @pad: must be zero. */
	__u32 pad;

	/** @data: user pointer to the answer's buffer, cast to __u64. */
	__u64 data;
};

/**
 * struct drm_dgmm_gem_create - create a buffer object
 *
 * Used with DRM_IOCTL_DGMM_GEM_CREATE. The BO reads as zero. It lives in
 * one of @allowed_domains, in one of @preferred_domains when there is room;
 * under memory pressure it may be evicted anywhere (and brought back on use).
 *
 * Errors: -EINVAL for a zero or huge @size, no or unknown domains, preferred
 * domains not allowed, unknown @flags, CONTIGUOUS without VRAM allowed;
 * -ENOSPC if no allowed domain of this device can ever hold @size bytes;
 * -ENOMEM if memory runs out now.
 */
struct drm_dgmm_gem_create {
	/** @size: in: bytes wanted; out: bytes allocated (page-aligned). */
	__u64 size;

	/** @preferred_domains: DRM_DGMM_DOMAIN_* bits; 0 means all allowed. */
	__u32 preferred_domains;

	/** @allowed_domains: DRM_DGMM_DOMAIN_* bits, at least one. */
	__u32 allowed_domains;

	/** @flags: DRM_DGMM_GEM_CPU_ACCESS, DRM_DGMM_GEM_CONTIGUOUS. */
	__u32 flags;

	/** @handle: out: the GEM handle. */
	__u32 handle;
};

/**
 * struct drm_dgmm_gem_mmap_offset - where to mmap a BO
 *
 * Used with DRM_IOCTL_DGMM_GEM_MMAP_OFFSET. mmap() the render node at
 * @offset. A mapping of a BO in VRAM is write-combined, one in GTT or
 * SYSTEM cached (the device snoops the CPU's caches);
 * touching one in CPU-invisible VRAM first moves the BO where the CPU can
 * reach it (a BO allowed only in VRAM and bigger than the window cannot be
 * mapped: touching it raises SIGBUS). The mapping stays valid after the
 * handle is closed.
 *
 * Errors: -EINVAL for non-zero @flags or @pad, -ENOENT for a bad handle.
 */
struct drm_dgmm_gem_mmap_offset {
	/** @handle: the BO. */
	__u32 handle;

	/** @flags: must be zero. */
	__u32 flags;

	/** @offset: out: the fake offset to pass to mmap(). */
	__u64 offset;
};

/* Bits of &drm_dgmm_gem_info.state. */
/* The CPU can reach all of the BO where it is now. */
#define DRM_DGMM_STATE_CPU_VISIBLE	(1 << 0)
/* The BO is one contiguous range where it is now. */
#define DRM_DGMM_STATE_CONTIGUOUS	(1 << 1)
/*
 * The BO's pages are swapped out (TTM did it under memory pressure); the next
 * CPU access or move brings them back first.
 */
#define DRM_DGMM_STATE_SWAPPED		(1 << 2)

/**
 * struct drm_dgmm_gem_info - what a BO is and where it is
 *
 * Used with DRM_IOCTL_DGMM_GEM_INFO.
 *
 * Errors: -EINVAL for non-zero @pad, -ENOENT for a bad handle.
 */
struct drm_dgmm_gem_info {
	/** @handle: in: the BO. */
	__u32 handle;

	/** @pad: must be zero. */
	__u32 pad;

	/** @size: out: bytes. */
	__u64 size;

	/** @domain: out: the DRM_DGMM_DOMAIN_* it is in now. */
	__u32 domain;

	/** @state: out: DRM_DGMM_STATE_* bits. */
	__u32 state;

	/** @preferred_domains: out: as created. */
	__u32 preferred_domains;

	/** @allowed_domains: out: as created. */
	__u32 allowed_domains;

	/** @flags: out: the creation flags. */
	__u32 flags;

	/** @pin_count: out: pins held (by dma-buf importers, display). */
	__u32 pin_count;

	/** @move_count: out: placement changes so far, the first one included. */
	__u64 move_count;
};

/**
 * struct drm_dgmm_gem_wait - wait for a BO to be idle
 *
 * Used with DRM_IOCTL_DGMM_GEM_WAIT: waits until every job on the BO (moves,
 * clears, and later users) has finished.
 *
 * Errors: -EINVAL for non-zero @flags; -ENOENT for a bad handle; -ETIME if
 * the BO is still busy after @timeout_ns (at once when it is 0).
 */
struct drm_dgmm_gem_wait {
	/** @handle: the BO. */
	__u32 handle;

	/** @flags: must be zero. */
	__u32 flags;

	/**
	 * @timeout_ns: in: relative timeout; 0 only tests, negative waits
	 * forever. Out, for a positive timeout: the time left of it (0 after
	 * -ETIME), so that a call restarted after a signal waits only for
	 * the rest.
	 */
	__s64 timeout_ns;
};

/**
 * struct drm_dgmm_gem_migrate - move a BO to a domain now
 *
 * Used with DRM_IOCTL_DGMM_GEM_MIGRATE. The move is queued on the device's
 * copy engine and the ioctl returns without waiting for it; mappings and
 * later jobs wait as needed. The BO may move again under memory pressure.
 *
 * Errors: -EINVAL for non-zero @flags or @pad, a @domain that is not exactly
 * one domain or not allowed for the BO; -ENOENT for a bad handle; -ENOSPC if
 * the domain can never hold the BO; -ENOMEM if there is no room in it even
 * after evicting others; -EBUSY if the BO is pinned elsewhere.
 */
struct drm_dgmm_gem_migrate {
	/** @handle: the BO. */
	__u32 handle;

	/** @domain: one DRM_DGMM_DOMAIN_* bit. */
	__u32 domain;

	/** @flags: must be zero. */
	__u32 flags;

	/** @pad: must be zero. */
	__u32 pad;
};

/* Operations of a device job (&drm_dgmm_job_op.op). */
#define DRM_DGMM_OP_COPY	0
#define DRM_DGMM_OP_FILL	1

/**
 * struct drm_dgmm_job_op - one operation of a device job
 *
 * Offsets and sizes are in bytes, multiples of the page size (4096), and
 * each range lies inside its BO. The source and destination of a copy in
 * the same BO may not overlap.
 */
struct drm_dgmm_job_op {
	/** @op: DRM_DGMM_OP_COPY or DRM_DGMM_OP_FILL. */
	__u32 op;

	/** @dst_handle: the BO written. */
	__u32 dst_handle;

	/** @dst_offset: where in it. */
	__u64 dst_offset;

	/** @size: bytes, not zero. */
	__u64 size;

	/** @src_handle: for a copy, the BO read; must be zero for a fill. */
	__u32 src_handle;

	/** @value: for a fill, the byte written (0 to 255); zero for a copy. */
	__u32 value;

	/** @src_offset: for a copy, where in the source; zero for a fill. */
	__u64 src_offset;
};

/**
 * struct drm_dgmm_sync - a DRM syncobj a job waits for or signals
 */
struct drm_dgmm_sync {
	/** @handle: the syncobj. */
	__u32 handle;

	/** @flags: must be zero. */
	__u32 flags;

	/**
	 * @point: for a timeline syncobj, the point; zero for a binary one.
	 */
	__u64 point;
};

/* Most operations and syncobjs in one submit. */
#define DRM_DGMM_SUBMIT_MAX_OPS		64
#define DRM_DGMM_SUBMIT_MAX_SYNCS	16

/**
 * struct drm_dgmm_submit - queue a job on the device's copy engine
 *
 * Used with DRM_IOCTL_DGMM_SUBMIT. The job runs its operations in order
 * once its in-syncs have signalled and, through each BO's reservation
 * object, every earlier user of its BOs is done (implicit sync: a BO the
 * job writes waits for all of them, one it only reads for their writers).
 * Its BOs are moved where the device reaches them first (VRAM or GTT, as
 * each allows); the ioctl returns without waiting for the job, whose fence
 * then replaces the fence of each binary out-sync, is added at its point to
 * each timeline out-sync, and is in each BO's reservation object (as a
 * writer of the BOs it writes, a reader of the others). A job that runs
 * longer than the job timeout is stopped, and its fence signals -ETIMEDOUT.
 *
 * Errors: -EINVAL for non-zero @flags or pad fields, no or too many
 * operations or syncs, an unknown operation, a range that is empty, not
 * page-aligned, outside its BO, or overlapping its copy's source, a BO
 * allowed only in SYSTEM, a binary in-sync with no fence; -ENOENT for a bad
 * BO or syncobj handle; -EFAULT for a bad pointer; -ENOMEM or -ENOSPC when
 * the BOs cannot all be made reachable; -EINTR or -ERESTARTSYS on a signal;
 * -ENODEV once the device is unplugged. A job whose foreign in-sync (a
 * fence of another device or driver) has not signalled within the job
 * timeout does nothing, and its fence signals -ETIMEDOUT.
 */
struct drm_dgmm_submit {
	/** @ops: pointer to an array of &struct drm_dgmm_job_op. */
	__u64 ops;

	/** @in_syncs: pointer to an array of &struct drm_dgmm_sync to wait for. */
	__u64 in_syncs;

	/** @out_syncs: pointer to an array of &struct drm_dgmm_sync to signal. */
	__u64 out_syncs;

	/** @num_ops: operations, 1 to DRM_DGMM_SUBMIT_MAX_OPS. */
	__u32 num_ops;

	/** @num_in_syncs: 0 to DRM_DGMM_SUBMIT_MAX_SYNCS. */
	__u32 num_in_syncs;

	/** @num_out_syncs: 0 to DRM_DGMM_SUBMIT_MAX_SYNCS. */
	__u32 num_out_syncs;

	/** @flags: must be zero. */
	__u32 flags;
};

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_DGMM_DRM_H_ */
