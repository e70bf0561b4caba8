/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
#ifndef _DGMM_DRV_H_
#define _DGMM_DRV_H_

#include <linux/list.h>
#include <linux/pci.h>
#include <drm/drm_device.h>

#include "ttm_backend/dgmm_mm.h"
#include "dgmm_engine.h"

#define DGMM_DRIVER_NAME	"dgmm"
#define DGMM_VRAM_BAR		2

struct drm_file;

/**
 * struct dgmm_device - one simulated discrete device (an ivshmem-plain function)
 * @drm: the DRM device, with a render node
 * @mm: its memory manager
 * @engine: its copy engine
 * @vram_bar_start: bus address of the VRAM BAR
 * @vram_bar_size: size of the VRAM BAR, which is the size of VRAM
 * @vram: kernel mapping of all of VRAM, write-combined (the copy engine's view)
 * @link: entry in the driver's list of devices
 */
struct dgmm_device {
	struct drm_device drm;
	struct dgmm_mm mm;
	struct dgmm_engine engine;
	resource_size_t vram_bar_start;
	resource_size_t vram_bar_size;
	void __iomem *vram;
	struct list_head link;
};

/**
 * struct dgmm_file - what dgmm keeps per open file
 * @entity: the scheduler entity the file's jobs go through
 * @submit_lock: serialises arming and pushing jobs on @entity
 */
struct dgmm_file {
	struct drm_sched_entity entity;
	struct mutex submit_lock; /* see kernel-doc */
};

static inline struct dgmm_device *to_dgmm_device(struct drm_device *drm)
{
	return container_of(drm, struct dgmm_device, drm);
}

struct drm_mode_create_dumb;

int dgmm_device_query_ioctl(struct drm_device *drm, void *data,
			    struct drm_file *file);
int dgmm_gem_create_ioctl(struct drm_device *drm, void *data, struct drm_file *file);
int dgmm_gem_mmap_offset_ioctl(struct drm_device *drm, void *data, struct drm_file *file);
int dgmm_gem_info_ioctl(struct drm_device *drm, void *data, struct drm_file *file);
int dgmm_gem_wait_ioctl(struct drm_device *drm, void *data, struct drm_file *file);
int dgmm_gem_migrate_ioctl(struct drm_device *drm, void *data, struct drm_file *file);
int dgmm_dumb_create(struct drm_file *file, struct drm_device *drm,
		     struct drm_mode_create_dumb *args);
int dgmm_submit_ioctl(struct drm_device *drm, void *data, struct drm_file *file);
int dgmm_file_open(struct drm_device *drm, struct drm_file *file);
void dgmm_file_postclose(struct drm_device *drm, struct drm_file *file);
struct drm_printer;
void dgmm_show_fdinfo(struct drm_printer *p, struct drm_file *file);

#if IS_ENABLED(CONFIG_KUNIT)
/* For the KUnit suites, which run against the probed devices. */
struct dgmm_device *dgmm_device_get(unsigned int index);
void dgmm_device_put(struct dgmm_device *ddev);
#endif

#endif
