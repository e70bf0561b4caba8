// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Placement: turn "where may and should this BO live" into a ttm_placement.
 *
 * Pure functions of a request and the device's domain sizes: no locks, no
 * device, no allocation; unit-tested by selftests/kunit/dgmm_placement_test.c.
 *
 * The placement lists the preferred domains first, then the other allowed
 * ones, each group in the order VRAM, GTT, SYSTEM:
 *
 * - Preferred places carry no flag: TTM tries them in both of
 *   ttm_bo_validate()'s passes, first without evicting, then evicting.
 * - The other allowed places carry TTM_PL_FLAG_FALLBACK: TTM uses them only
 *   in the evicting pass, after the preferred ones failed.
 * - A domain that can never hold the BO (it is bigger than the domain, or than
 *   the CPU-visible window when the CPU needs access, or than the machine's
 *   RAM for SYSTEM) is left out, so that TTM
 *   never evicts in vain for it. If no preferred place is left, the others
 *   lose their FALLBACK flag.
 * - A VRAM place for a BO the CPU maps is limited to the visible window (lpfn);
 *   one for a BO the CPU does not map is allocated top-down, keeping the
 *   window free for those that need it.
 */

#include <linux/mm.h>
#include <kunit/visibility.h>
#include <drm/ttm/ttm_placement.h>

#include "dgmm_placement.h"

static const struct {
	u32 domain;
	u32 mem_type;
} domain_order[] = {
	{ DGMM_DOMAIN_VRAM, TTM_PL_VRAM },
	{ DGMM_DOMAIN_GTT, TTM_PL_TT },
	{ DGMM_DOMAIN_SYSTEM, TTM_PL_SYSTEM },
};

static int reject(const char **why, const char *what, int err)
{
	if (why)
		*why = what;
	return err;
}

/* Can @domain ever hold the BO, whatever else is allocated? */
static bool domain_fits(u32 domain, const struct dgmm_placement_request *req,
			const struct dgmm_placement_limits *lim)
{
	switch (domain) {
	case DGMM_DOMAIN_VRAM:
		if (req->flags & DGMM_PLACE_CPU_ACCESS)
			return req->size <= lim->vram_visible_size;
		return req->size <= lim->vram_size;
	case DGMM_DOMAIN_GTT:
		return req->size <= lim->gtt_size;
	default:
		return req->size <= lim->system_size;
	}
}

static void init_place(struct ttm_place *place, u32 mem_type, u32 ttm_flags,
		       const struct dgmm_placement_request *req,
		       const struct dgmm_placement_limits *lim)
{
	*place = (struct ttm_place){ .mem_type = mem_type, .flags = ttm_flags };
	if (mem_type != TTM_PL_VRAM)
		return;

	if (req->flags & DGMM_PLACE_CONTIGUOUS)
		place->flags |= TTM_PL_FLAG_CONTIGUOUS;
	if (lim->vram_visible_size < lim->vram_size) {
		if (req->flags & DGMM_PLACE_CPU_ACCESS)
			place->lpfn = lim->vram_visible_size >> PAGE_SHIFT;
		else
			place->flags |= TTM_PL_FLAG_TOPDOWN;
	}
}

/* Appends a place for each domain of @mask that can hold the BO. */
static unsigned int add_places(struct dgmm_placement *p, unsigned int n,
			       u32 mask, u32 ttm_flags,
			       const struct dgmm_placement_request *req,
			       const struct dgmm_placement_limits *lim)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(domain_order); i++) {
		if (!(mask & domain_order[i].domain) ||
		    !domain_fits(domain_order[i].domain, req, lim))
			continue;
		init_place(&p->places[n++], domain_order[i].mem_type, ttm_flags,
			   req, lim);
	}
	return n;
}

static void set_places(struct dgmm_placement *p, unsigned int n)
{
	p->placement.num_placement = n;
	p->placement.placement = p->places;
}

/**
 * dgmm_placement_check - is a placement request valid, and can it be met?
 * @req: the request
 * @lim: the device's domain sizes
 * @why: set to the failed condition on error (may be NULL)
 *
 * Return: 0; -EINVAL for a malformed or contradictory request: size zero or
 * not page-aligned, no or unknown allowed domains, preferred domains outside
 * the allowed ones, unknown flags, contiguous without VRAM; -ENOSPC for a
 * valid request too big for every allowed domain of this device.
 */
