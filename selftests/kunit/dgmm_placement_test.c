// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * KUnit suite for placement/: a table of requests with the exact placement
 * or error each must give, and a sweep over every combination of preferred
 * and allowed domains, flags, sizes and visible windows that checks the
 * rules of dgmm_placement.c on each result; a table of where evicted BOs go.
 */

#include <kunit/test.h>
#include <linux/sizes.h>

#include "placement/dgmm_placement.h"

#define S	DGMM_DOMAIN_SYSTEM
#define G	DGMM_DOMAIN_GTT
#define V	DGMM_DOMAIN_VRAM
#define CPU	DGMM_PLACE_CPU_ACCESS
#define CONTIG	DGMM_PLACE_CONTIGUOUS

/* 256 MiB of VRAM of which 64 MiB CPU-visible, 128 MiB of GTT, 1 GiB of RAM. */
static const struct dgmm_placement_limits small_bar = {
	.vram_size = SZ_256M, .vram_visible_size = SZ_64M, .gtt_size = SZ_128M,
	.system_size = SZ_1G,
};

/* All of VRAM CPU-visible. */
static const struct dgmm_placement_limits full_bar = {
	.vram_size = SZ_256M, .vram_visible_size = SZ_256M, .gtt_size = SZ_128M,
	.system_size = SZ_1G,
};

#define VIS_LPFN (SZ_64M >> PAGE_SHIFT)
#define FB TTM_PL_FLAG_FALLBACK
#define TD TTM_PL_FLAG_TOPDOWN
#define CT TTM_PL_FLAG_CONTIGUOUS

struct place_case {
	const char *desc;
	const struct dgmm_placement_limits *lim;
	struct dgmm_placement_request req;
	int err;
	unsigned int num;
	struct ttm_place places[DGMM_MAX_PLACES];
};

#define PL(_type, _flags, _lpfn) { .mem_type = (_type), .flags = (_flags), .lpfn = (_lpfn) }

static const struct place_case place_cases[] = {
	/* Malformed or contradictory requests. */
	{ "zero size", &small_bar, { 0, V, V, 0 }, -EINVAL },
	{ "unaligned size", &small_bar, { SZ_4K + 1, V, V, 0 }, -EINVAL },
	{ "no allowed domain", &small_bar, { SZ_4K, 0, 0, 0 }, -EINVAL },
	{ "unknown allowed domain", &small_bar, { SZ_4K, 0, BIT(3), 0 }, -EINVAL },
	{ "preferred not allowed", &small_bar, { SZ_4K, V, G, 0 }, -EINVAL },
	{ "unknown flag", &small_bar, { SZ_4K, V, V, BIT(7) }, -EINVAL },
	{ "contiguous without VRAM", &small_bar, { SZ_4K, G, G | S, CONTIG }, -EINVAL },
	/* Valid, but no allowed domain can ever hold it. */
	{ "VRAM-only bigger than VRAM", &small_bar, { SZ_512M, V, V, 0 }, -ENOSPC },
	{ "visible VRAM-only bigger than window", &small_bar,
	  { SZ_128M, V, V, CPU }, -ENOSPC },
	{ "GTT-only bigger than GTT", &small_bar, { SZ_256M, G, G, 0 }, -ENOSPC },
	{ "bigger than RAM", &small_bar, { SZ_2G, S, S | G | V, 0 }, -ENOSPC },
	/* Placements. */
	{ "VRAM, no CPU: top-down", &small_bar, { SZ_4K, V, V, 0 }, 0, 1,
	  { PL(TTM_PL_VRAM, TD, 0) } },
	{ "VRAM, CPU: visible window", &small_bar, { SZ_4K, V, V, CPU }, 0, 1,
	  { PL(TTM_PL_VRAM, 0, VIS_LPFN) } },
	{ "VRAM, CPU, full BAR: anywhere", &full_bar, { SZ_4K, V, V, CPU }, 0, 1,
	  { PL(TTM_PL_VRAM, 0, 0) } },
	{ "VRAM, no CPU, full BAR: anywhere", &full_bar, { SZ_4K, V, V, 0 }, 0, 1,
	  { PL(TTM_PL_VRAM, 0, 0) } },
	{ "VRAM contiguous", &small_bar, { SZ_2M, V, V, CONTIG }, 0, 1,
	  { PL(TTM_PL_VRAM, CT | TD, 0) } },
	{ "VRAM contiguous visible", &small_bar, { SZ_2M, V, V, CONTIG | CPU }, 0, 1,
	  { PL(TTM_PL_VRAM, CT, VIS_LPFN) } },
	{ "prefer VRAM, allow GTT", &small_bar, { SZ_4K, V, V | G, 0 }, 0, 2,
	  { PL(TTM_PL_VRAM, TD, 0), PL(TTM_PL_TT, FB, 0) } },
	{ "prefer GTT, allow VRAM and SYSTEM", &small_bar, { SZ_4K, G, V | G | S, CPU }, 0, 3,
	  { PL(TTM_PL_TT, 0, 0), PL(TTM_PL_VRAM, FB, VIS_LPFN), PL(TTM_PL_SYSTEM, FB, 0) } },
	{ "no preference: all allowed, VRAM first", &small_bar, { SZ_4K, 0, S | G | V, 0 }, 0, 3,
	  { PL(TTM_PL_VRAM, TD, 0), PL(TTM_PL_TT, 0, 0), PL(TTM_PL_SYSTEM, 0, 0) } },
	{ "SYSTEM only", &small_bar, { SZ_4K, S, S, 0 }, 0, 1,
	  { PL(TTM_PL_SYSTEM, 0, 0) } },
	{ "preferred too big: fallback loses its flag", &small_bar,
	  { SZ_512M, V, V | S, 0 }, 0, 1, { PL(TTM_PL_SYSTEM, 0, 0) } },
	{ "visible VRAM too big: GTT stays fallback-free", &small_bar,
	  { SZ_128M, V | G, V | G, CPU }, 0, 1, { PL(TTM_PL_TT, 0, 0) } },
	{ "too big for GTT: VRAM and SYSTEM", &small_bar,
	  { SZ_256M, V, V | G | S, 0 }, 0, 2,
	  { PL(TTM_PL_VRAM, TD, 0), PL(TTM_PL_SYSTEM, FB, 0) } },
};

