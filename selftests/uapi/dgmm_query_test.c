// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * uAPI tests of the dgmm device: DRM_IOCTL_VERSION on each render node, and
 * DRM_IOCTL_DGMM_DEVICE_QUERY: its answers against sysfs and the module
 * parameters, and each of its rejections.
 *
 * DGMM_EXPECT_DEVICES=N in the environment makes the device count a check;
 * without it a machine with no dgmm device skips.
 */

#include <stddef.h>

#include "kselftest_harness.h"
#include "dgmm_util.h"

static const size_t regions_size =
	sizeof(struct drm_dgmm_query_regions) + 3 * sizeof(struct drm_dgmm_region_info);

static long read_param(const char *name)
{
	char path[128];
	long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/dgmm/parameters/%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &val) != 1)
		val = -1;
	fclose(f);
	return val;
}

/* Size of BAR @bar of the PCI device behind render node @minor, 0 if unknown. */
static __u64 bar_size(int minor, int bar)
{
	unsigned long long start, end, flags;
	char path[128];
	__u64 size = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/drm/renderD%d/device/resource", minor);
	f = fopen(path, "r");
	if (!f)
		return 0;
	for (int i = 0; i <= bar; i++) {
		if (fscanf(f, "%llx %llx %llx", &start, &end, &flags) != 3)
			goto out;
	}
	size = end ? end - start + 1 : 0;
out:
	fclose(f);
	return size;
}

static int query(int fd, struct drm_dgmm_device_query *q)
{
	return dgmm_ioctl(fd, DRM_IOCTL_DGMM_DEVICE_QUERY, q) ? -errno : 0;
}

TEST(device_count)
{
	const char *expect = getenv("DGMM_EXPECT_DEVICES");
	int fds[DGMM_MAX_DEVICES], n;

	n = dgmm_open_devices(fds, NULL, DGMM_MAX_DEVICES);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	if (!expect)
		SKIP(return, "DGMM_EXPECT_DEVICES not set (found %d)", n);
	ASSERT_EQ(atoi(expect), n);
}

FIXTURE(dev) {
	int fd[DGMM_MAX_DEVICES];
	int minor[DGMM_MAX_DEVICES];
	int n;
};

FIXTURE_SETUP(dev)
{
	self->n = dgmm_open_devices(self->fd, self->minor, DGMM_MAX_DEVICES);
	if (!self->n)
		SKIP(return, "no dgmm render node");
}

FIXTURE_TEARDOWN(dev)
{
	for (int i = 0; i < self->n; i++)
		close(self->fd[i]);
}

TEST_F(dev, version)
{
	for (int i = 0; i < self->n; i++) {
		char name[32] = "", desc[128] = "", date[32] = "";
		struct drm_version v = {
			.name = name, .name_len = sizeof(name) - 1,
			.desc = desc, .desc_len = sizeof(desc) - 1,
			.date = date, .date_len = sizeof(date) - 1,
		};

		ASSERT_EQ(0, dgmm_ioctl(self->fd[i], DRM_IOCTL_VERSION, &v));
		EXPECT_STREQ("dgmm", name);
		EXPECT_EQ(4, v.name_len);
		EXPECT_NE(0, v.desc_len);
	}
}

TEST_F(dev, query_size)
{
	for (int i = 0; i < self->n; i++) {
		struct drm_dgmm_device_query q = { .query = DRM_DGMM_QUERY_REGIONS };

		ASSERT_EQ(0, query(self->fd[i], &q));
		EXPECT_EQ(regions_size, q.size);
	}
}

TEST_F(dev, query_regions)
{
	long visible_mb = read_param("vram_visible_mb");
	long gtt_mb = read_param("gtt_size_mb");

	ASSERT_GE(visible_mb, 0);
	ASSERT_GT(gtt_mb, 0);

	for (int i = 0; i < self->n; i++) {
		struct drm_dgmm_query_regions *r = dgmm_query_regions(self->fd[i]);
		__u64 bar = bar_size(self->minor[i], 2);
		__u64 want;
		const struct drm_dgmm_region_info *sys, *gtt, *vram;

		ASSERT_NE(NULL, r);
		ASSERT_EQ(3, r->num_regions);
		EXPECT_EQ(0, r->pad);
		sys = &r->regions[0];
		gtt = &r->regions[1];
		vram = &r->regions[2];
		EXPECT_EQ(DRM_DGMM_REGION_SYSTEM, sys->region);
		EXPECT_EQ(DRM_DGMM_REGION_GTT, gtt->region);
		EXPECT_EQ(DRM_DGMM_REGION_VRAM, vram->region);

		for (int j = 0; j < 3; j++) {
			const struct drm_dgmm_region_info *info = &r->regions[j];

			EXPECT_EQ(0, info->pad);
			for (int k = 0; k < 3; k++)
				EXPECT_EQ(0, info->reserved[k]);
			EXPECT_NE(0, info->size);
			EXPECT_LE(info->cpu_visible_size, info->size);
			EXPECT_LE(info->used, info->size);
			EXPECT_LE(info->cpu_visible_used, info->cpu_visible_size);
			EXPECT_LE(info->cpu_visible_used, info->used);
		}

		/* VRAM is the BAR; the window is the parameter, or all of it. */
		ASSERT_NE(0, bar);
		EXPECT_EQ(bar, vram->size);
		want = (__u64)visible_mb << 20;
		if (!want || want > bar)
			want = bar;
		EXPECT_EQ(want, vram->cpu_visible_size);

		/* GTT is the parameter, capped at the machine's RAM. */
		want = (__u64)gtt_mb << 20;
		if (want > sys->size)
			want = sys->size;
		EXPECT_EQ(want, gtt->size);
		EXPECT_EQ(gtt->size, gtt->cpu_visible_size);
		EXPECT_EQ(sys->size, sys->cpu_visible_size);
		free(r);
	}
}

