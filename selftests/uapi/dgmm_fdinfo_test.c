// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Per-client memory in /proc/self/fdinfo: the drm-usage-stats keys for
 * vram, gtt and system follow what this client creates, writes, moves,
 * shares, runs jobs on and closes; another client's BOs are not counted.
 */
#include "kselftest_harness.h"
#include "dgmm_util.h"

#define MiB (1024ull * 1024)
#define KiB 1024ull
#define V DRM_DGMM_DOMAIN_VRAM
#define G DRM_DGMM_DOMAIN_GTT
#define S DRM_DGMM_DOMAIN_SYSTEM

static const char *const regions[] = { "vram", "gtt", "system" };
static const char *const stats[] = { "total", "shared", "active", "resident", "purgeable" };

/*
 * The value of drm-<stat>-<region> in @fd's fdinfo, in bytes; -1 if the
 * key is missing, -2 if the file cannot be read.
 */
static long long fdinfo_value(int fd, const char *stat, const char *region)
{
	char path[64], key[64], line[256];
	long long value = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	snprintf(key, sizeof(key), "drm-%s-%s:", stat, region);
	f = fopen(path, "r");
	if (!f)
		return -2;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long n;
		char unit[8] = "";

		if (strncmp(line, key, strlen(key)))
			continue;
		if (sscanf(line + strlen(key), "%llu %7s", &n, unit) < 1)
			break;
		value = n;
		if (!strcmp(unit, "KiB"))
			value *= KiB;
		else if (!strcmp(unit, "MiB"))
			value *= MiB;
		else if (unit[0])
			value = -1;
		break;
	}
	fclose(f);
	return value;
}

static bool fdinfo_has(int fd, const char *prefix)
{
	char path[64], line[256];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, prefix, strlen(prefix));
	fclose(f);
	return found;
}

FIXTURE(fdinfo) {
	int fd;
	bool slowed;		/* the engine's speed is to be restored */
	unsigned int old_mbps;
};

FIXTURE_SETUP(fdinfo)
{
	int fds[DGMM_MAX_DEVICES], n, i;

	self->fd = -1;
	self->slowed = false;
	n = dgmm_open_devices(fds, NULL, DGMM_MAX_DEVICES);
	if (n <= 0)
		SKIP(return, "no dgmm render node");
	for (i = 1; i < n; i++)
		close(fds[i]);
	self->fd = fds[0];
}

FIXTURE_TEARDOWN(fdinfo)
{
	/* Even when an assertion cut the test short: later tests need speed. */
	if (self->slowed)
		dgmm_engine_mbps(self->old_mbps, NULL);
	if (self->fd >= 0)
		close(self->fd);
}

/* A new client: every standard key of every region, all zero. */
TEST_F(fdinfo, new_client_has_every_key_at_zero)
{
	unsigned int r, s;

	EXPECT_TRUE(fdinfo_has(self->fd, "drm-driver:\tdgmm"));
	EXPECT_TRUE(fdinfo_has(self->fd, "drm-client-id:"));
	for (r = 0; r < ARRAY_SIZE(regions); r++) {
		for (s = 0; s < ARRAY_SIZE(stats); s++) {
			long long value = fdinfo_value(self->fd, stats[s], regions[r]);

			if (value)
				TH_LOG("drm-%s-%s: %lld", stats[s], regions[r], value);
			EXPECT_EQ(0, value);
		}
	}
}

/*
 * Creates, CPU writes, a migration and a close, each seen in the right
 * region; a second client's BO only in its own fdinfo.
 */