VISIBLE_IF_KUNIT int dgmm_placement_check(const struct dgmm_placement_request *req,
					  const struct dgmm_placement_limits *lim,
					  const char **why)
{
	unsigned int i;

	if (!req->size || !PAGE_ALIGNED(req->size))
		return reject(why, "size is zero or not page-aligned", -EINVAL);
	if (!req->allowed || (req->allowed & ~DGMM_DOMAINS_ALL))
		return reject(why, "allowed domains empty or unknown", -EINVAL);
	if (req->preferred & ~req->allowed)
		return reject(why, "preferred domains not all allowed", -EINVAL);
	if (req->flags & ~DGMM_PLACE_FLAGS_ALL)
		return reject(why, "unknown placement flags", -EINVAL);
	if ((req->flags & DGMM_PLACE_CONTIGUOUS) && !(req->allowed & DGMM_DOMAIN_VRAM))
		return reject(why, "contiguous without VRAM allowed", -EINVAL);

	for (i = 0; i < ARRAY_SIZE(domain_order); i++)
		if ((req->allowed & domain_order[i].domain) &&
		    domain_fits(domain_order[i].domain, req, lim))
			return 0;
	return reject(why, "bigger than every allowed domain", -ENOSPC);
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_placement_check);

/**
 * dgmm_placement_from_request - the placement for a BO's request
 * @p: filled in
 * @req: the request
 * @lim: the device's domain sizes
 * @why: set to the failed condition on error (may be NULL)
 *
 * Return: 0, or the error of dgmm_placement_check().
 */
int dgmm_placement_from_request(struct dgmm_placement *p,
				const struct dgmm_placement_request *req,
				const struct dgmm_placement_limits *lim,
				const char **why)
{
	u32 preferred = req->preferred ?: req->allowed;
	unsigned int n;
	int err;

	err = dgmm_placement_check(req, lim, why);
	if (err)
		return err;

	n = add_places(p, 0, preferred, 0, req, lim);
	n = add_places(p, n, req->allowed & ~preferred,
		       n ? TTM_PL_FLAG_FALLBACK : 0, req, lim);
	set_places(p, n);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_placement_from_request);

/**
 * dgmm_placement_for_domain - the placement that moves a BO to one domain
 * @p: filled in
 * @req: the BO's request
 * @lim: the device's domain sizes
 * @domain: one DGMM_DOMAIN_*, which the request must allow
 * @why: set to the failed condition on error (may be NULL)
 *
 * Return: 0; -EINVAL if @domain is not exactly one known domain or not
 * allowed for the BO; -ENOSPC if the domain can never hold it.
 */
int dgmm_placement_for_domain(struct dgmm_placement *p,
			      const struct dgmm_placement_request *req,
			      const struct dgmm_placement_limits *lim,
			      u32 domain, const char **why)
{
	if (!domain || (domain & ~DGMM_DOMAINS_ALL) || (domain & (domain - 1)))
		return reject(why, "not exactly one known domain", -EINVAL);
	if (!(req->allowed & domain))
		return reject(why, "domain not allowed for this BO", -EINVAL);
	if (!domain_fits(domain, req, lim))
		return reject(why, "BO bigger than the domain", -ENOSPC);

	set_places(p, add_places(p, 0, domain, 0, req, lim));
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_placement_for_domain);

/**
 * dgmm_placement_for_device - the placement that lets the device reach a BO
 * @p: filled in
 * @req: the BO's request
 * @lim: the device's domain sizes
 * @why: set to the failed condition on error (may be NULL)
 *
 * The BO's own placement without SYSTEM, which the device cannot reach:
 * VRAM or GTT, as the request prefers and allows.
 *
 * Return: 0; -EINVAL if the BO may be in neither VRAM nor GTT; -ENOSPC if
 * neither can ever hold it.
 */
