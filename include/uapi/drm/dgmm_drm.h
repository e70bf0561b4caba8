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

#define DRM_IOCTL_DGMM_DEVICE_QUERY \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_DGMM_DEVICE_QUERY, struct drm_dgmm_device_query)

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

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_DGMM_DRM_H_ */
