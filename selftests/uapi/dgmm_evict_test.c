// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The eviction policy seen from userspace, on the last dgmm device: a
 * device job makes its BOs the last to be evicted; a BO evicted from VRAM
 * comes back on its next device use, when there is room and, while the
 * move budget lasts, by evicting a less recently used BO; with the budget
 * spent it stays in GTT and the job still runs.
 */
#include "kselftest_harness.h"
#include "dgmm_util.h"

#define MiB (1024ull * 1024)
#define V DRM_DGMM_DOMAIN_VRAM
#define G DRM_DGMM_DOMAIN_GTT
#define BUDGET_PARAM "/sys/module/dgmm/parameters/move_budget_mbps"

static __u32 domain(int fd, __u32 handle)
{
	struct drm_dgmm_gem_info info;

	return dgmm_gem_info(fd, handle, &info) ? 0 : info.domain;
}

static int set_budget(unsigned int mbps)
{
	char value[16];

	snprintf(value, sizeof(value), "%u", mbps);
	return dgmm_write_file(BUDGET_PARAM, value);
}

FIXTURE(evict) {
	int fd;
	__u64 slice;	/* over a third of the VRAM that is free */
	char old_budget[16];
};

FIXTURE_SETUP(evict)
{
	int fds[DGMM_MAX_DEVICES], n, i;
	__u64 free_vram;
	FILE *f;

	self->fd = -1;
	self->old_budget[0] = '\0';
	n = dgmm_open_devices(fds, NULL, DGMM_MAX_DEVICES);
	if (n <= 0)
		SKIP(return, "no dgmm render node");
	for (i = 0; i < n - 1; i++)
		close(fds[i]);
	self->fd = fds[n - 1];
	/* BOs an earlier test closed while busy go once idle: let them. */
	dgmm_vram_settle(self->fd);
	free_vram = dgmm_region(self->fd, DRM_DGMM_REGION_VRAM).size -
		    dgmm_region_used(self->fd, DRM_DGMM_REGION_VRAM);
	self->slice = (free_vram / 3 + 2 * MiB) & ~(MiB - 1);
	TH_LOG("free VRAM %llu MiB, slices of %llu MiB", free_vram / MiB, self->slice / MiB);
	ASSERT_GE(free_vram, 3 * 8 * MiB);
	f = fopen(BUDGET_PARAM, "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(self->old_budget, sizeof(self->old_budget), f));
	fclose(f);
	self->old_budget[strcspn(self->old_budget, "\n")] = '\0';
	ASSERT_EQ(0, set_budget(0));
}

FIXTURE_TEARDOWN(evict)
{
	if (self->old_budget[0])
		dgmm_write_file(BUDGET_PARAM, self->old_budget);
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * Two BOs fill most of VRAM; a job uses the older one, GEM_INFO only looks
 * at the younger; a third BO needs the room of one of them: the younger
 * goes.
 */
TEST_F(evict, job_makes_its_bo_last_to_go)
{
	__u32 older = 0, younger = 0, third = 0;

	ASSERT_EQ(0, dgmm_gem_create(self->fd, self->slice, V, V | G, 0, &older));
	ASSERT_EQ(0, dgmm_gem_create(self->fd, self->slice, V, V | G, 0, &younger));
	ASSERT_EQ(0, dgmm_submit_fill(self->fd, older, 0, MiB, 0x3c));
	/* Looking at a BO is not using it. */
	EXPECT_EQ(V, domain(self->fd, younger));
	ASSERT_EQ(0, dgmm_gem_create(self->fd, self->slice, V, V | G, 0, &third));
	EXPECT_EQ(V, domain(self->fd, third));
	EXPECT_EQ(V, domain(self->fd, older));
	EXPECT_EQ(G, domain(self->fd, younger));
	ASSERT_EQ(0, dgmm_gem_wait(self->fd, older, -1));
	ASSERT_EQ(0, dgmm_gem_wait(self->fd, younger, -1));
	ASSERT_EQ(0, dgmm_gem_wait(self->fd, third, -1));
	EXPECT_EQ(0, dgmm_gem_close(self->fd, older));
	EXPECT_EQ(0, dgmm_gem_close(self->fd, younger));
	EXPECT_EQ(0, dgmm_gem_close(self->fd, third));
}

/*
 * The way back: evicted to GTT, a BO returns to VRAM at its next job, by
 * evicting the least recently used BO while the budget lasts. A job that
 * moves more than the budget spends it: the next BO stays in GTT and its
 * job runs all the same. Once there is room it returns, budget or not.
 */
TEST_F(evict, evicted_bo_comes_back_on_use)
{
	__u32 hot = 0, a = 0, b = 0;
	__u8 *map;

	ASSERT_EQ(0, dgmm_gem_create(self->fd, self->slice, V, V | G, 0, &hot));
	ASSERT_EQ(0, dgmm_gem_create(self->fd, self->slice, V, V | G, 0, &a));
	ASSERT_EQ(0, dgmm_gem_create(self->fd, self->slice, V, V | G, 0, &b));
	EXPECT_EQ(G, domain(self->fd, hot));	/* the least recently used */

	/* No budget limit: the job brings it back, the LRU BO (a) goes. */
	ASSERT_EQ(0, dgmm_submit_fill(self->fd, hot, 0, self->slice, 0x11));
	EXPECT_EQ(V, domain(self->fd, hot));
	EXPECT_EQ(G, domain(self->fd, a));
	EXPECT_EQ(V, domain(self->fd, b));

	/*
	 * 1 MiB/s: a fresh budget of 200 KiB lets one promotion through,
	 * which moves two slices (a in, b out) and leaves it owing them.
	 */
	ASSERT_EQ(0, set_budget(1));
	ASSERT_EQ(0, dgmm_submit_fill(self->fd, a, 0, MiB, 0x22));
	EXPECT_EQ(V, domain(self->fd, a));
	EXPECT_EQ(G, domain(self->fd, b));
	ASSERT_EQ(0, dgmm_submit_fill(self->fd, b, 0, MiB, 0x33));
	EXPECT_EQ(G, domain(self->fd, b));
	ASSERT_EQ(0, dgmm_gem_wait(self->fd, b, -1));
	map = dgmm_gem_mmap(self->fd, b, MiB);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(0x33, map[0]);
	EXPECT_EQ(0x33, map[(1 << 20) - 1]);	/* the last byte of the fill */
	munmap(map, MiB);

	/* Room (hot closed): back to VRAM, budget or not. */
	ASSERT_EQ(0, dgmm_gem_wait(self->fd, hot, -1));
	ASSERT_EQ(0, dgmm_gem_close(self->fd, hot));
	ASSERT_EQ(0, dgmm_submit_fill(self->fd, b, 0, MiB, 0x44));
	EXPECT_EQ(V, domain(self->fd, b));
	ASSERT_EQ(0, dgmm_gem_wait(self->fd, a, -1));
	ASSERT_EQ(0, dgmm_gem_wait(self->fd, b, -1));
	EXPECT_EQ(0, dgmm_gem_close(self->fd, a));
	EXPECT_EQ(0, dgmm_gem_close(self->fd, b));
}

/*
 * A job's BO that may stay in GTT must not take the VRAM another BO of the
 * same job has to be in. VRAM holds k (VRAM only) and room for one of i
 * (prefers VRAM, may be in GTT, in GTT now) and j (VRAM only, evicted to
 * GTT). A job on i, j and k, in that order: j goes to VRAM, i stays in
 * GTT, and the job runs. Bringing i back before j is placed would leave j
 * no room (a job's own BOs are never evicted for it).
 */
TEST_F(evict, job_bo_that_must_move_gets_the_room)
{
	__u64 free_vram = dgmm_region(self->fd, DRM_DGMM_REGION_VRAM).size -
			  dgmm_region_used(self->fd, DRM_DGMM_REGION_VRAM);
	__u64 s = (free_vram * 3 / 10) & ~(MiB - 1), ksize = free_vram - s - 8 * MiB;
	struct drm_dgmm_job_op ops[3];
	struct drm_dgmm_submit submit = { .ops = (__u64)(uintptr_t)ops, .num_ops = 3 };
	__u32 i = 0, j = 0, k = 0;

	ASSERT_GT(s, 8 * MiB);
	ASSERT_EQ(0, dgmm_gem_create(self->fd, s, V, V, 0, &j));
	ASSERT_EQ(0, dgmm_gem_create(self->fd, s, V, V | G, 0, &i));
	ASSERT_EQ(0, dgmm_gem_create(self->fd, ksize, V, V, 0, &k));	/* evicts j */
	ASSERT_EQ(G, domain(self->fd, j));
	ASSERT_EQ(0, dgmm_gem_migrate(self->fd, i, G));
	ASSERT_EQ(V, domain(self->fd, k));

	for (int n = 0; n < 3; n++)
		ops[n] = (struct drm_dgmm_job_op){ .op = DRM_DGMM_OP_FILL, .size = MiB,
						   .value = 0x60 + n };
	ops[0].dst_handle = i;
	ops[1].dst_handle = j;
	ops[2].dst_handle = k;
	EXPECT_EQ(0, dgmm_ioctl(self->fd, DRM_IOCTL_DGMM_SUBMIT, &submit) ? -errno : 0);
	EXPECT_EQ(V, domain(self->fd, j));
	EXPECT_EQ(G, domain(self->fd, i));
	ASSERT_EQ(0, dgmm_gem_wait(self->fd, i, -1));
	ASSERT_EQ(0, dgmm_gem_wait(self->fd, j, -1));
	ASSERT_EQ(0, dgmm_gem_wait(self->fd, k, -1));
	EXPECT_EQ(0, dgmm_gem_close(self->fd, i));
	EXPECT_EQ(0, dgmm_gem_close(self->fd, j));
	EXPECT_EQ(0, dgmm_gem_close(self->fd, k));
}

TEST_HARNESS_MAIN