int dgmm_placement_for_device(struct dgmm_placement *p,
			      const struct dgmm_placement_request *req,
			      const struct dgmm_placement_limits *lim, const char **why)
{
	struct dgmm_placement_request r = *req;

	r.allowed &= DGMM_DOMAIN_VRAM | DGMM_DOMAIN_GTT;
	r.preferred &= r.allowed;
	if (!r.allowed)
		return reject(why, "BO allowed only in SYSTEM, which the device cannot reach",
			      -EINVAL);
	return dgmm_placement_from_request(p, &r, lim, why);
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_placement_for_device);

/**
 * dgmm_placement_for_device_preferred - where a device use brings a BO back
 * @p: filled in
 * @req: the BO's request, valid (it passed dgmm_placement_check())
 * @lim: the device's domain sizes
 *
 * Only the preferred domains the device reaches (VRAM, GTT) that can hold
 * the BO, with no flag: TTM tries them without evicting, then evicting.
 * A BO sitting in an allowed but not preferred domain is validated with
 * this to go back (see dgmm_bo_validate_for_device()).
 *
 * Return: the number of places, 0 if there is no such domain (then @p
 * must not be used: an empty placement makes TTM drop the backing store).
 */
unsigned int dgmm_placement_for_device_preferred(struct dgmm_placement *p,
						 const struct dgmm_placement_request *req,
						 const struct dgmm_placement_limits *lim)
{
	u32 mask = req->preferred & req->allowed & (DGMM_DOMAIN_VRAM | DGMM_DOMAIN_GTT);
	unsigned int n = add_places(p, 0, mask, 0, req, lim);

	set_places(p, n);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_placement_for_device_preferred);

/**
 * dgmm_placement_evict - where a BO goes when it is evicted
 * @p: filled in
 * @req: the BO's request
 * @lim: the device's domain sizes
 * @mem_type: the TTM_PL_* the BO is evicted from
 * @in_window: for VRAM: some of the BO lies in the CPU-visible window
 *
 * From VRAM, in this order, each only where there is room without evicting
 * anything else (TTM_PL_FLAG_DESIRED), and SYSTEM last, which always has:
 *
 * - VRAM above the window, for a BO the CPU does not map that is caught in
 *   the window of a device whose window is smaller than VRAM (as in
 *   amdgpu_evict_flags()): the window frees up and the BO stays in VRAM;
 * - GTT, if the BO fits in GTT at all;
 * - SYSTEM.
 *
 * From GTT or SYSTEM: SYSTEM. Eviction ignores the BO's allowed domains:
 * its contents must go somewhere, and its next validation brings it back.
 */
void dgmm_placement_evict(struct dgmm_placement *p, const struct dgmm_placement_request *req,
			  const struct dgmm_placement_limits *lim, u32 mem_type, bool in_window)
{
	unsigned int n = 0;

	if (mem_type == TTM_PL_VRAM) {
		if (in_window && !(req->flags & DGMM_PLACE_CPU_ACCESS) &&
		    lim->vram_visible_size < lim->vram_size) {
			p->places[n] = (struct ttm_place){
				.fpfn = lim->vram_visible_size >> PAGE_SHIFT,
				.mem_type = TTM_PL_VRAM,
				.flags = TTM_PL_FLAG_DESIRED,
			};
			if (req->flags & DGMM_PLACE_CONTIGUOUS)
				p->places[n].flags |= TTM_PL_FLAG_CONTIGUOUS;
			n++;
		}
		if (req->size <= lim->gtt_size)
			p->places[n++] = (struct ttm_place){ .mem_type = TTM_PL_TT,
							     .flags = TTM_PL_FLAG_DESIRED };
	}
	p->places[n++] = (struct ttm_place){ .mem_type = TTM_PL_SYSTEM };
	set_places(p, n);
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_placement_evict);

/**
 * dgmm_placement_domain_of - the domain of a TTM memory type
 * @mem_type: TTM_PL_SYSTEM, TTM_PL_TT or TTM_PL_VRAM
 *
 * Return: the DGMM_DOMAIN_* bit, 0 for any other memory type.
 */
u32 dgmm_placement_domain_of(u32 mem_type)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(domain_order); i++)
		if (domain_order[i].mem_type == mem_type)
			return domain_order[i].domain;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_placement_domain_of);