static void place_case_desc(const struct place_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(place_case, place_cases, place_case_desc);

static void placement_table(struct kunit *test)
{
	const struct place_case *c = test->param_value;
	struct dgmm_placement p;
	const char *why = NULL;
	unsigned int i;
	int err;

	memset(&p, 0xa5, sizeof(p));
	err = dgmm_placement_from_request(&p, &c->req, c->lim, &why);
	KUNIT_ASSERT_EQ(test, err, c->err);
	if (err) {
		KUNIT_EXPECT_NOT_NULL(test, why);
		return;
	}

	KUNIT_ASSERT_EQ(test, p.placement.num_placement, c->num);
	KUNIT_EXPECT_PTR_EQ(test, p.placement.placement, (const struct ttm_place *)p.places);
	for (i = 0; i < c->num; i++) {
		const struct ttm_place *got = &p.places[i], *want = &c->places[i];

		KUNIT_EXPECT_EQ_MSG(test, got->mem_type, want->mem_type, "place %u", i);
		KUNIT_EXPECT_EQ_MSG(test, got->flags, want->flags, "place %u", i);
		KUNIT_EXPECT_EQ_MSG(test, got->fpfn, 0, "place %u", i);
		KUNIT_EXPECT_EQ_MSG(test, got->lpfn, want->lpfn, "place %u", i);
	}
}

/* The domain bit of each place, for the sweep's checks. */
static u32 place_domain(const struct ttm_place *place)
{
	return dgmm_placement_domain_of(place->mem_type);
}

static bool fits(u32 domain, const struct dgmm_placement_request *req,
		 const struct dgmm_placement_limits *lim)
{
	if (domain == V)
		return req->size <= ((req->flags & CPU) ? lim->vram_visible_size : lim->vram_size);
	if (domain == G)
		return req->size <= lim->gtt_size;
	return req->size <= lim->system_size;
}

/* Checks one request of the sweep against the rules of dgmm_placement.c. */
static void check_rules(struct kunit *test, const struct dgmm_placement_request *req,
			const struct dgmm_placement_limits *lim)
{
	u32 preferred = req->preferred ?: req->allowed, seen = 0, fitting = 0;
	bool small_window = lim->vram_visible_size < lim->vram_size;
	bool in_fallback = false, any_preferred = false;
	struct dgmm_placement p;
	unsigned int i;
	int err, want;
	u32 d;

	for (d = S; d <= V; d <<= 1)
		if ((req->allowed & d) && fits(d, req, lim))
			fitting |= d;

	if (req->preferred & ~req->allowed ||
	    ((req->flags & CONTIG) && !(req->allowed & V)) || !req->allowed)
		want = -EINVAL;
	else
		want = fitting ? 0 : -ENOSPC;

	err = dgmm_placement_from_request(&p, req, lim, NULL);
	KUNIT_ASSERT_EQ_MSG(test, err, want, "pref %x allowed %x flags %x size %llu",
			    req->preferred, req->allowed, req->flags, req->size);
	if (err)
		return;

	/* Exactly the fitting allowed domains, each once. */
	for (i = 0; i < p.placement.num_placement; i++) {
		const struct ttm_place *pl = &p.places[i];

		d = place_domain(pl);
		KUNIT_EXPECT_FALSE(test, seen & d);
		seen |= d;

		/* Preferred first and unflagged; the rest after, as fallback. */
		if (preferred & d) {
			KUNIT_EXPECT_FALSE(test, in_fallback);
			KUNIT_EXPECT_FALSE(test, pl->flags & TTM_PL_FLAG_FALLBACK);
			any_preferred = true;
		} else {
			in_fallback = true;
			KUNIT_EXPECT_EQ(test, !!(pl->flags & TTM_PL_FLAG_FALLBACK),
					any_preferred);
		}
		KUNIT_EXPECT_FALSE(test, pl->flags & TTM_PL_FLAG_DESIRED);

		if (d != V) {
			KUNIT_EXPECT_EQ(test, pl->flags & (CT | TD), 0);
			KUNIT_EXPECT_EQ(test, pl->lpfn, 0);
			continue;
		}
		KUNIT_EXPECT_EQ(test, !!(pl->flags & CT), !!(req->flags & CONTIG));
		KUNIT_EXPECT_EQ(test, !!(pl->flags & TD), small_window && !(req->flags & CPU));
		KUNIT_EXPECT_EQ(test, pl->lpfn, small_window && (req->flags & CPU) ?
				lim->vram_visible_size >> PAGE_SHIFT : 0);
	}
	KUNIT_EXPECT_EQ(test, seen, fitting);
}

static void placement_sweep(struct kunit *test)
{
	static const u64 sizes[] = {
		SZ_4K, SZ_64M + SZ_4K, SZ_128M + SZ_4K, SZ_512M, SZ_1G + SZ_4K,
	};
	const struct dgmm_placement_limits *lims[] = { &small_bar, &full_bar };
	struct dgmm_placement_request req;
	unsigned int l, s;
	u32 allowed, preferred, flags;

	for (l = 0; l < ARRAY_SIZE(lims); l++)
		for (s = 0; s < ARRAY_SIZE(sizes); s++)
			for (allowed = 0; allowed <= DGMM_DOMAINS_ALL; allowed++)
				for (preferred = 0; preferred <= DGMM_DOMAINS_ALL; preferred++)
					for (flags = 0; flags <= DGMM_PLACE_FLAGS_ALL; flags++) {
						req = (struct dgmm_placement_request){
							.size = sizes[s], .preferred = preferred,
							.allowed = allowed, .flags = flags,
						};
						check_rules(test, &req, lims[l]);
					}
}

static void placement_for_domain(struct kunit *test)
{
	const struct dgmm_placement_request req = { SZ_128M, V, V | G, CPU };
	struct dgmm_placement p;
	const char *why;

	KUNIT_EXPECT_EQ(test, dgmm_placement_for_domain(&p, &req, &small_bar, G, &why), 0);
	KUNIT_ASSERT_EQ(test, p.placement.num_placement, 1);
	KUNIT_EXPECT_EQ(test, p.places[0].mem_type, TTM_PL_TT);
	KUNIT_EXPECT_EQ(test, p.places[0].flags, 0);

	/* Not allowed, not one domain, unknown: -EINVAL. */
	KUNIT_EXPECT_EQ(test, dgmm_placement_for_domain(&p, &req, &small_bar, S, &why), -EINVAL);
	KUNIT_EXPECT_EQ(test, dgmm_placement_for_domain(&p, &req, &small_bar, V | G, &why),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, dgmm_placement_for_domain(&p, &req, &small_bar, 0, &why), -EINVAL);
	KUNIT_EXPECT_EQ(test, dgmm_placement_for_domain(&p, &req, &small_bar, BIT(3), &why),
			-EINVAL);
	/* 128 MiB cannot be in a 64 MiB window: valid, but never met. */
	KUNIT_EXPECT_EQ(test, dgmm_placement_for_domain(&p, &req, &small_bar, V, &why), -ENOSPC);
	KUNIT_EXPECT_EQ(test, dgmm_placement_for_domain(&p, &req, &full_bar, V, &why), 0);
	KUNIT_EXPECT_EQ(test, p.places[0].mem_type, TTM_PL_VRAM);
}

struct evict_case {
	const char *desc;
	const struct dgmm_placement_limits *lim;
	struct dgmm_placement_request req;
	u32 from;
	bool in_window;
	unsigned int num;
	struct ttm_place places[DGMM_MAX_PLACES];
};

#define DS TTM_PL_FLAG_DESIRED
#define PLR(_type, _flags, _fpfn) { .mem_type = (_type), .flags = (_flags), .fpfn = (_fpfn) }

static const struct evict_case evict_cases[] = {
	{ "VRAM, above the window: GTT, SYSTEM", &small_bar, { SZ_4M, V, V | G, 0 },
	  TTM_PL_VRAM, false, 2, { PLR(TTM_PL_TT, DS, 0), PLR(TTM_PL_SYSTEM, 0, 0) } },
	{ "VRAM, in the window, no CPU access: VRAM above it, GTT, SYSTEM", &small_bar,
	  { SZ_4M, V, V, 0 }, TTM_PL_VRAM, true, 3,
	  { PLR(TTM_PL_VRAM, DS, VIS_LPFN), PLR(TTM_PL_TT, DS, 0), PLR(TTM_PL_SYSTEM, 0, 0) } },
	{ "VRAM, in the window, contiguous: stays contiguous above it", &small_bar,
	  { SZ_4M, V, V, CONTIG }, TTM_PL_VRAM, true, 3,
	  { PLR(TTM_PL_VRAM, DS | CT, VIS_LPFN), PLR(TTM_PL_TT, DS, 0),
	    PLR(TTM_PL_SYSTEM, 0, 0) } },
	{ "VRAM, in the window, CPU access: GTT, SYSTEM", &small_bar,
	  { SZ_4M, V, V | G, CPU }, TTM_PL_VRAM, true, 2,
	  { PLR(TTM_PL_TT, DS, 0), PLR(TTM_PL_SYSTEM, 0, 0) } },
	{ "VRAM, all of it visible: GTT, SYSTEM", &full_bar, { SZ_4M, V, V, 0 },
	  TTM_PL_VRAM, true, 2, { PLR(TTM_PL_TT, DS, 0), PLR(TTM_PL_SYSTEM, 0, 0) } },
	{ "VRAM, bigger than GTT: SYSTEM only", &small_bar, { SZ_256M, V, V | G | S, 0 },
	  TTM_PL_VRAM, false, 1, { PLR(TTM_PL_SYSTEM, 0, 0) } },
	{ "VRAM, bigger than GTT, in the window: VRAM above it, SYSTEM", &small_bar,
	  { SZ_128M + SZ_4K, V, V, 0 }, TTM_PL_VRAM, true, 2,
	  { PLR(TTM_PL_VRAM, DS, VIS_LPFN), PLR(TTM_PL_SYSTEM, 0, 0) } },
	{ "GTT: SYSTEM", &small_bar, { SZ_4M, G, G | V, 0 }, TTM_PL_TT, false, 1,
	  { PLR(TTM_PL_SYSTEM, 0, 0) } },
	{ "GTT-only: SYSTEM all the same", &small_bar, { SZ_4M, G, G, 0 }, TTM_PL_TT, false, 1,
	  { PLR(TTM_PL_SYSTEM, 0, 0) } },
};

static void evict_case_desc(const struct evict_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(evict_case, evict_cases, evict_case_desc);

/* Where each kind of BO goes when evicted from where it is. */
static void placement_evict(struct kunit *test)
{
	const struct evict_case *c = test->param_value;
	struct dgmm_placement p;
	unsigned int i;

	memset(&p, 0xa5, sizeof(p));
	dgmm_placement_evict(&p, &c->req, c->lim, c->from, c->in_window);
	KUNIT_ASSERT_EQ(test, p.placement.num_placement, c->num);
	KUNIT_EXPECT_PTR_EQ(test, p.placement.placement, (const struct ttm_place *)p.places);
	for (i = 0; i < c->num; i++) {
		const struct ttm_place *got = &p.places[i], *want = &c->places[i];

		KUNIT_EXPECT_EQ_MSG(test, got->mem_type, want->mem_type, "place %u", i);
		KUNIT_EXPECT_EQ_MSG(test, got->flags, want->flags, "place %u", i);
		KUNIT_EXPECT_EQ_MSG(test, got->fpfn, want->fpfn, "place %u", i);
		KUNIT_EXPECT_EQ_MSG(test, got->lpfn, 0, "place %u", i);
	}
}

static struct kunit_case dgmm_placement_cases[] = {
	KUNIT_CASE_PARAM(placement_table, place_case_gen_params),
	KUNIT_CASE(placement_sweep),
	KUNIT_CASE(placement_for_domain),
	KUNIT_CASE_PARAM(placement_evict, evict_case_gen_params),
	{}
};

static struct kunit_suite dgmm_placement_suite = {
	.name = "dgmm_placement",
	.test_cases = dgmm_placement_cases,
};

kunit_test_suite(dgmm_placement_suite);
