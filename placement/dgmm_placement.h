/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
#ifndef _DGMM_PLACEMENT_H_
#define _DGMM_PLACEMENT_H_

#include <linux/bits.h>
#include <linux/types.h>
#include <drm/ttm/ttm_placement.h>

/* Memory domains a BO may live in. */
#define DGMM_DOMAIN_SYSTEM	BIT(0)
#define DGMM_DOMAIN_GTT		BIT(1)
#define DGMM_DOMAIN_VRAM	BIT(2)
#define DGMM_DOMAINS_ALL	(DGMM_DOMAIN_SYSTEM | DGMM_DOMAIN_GTT | DGMM_DOMAIN_VRAM)

/* The CPU maps the BO: in VRAM it must stay inside the CPU-visible window. */
#define DGMM_PLACE_CPU_ACCESS	BIT(0)
/* In VRAM the BO is one physically contiguous range. */
#define DGMM_PLACE_CONTIGUOUS	BIT(1)
#define DGMM_PLACE_FLAGS_ALL	(DGMM_PLACE_CPU_ACCESS | DGMM_PLACE_CONTIGUOUS)

/**
 * struct dgmm_placement_request - where a BO may and should live
 * @size: BO size in bytes, a non-zero multiple of PAGE_SIZE
 * @preferred: DGMM_DOMAIN_* the BO should be in, a subset of @allowed;
 *	       0 means no preference among @allowed
 * @allowed: DGMM_DOMAIN_* the BO may be in, not empty
 * @flags: DGMM_PLACE_*
 */
struct dgmm_placement_request {
	u64 size;
	u32 preferred;
	u32 allowed;
	u32 flags;
};

/**
 * struct dgmm_placement_limits - the sizes of a device's domains
 * @vram_size: bytes of VRAM
 * @vram_visible_size: bytes of the CPU-visible window at the start of VRAM
 * @gtt_size: the most bytes that may be in GTT
 * @system_size: the most bytes a BO may have in system memory (the RAM)
 */
struct dgmm_placement_limits {
	u64 vram_size;
	u64 vram_visible_size;
	u64 gtt_size;
	u64 system_size;
};

#define DGMM_MAX_PLACES 3

/**
 * struct dgmm_placement - a ttm_placement with room for its places
 * @placement: what ttm_bo_validate() takes; points into @places
 * @places: at most one place per domain
 */
struct dgmm_placement {
	struct ttm_placement placement;
	struct ttm_place places[DGMM_MAX_PLACES];
};

#if IS_ENABLED(CONFIG_KUNIT)
/* Static without KUnit (VISIBLE_IF_KUNIT): the tests' view of the checks. */
int dgmm_placement_check(const struct dgmm_placement_request *req,
			 const struct dgmm_placement_limits *lim,
			 const char **why);
#endif
int dgmm_placement_from_request(struct dgmm_placement *p,
				const struct dgmm_placement_request *req,
				const struct dgmm_placement_limits *lim,
				const char **why);
int dgmm_placement_for_domain(struct dgmm_placement *p,
			      const struct dgmm_placement_request *req,
			      const struct dgmm_placement_limits *lim,
			      u32 domain, const char **why);
int dgmm_placement_for_device(struct dgmm_placement *p,
			      const struct dgmm_placement_request *req,
			      const struct dgmm_placement_limits *lim, const char **why);
unsigned int dgmm_placement_for_device_preferred(struct dgmm_placement *p,
						 const struct dgmm_placement_request *req,
						 const struct dgmm_placement_limits *lim);
void dgmm_placement_evict(struct dgmm_placement *p, const struct dgmm_placement_request *req,
			  const struct dgmm_placement_limits *lim, u32 mem_type, bool in_window);
u32 dgmm_placement_domain_of(u32 mem_type);

#endif