/* A buffer larger than the answer: only the answer is written. */
TEST_F(dev, query_larger_buffer)
{
	unsigned char buf[1024];

	ASSERT_LT(regions_size, sizeof(buf));
	for (int i = 0; i < self->n; i++) {
		struct drm_dgmm_device_query q = {
			.query = DRM_DGMM_QUERY_REGIONS,
			.size = sizeof(buf),
			.data = (uintptr_t)buf,
		};

		memset(buf, 0xa5, sizeof(buf));
		ASSERT_EQ(0, query(self->fd[i], &q));
		EXPECT_EQ(regions_size, q.size);
		EXPECT_EQ(3, ((struct drm_dgmm_query_regions *)buf)->num_regions);
		for (size_t j = regions_size; j < sizeof(buf); j++)
			ASSERT_EQ(0xa5, buf[j]);
	}
}

TEST_F(dev, reject_unknown_query)
{
	static const __u32 bad[] = { DRM_DGMM_QUERY_REGIONS + 1, 0x80000000u, ~0u };

	for (int i = 0; i < self->n; i++) {
		for (size_t j = 0; j < ARRAY_SIZE(bad); j++) {
			struct drm_dgmm_device_query q = { .query = bad[j] };

			EXPECT_EQ(-EINVAL, query(self->fd[i], &q));
		}
	}
}

TEST_F(dev, reject_flags)
{
	static const __u32 bad[] = { 1, 0x80000000u, ~0u };

	for (int i = 0; i < self->n; i++) {
		for (size_t j = 0; j < ARRAY_SIZE(bad); j++) {
			struct drm_dgmm_device_query q = {
				.query = DRM_DGMM_QUERY_REGIONS, .flags = bad[j],
			};

			EXPECT_EQ(-EINVAL, query(self->fd[i], &q));
			EXPECT_EQ(0, q.size);
		}
	}
}

TEST_F(dev, reject_pad)
{
	for (int i = 0; i < self->n; i++) {
		struct drm_dgmm_device_query q = {
			.query = DRM_DGMM_QUERY_REGIONS, .pad = 1,
		};

		EXPECT_EQ(-EINVAL, query(self->fd[i], &q));
		EXPECT_EQ(0, q.size);
	}
}

/* A buffer too small for the answer is refused and left untouched. */
TEST_F(dev, reject_small_size)
{
	const __u32 bad[] = { 1, sizeof(struct drm_dgmm_query_regions),
			      regions_size - 1 };
	unsigned char buf[1024];

	for (int i = 0; i < self->n; i++) {
		for (size_t j = 0; j < ARRAY_SIZE(bad); j++) {
			struct drm_dgmm_device_query q = {
				.query = DRM_DGMM_QUERY_REGIONS,
				.size = bad[j],
				.data = (uintptr_t)buf,
			};

			memset(buf, 0xa5, sizeof(buf));
			EXPECT_EQ(-EINVAL, query(self->fd[i], &q));
			EXPECT_EQ(bad[j], q.size);
			for (size_t k = 0; k < sizeof(buf); k++)
				ASSERT_EQ(0xa5, buf[k]);
		}
	}
}

TEST_F(dev, reject_bad_pointer)
{
	static const __u64 bad[] = { 0, 8, ~0ull & ~0xfffull, 0xffff800000000000ull };

	for (int i = 0; i < self->n; i++) {
		for (size_t j = 0; j < ARRAY_SIZE(bad); j++) {
			struct drm_dgmm_device_query q = {
				.query = DRM_DGMM_QUERY_REGIONS,
				.size = regions_size,
				.data = bad[j],
			};

			EXPECT_EQ(-EFAULT, query(self->fd[i], &q));
		}
	}
}

/*
 * ABI: the DRM core zero-extends an older, smaller struct and ignores the
 * tail of a newer, larger one (as long as the tail is zero).
 */
struct query_v0 {
	__u32 query;
	__u32 flags;
	__u32 size;
	__u32 pad;
};

struct query_next {
	struct drm_dgmm_device_query q;
	__u64 future;
};

#define IOCTL_QUERY_V0 \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_DGMM_DEVICE_QUERY, struct query_v0)
#define IOCTL_QUERY_NEXT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_DGMM_DEVICE_QUERY, struct query_next)

TEST_F(dev, abi_smaller_struct)
{
	for (int i = 0; i < self->n; i++) {
		struct query_v0 q = { .query = DRM_DGMM_QUERY_REGIONS };

		ASSERT_EQ(0, dgmm_ioctl(self->fd[i], IOCTL_QUERY_V0, &q));
		EXPECT_EQ(regions_size, q.size);

		/* data reads as 0: asking for the answer itself faults. */
		errno = 0;
		EXPECT_EQ(-1, dgmm_ioctl(self->fd[i], IOCTL_QUERY_V0, &q));
		EXPECT_EQ(EFAULT, errno);
	}
}

TEST_F(dev, abi_larger_struct)
{
	for (int i = 0; i < self->n; i++) {
		struct query_next n = { .q.query = DRM_DGMM_QUERY_REGIONS };

		ASSERT_EQ(0, dgmm_ioctl(self->fd[i], IOCTL_QUERY_NEXT, &n));
		EXPECT_EQ(regions_size, n.q.size);
		EXPECT_EQ(0, n.future);
	}
}

TEST_HARNESS_MAIN
