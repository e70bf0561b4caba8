// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * uAPI tests of eviction under pressure, for tiny regions: the guest runs
 * them with dgmm loaded as "gtt_size_mb=16 vram_visible_mb=16", where GTT
 * is much smaller than VRAM (each test fails, not skips, if it is not).
 *
 * - A VRAM BO bigger than all of GTT still moves to VRAM and is evicted out
 *   of it: the hop through GTT between SYSTEM and VRAM is not charged
 *   against GTT's size.
 * - With GTT full, eviction from VRAM goes to SYSTEM and stays pipelined:
 *   the evicting process does not wait for the copy.
 */

#include "kselftest_harness.h"
#include "dgmm_util.h"

#define S DRM_DGMM_DOMAIN_SYSTEM
#define G DRM_DGMM_DOMAIN_GTT
#define V DRM_DGMM_DOMAIN_VRAM
#define ALL (S | G | V)
#define MiB (1024ull * 1024)

#define pattern dgmm_pattern
#define first_bad_word dgmm_first_bad_word

static __u64 free_bytes(int fd, __u32 which)
{
	struct drm_dgmm_region_info r = dgmm_region(fd, which);

	return r.size - r.used;
}

FIXTURE(pressure) {
	int fd[DGMM_MAX_DEVICES];
	int n;
	unsigned int engine_mbps;	/* to restore, if @throttled */
	bool throttled;
};

FIXTURE_SETUP(pressure)
{
	self->n = dgmm_open_devices(self->fd, NULL, DGMM_MAX_DEVICES);
	ASSERT_GT(self->n, 0);
}

FIXTURE_TEARDOWN(pressure)
{
	for (int i = 0; i < self->n; i++)
		close(self->fd[i]);
	if (self->throttled)
		EXPECT_EQ(0, dgmm_engine_mbps(self->engine_mbps, NULL));
}

/*
 * A BO one MiB bigger than GTT, written in SYSTEM, moved to VRAM (through a
 * temporary GTT resource), then evicted by a VRAM-only BO that needs its
 * room: it lands in SYSTEM with every word intact.
 */
TEST_F(pressure, evict_bo_bigger_than_gtt)
{
	for (int i = 0; i < self->n; i++) {
		struct drm_dgmm_region_info gtt = dgmm_region(self->fd[i], DRM_DGMM_REGION_GTT);
		__u64 vram_free = free_bytes(self->fd[i], DRM_DGMM_REGION_VRAM);
		__u64 big = gtt.size + MiB;
		struct drm_dgmm_gem_info info;
		__u32 a = 0, b = 0, *map;
		size_t bad;

		ASSERT_LT(big + 2 * MiB, vram_free) {
			TH_LOG("needs GTT smaller than free VRAM: load dgmm with gtt_size_mb=16");
		}
		ASSERT_EQ(0, dgmm_gem_create(self->fd[i], big, S, ALL, 0, &a));
		map = dgmm_gem_mmap(self->fd[i], a, big);
		ASSERT_NE(MAP_FAILED, map);
		for (size_t w = 0; w < big / 4; w++)
			map[w] = pattern(0xb16, w);

		ASSERT_EQ(0, dgmm_gem_migrate(self->fd[i], a, V));
		ASSERT_EQ(0, dgmm_gem_info(self->fd[i], a, &info));
		ASSERT_EQ(V, info.domain);

		/* Fits only once A is gone from VRAM. */
		ASSERT_EQ(0, dgmm_gem_create(self->fd[i], vram_free - big / 2, V, V, 0, &b));
		ASSERT_EQ(0, dgmm_gem_info(self->fd[i], a, &info));
		EXPECT_EQ(S, info.domain);

		bad = first_bad_word(map, big / 4, 0xb16);
		EXPECT_EQ(big / 4, bad) {
			TH_LOG("word %zu lost its contents", bad);
		}
		munmap(map, big);
		dgmm_gem_close(self->fd[i], b);
		dgmm_gem_close(self->fd[i], a);
	}
}

/*
 * GTT full of data, VRAM full: the VRAM BO that has to make room goes to
 * SYSTEM through a temporary GTT hop. The copy is on a slow engine, and the
 * process whose create evicts it does not wait for that copy: the evicted BO
 * is still busy when the create returns. Its data arrives all the same.
 */
TEST_F(pressure, eviction_with_gtt_full_is_pipelined)
{
	const __u64 size = 8 * MiB;

	ASSERT_EQ(0, dgmm_engine_mbps(16, &self->engine_mbps));
	self->throttled = true;
	for (int i = 0; i < self->n; i++) {
		__u64 gtt_free = free_bytes(self->fd[i], DRM_DGMM_REGION_GTT);
		struct drm_dgmm_gem_info info;
		__u32 a = 0, b = 0, c = 0, *map, *fill;
		__u64 vram_free;
		size_t bad;

		ASSERT_GT(gtt_free, 0);
		ASSERT_EQ(0, dgmm_gem_create(self->fd[i], gtt_free, G, G, 0, &c));
		fill = dgmm_gem_mmap(self->fd[i], c, gtt_free);
		ASSERT_NE(MAP_FAILED, fill);
		memset(fill, 0x6c, gtt_free);
		munmap(fill, gtt_free);
		ASSERT_EQ(0, free_bytes(self->fd[i], DRM_DGMM_REGION_GTT));

		ASSERT_EQ(0, dgmm_gem_create(self->fd[i], size, V, ALL,
					     DRM_DGMM_GEM_CPU_ACCESS, &a));
		map = dgmm_gem_mmap(self->fd[i], a, size);
		ASSERT_NE(MAP_FAILED, map);
		for (size_t w = 0; w < size / 4; w++)
			map[w] = pattern(0x91e, w);
		ASSERT_EQ(0, dgmm_gem_info(self->fd[i], a, &info));
		ASSERT_EQ(V, info.domain);

		vram_free = free_bytes(self->fd[i], DRM_DGMM_REGION_VRAM);
		ASSERT_EQ(0, dgmm_gem_create(self->fd[i], vram_free + size / 2, V, V, 0, &b));
		ASSERT_EQ(0, dgmm_gem_info(self->fd[i], a, &info));
		EXPECT_EQ(S, info.domain);
		/* 8 MiB at 16 MiB/s: half a second of copying still ahead. */
		EXPECT_EQ(-ETIME, dgmm_gem_wait(self->fd[i], a, 0));

		bad = first_bad_word(map, size / 4, 0x91e);
		EXPECT_EQ(size / 4, bad) {
			TH_LOG("word %zu lost its contents", bad);
		}
		munmap(map, size);
		dgmm_gem_close(self->fd[i], b);
		dgmm_gem_close(self->fd[i], a);
		dgmm_gem_close(self->fd[i], c);
	}
}

TEST_HARNESS_MAIN