TEST_F(fdinfo, follows_creates_moves_and_closes)
{
	const __u64 vsize = 4 * MiB + 4 * KiB, gsize = 2 * MiB, ssize = 1 * MiB;
	__u32 v = 0, g = 0, s = 0, other_bo = 0;
	int fds[DGMM_MAX_DEVICES], n, i, other;
	__u8 *map;

	ASSERT_EQ(0, dgmm_gem_create(self->fd, vsize, V, V | G, 0, &v));
	ASSERT_EQ(0, dgmm_gem_create(self->fd, gsize, G, G, 0, &g));
	ASSERT_EQ(0, dgmm_gem_create(self->fd, ssize, S, S | G, 0, &s));
	ASSERT_EQ(0, dgmm_gem_wait(self->fd, v, -1));

	EXPECT_EQ(vsize, fdinfo_value(self->fd, "total", "vram"));
	EXPECT_EQ(vsize, fdinfo_value(self->fd, "resident", "vram"));
	EXPECT_EQ(gsize, fdinfo_value(self->fd, "total", "gtt"));
	EXPECT_EQ(gsize, fdinfo_value(self->fd, "resident", "gtt"));
	EXPECT_EQ(ssize, fdinfo_value(self->fd, "total", "system"));
	/* No page of the SYSTEM BO exists until it is written. */
	EXPECT_EQ(0, fdinfo_value(self->fd, "resident", "system"));
	map = dgmm_gem_mmap(self->fd, s, ssize);
	ASSERT_NE(MAP_FAILED, map);
	memset(map, 0x5c, ssize);
	munmap(map, ssize);
	EXPECT_EQ(ssize, fdinfo_value(self->fd, "resident", "system"));
	EXPECT_EQ(0, fdinfo_value(self->fd, "shared", "system"));

	ASSERT_EQ(0, dgmm_gem_migrate(self->fd, v, G));
	EXPECT_EQ(0, fdinfo_value(self->fd, "total", "vram"));
	EXPECT_EQ(vsize + gsize, fdinfo_value(self->fd, "total", "gtt"));
	EXPECT_EQ(vsize + gsize, fdinfo_value(self->fd, "resident", "gtt"));

	/* A second client of the same device. */
	n = dgmm_open_devices(fds, NULL, DGMM_MAX_DEVICES);
	ASSERT_GT(n, 0);
	for (i = 1; i < n; i++)
		close(fds[i]);
	other = fds[0];
	ASSERT_EQ(0, dgmm_gem_create(other, 8 * MiB, G, G, 0, &other_bo));
	EXPECT_EQ(8 * MiB, fdinfo_value(other, "total", "gtt"));
	EXPECT_EQ(vsize + gsize, fdinfo_value(self->fd, "total", "gtt"));
	close(other);

	ASSERT_EQ(0, dgmm_gem_close(self->fd, g));
	EXPECT_EQ(vsize, fdinfo_value(self->fd, "total", "gtt"));
	ASSERT_EQ(0, dgmm_gem_close(self->fd, v));
	ASSERT_EQ(0, dgmm_gem_close(self->fd, s));
	EXPECT_EQ(0, fdinfo_value(self->fd, "total", "gtt"));
	EXPECT_EQ(0, fdinfo_value(self->fd, "total", "system"));
}

/* A BO a job still runs on is active; idle again once the job is done. */
TEST_F(fdinfo, active_while_a_job_runs)
{
	const __u64 size = 4 * MiB;
	__u32 bo = 0;
	long long active;

	ASSERT_EQ(0, dgmm_gem_create(self->fd, size, G, G, 0, &bo));
	ASSERT_EQ(0, dgmm_gem_wait(self->fd, bo, -1));
	EXPECT_EQ(0, fdinfo_value(self->fd, "active", "gtt"));
	/* 4 MiB at 4 MiB/s: the job runs for about a second. */
	ASSERT_EQ(0, dgmm_engine_mbps(4, &self->old_mbps));
	self->slowed = true;
	ASSERT_EQ(0, dgmm_submit_fill(self->fd, bo, 0, size, 0xac));
	active = fdinfo_value(self->fd, "active", "gtt");
	ASSERT_EQ(0, dgmm_gem_wait(self->fd, bo, -1));
	ASSERT_EQ(0, dgmm_engine_mbps(self->old_mbps, NULL));
	self->slowed = false;
	EXPECT_EQ(size, active);
	EXPECT_EQ(0, fdinfo_value(self->fd, "active", "gtt"));
	EXPECT_EQ(size, fdinfo_value(self->fd, "total", "gtt"));
	EXPECT_EQ(0, dgmm_gem_close(self->fd, bo));
}

/* An exported BO is shared; it still counts once in the total. */
TEST_F(fdinfo, exported_bo_is_shared)
{
	struct drm_prime_handle prime = { .flags = DRM_CLOEXEC | DRM_RDWR };
	const __u64 size = 3 * MiB;
	__u32 bo = 0;

	ASSERT_EQ(0, dgmm_gem_create(self->fd, size, G, G, 0, &bo));
	EXPECT_EQ(0, fdinfo_value(self->fd, "shared", "gtt"));
	prime.handle = bo;
	ASSERT_EQ(0, dgmm_ioctl(self->fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime));
	EXPECT_EQ(size, fdinfo_value(self->fd, "shared", "gtt"));
	EXPECT_EQ(size, fdinfo_value(self->fd, "total", "gtt"));
	close(prime.fd);
	EXPECT_EQ(0, dgmm_gem_close(self->fd, bo));
}

TEST_HARNESS_MAIN
