// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * uAPI tests run as an unprivileged user (nobody, uid and gid 65534): each
 * test drops root before it opens anything. The guest gives render nodes the
 * mode Debian's udev rules give them (0666) and leaves primary nodes 0600.
 *
 * - Only render nodes open; primary nodes, module parameters, debugfs and
 *   driver binding do not.
 * - New BOs read as zero, also in memory another unprivileged process filled
 *   and gave back.
 * - Handles and mmap offsets belong to the file that made them: another
 *   client (another open of the same node) can neither name nor map them.
 */

#include <grp.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "dgmm_util.h"

#define NOBODY 65534
#define V DRM_DGMM_DOMAIN_VRAM
#define G DRM_DGMM_DOMAIN_GTT
#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

/* Drops root for good: no supplementary groups, then gid, then uid. */
static int drop_root(void)
{
	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
		return -errno;
	return getuid() == NOBODY && geteuid() == NOBODY ? 0 : -EPERM;
}

FIXTURE(unpriv) {
	int fd[DGMM_MAX_DEVICES];
	int n;
};

FIXTURE_SETUP(unpriv)
{
	if (getuid() != 0 && getuid() != NOBODY)
		SKIP(return, "needs to start as root (to become nobody) or as nobody");
	if (getuid() == 0)
		ASSERT_EQ(0, drop_root());
	self->n = dgmm_open_devices(self->fd, NULL, DGMM_MAX_DEVICES);
	ASSERT_GT(self->n, 0) {
		TH_LOG("nobody cannot open a dgmm render node (mode of /dev/dri/renderD*?)");
	}
}

FIXTURE_TEARDOWN(unpriv)
{
	for (int i = 0; i < self->n; i++)
		close(self->fd[i]);
}

/* What root may do and nobody may not. */
TEST_F(unpriv, privileged_interfaces_refused)
{
	static const char *const writable[] = {
		"/sys/module/dgmm/parameters/engine_mbps",
		"/sys/bus/pci/drivers/dgmm/unbind",
	};
	int cards[DGMM_MAX_DEVICES];

	/* Primary nodes are root's (0600 without udev's seat rules). */
	EXPECT_EQ(0, dgmm_open_cards(cards, DGMM_MAX_DEVICES));
	for (size_t i = 0; i < ARRAY_SIZE(writable); i++) {
		EXPECT_EQ(-1, open(writable[i], O_WRONLY)) {
			TH_LOG("nobody can write %s", writable[i]);
		}
		EXPECT_EQ(EACCES, errno);
	}
	EXPECT_EQ(-1, open("/sys/kernel/debug/dri", O_RDONLY | O_DIRECTORY));
}

/*
 * One unprivileged process fills the free CPU-visible VRAM, and then GTT,
 * and exits; another gets BOs there that must read as zero.
 */
TEST_F(unpriv, reuse_reads_zero)
{
	static const __u32 domains[] = { V, G };

	for (int i = 0; i < self->n; i++) {
		for (size_t d = 0; d < ARRAY_SIZE(domains); d++) {
			struct drm_dgmm_query_regions *r = dgmm_query_regions(self->fd[i]);
			int region = domains[d] == V ? DRM_DGMM_REGION_VRAM : DRM_DGMM_REGION_GTT;
			long long b;
			__u64 size;
			int status;
			pid_t pid;

			ASSERT_NE(NULL, r);
			size = r->regions[region].cpu_visible_size -
			       r->regions[region].cpu_visible_used;
			size = (size / 2) & ~4095ull;
			free(r);
			ASSERT_GT(size, 0);

			pid = fork();
			ASSERT_GE(pid, 0);
			if (pid == 0) {
				/* Its own files: a forked fd is the same DRM client. */
				int own[DGMM_MAX_DEVICES], n;

				n = dgmm_open_devices(own, NULL, DGMM_MAX_DEVICES);
				if (n <= i)
					_exit(1);
				dgmm_fill_and_exit(own[i], domains[d], 2 * size);
			}
			ASSERT_EQ(pid, waitpid(pid, &status, 0));
			ASSERT_TRUE(WIFEXITED(status));
			ASSERT_EQ(0, WEXITSTATUS(status));

			b = dgmm_new_bo_zero_bytes(self->fd[i], domains[d], 2 * size);
			ASSERT_NE(-1, b);
			EXPECT_EQ((long long)(2 * size), b) {
				TH_LOG("domain %u: byte %lld is not zero", domains[d], b);
			}
		}
	}
}

/*
 * Client A's BO, with a secret in it. Client B, another open of the same
 * render node, cannot name it by A's handle, get its mmap offset, or map
 * it at A's offset.
 */
TEST_F(unpriv, clients_are_isolated)
{
	const size_t size = 64 * 1024;

	for (int i = 0; i < self->n; i++) {
		struct drm_dgmm_gem_mmap_offset off = { 0 };
		struct drm_dgmm_gem_info info = { 0 };
		int other[DGMM_MAX_DEVICES], n;
		__u32 handle = 0, *map;
		void *peek;

		ASSERT_EQ(0, dgmm_gem_create(self->fd[i], size, V, V | G,
					     DRM_DGMM_GEM_CPU_ACCESS, &handle));
		map = dgmm_gem_mmap(self->fd[i], handle, size);
		ASSERT_NE(MAP_FAILED, map);
		map[0] = 0x5ec2e7;
		off.handle = handle;
		ASSERT_EQ(0, dgmm_ioctl(self->fd[i], DRM_IOCTL_DGMM_GEM_MMAP_OFFSET, &off));

		n = dgmm_open_devices(other, NULL, DGMM_MAX_DEVICES);
		ASSERT_GT(n, i);

		info.handle = handle;
		EXPECT_EQ(-1, dgmm_ioctl(other[i], DRM_IOCTL_DGMM_GEM_INFO, &info));
		EXPECT_EQ(ENOENT, errno);
		EXPECT_EQ(-ENOENT, dgmm_gem_migrate(other[i], handle, G));
		/* DRM's GEM_CLOSE says -EINVAL for a handle the file does not have. */
		EXPECT_EQ(-EINVAL, dgmm_gem_close(other[i], handle));
		off.offset = 0;
		EXPECT_EQ(-1, dgmm_ioctl(other[i], DRM_IOCTL_DGMM_GEM_MMAP_OFFSET, &off));
		EXPECT_EQ(ENOENT, errno);

		/* A's offset through B's file: DRM refuses the mapping. */
		ASSERT_EQ(0, dgmm_ioctl(self->fd[i], DRM_IOCTL_DGMM_GEM_MMAP_OFFSET, &off));
		peek = mmap(NULL, size, PROT_READ, MAP_SHARED, other[i], off.offset);
		EXPECT_EQ(MAP_FAILED, peek);
		if (peek != MAP_FAILED)
			munmap(peek, size);

		/* A's BO is untouched. */
		EXPECT_EQ(0x5ec2e7, LOAD(map[0]));
		munmap(map, size);
		dgmm_gem_close(self->fd[i], handle);
		for (int k = 0; k < n; k++)
			close(other[k]);
	}
}

TEST_HARNESS_MAIN
