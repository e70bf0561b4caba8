// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Hot unplug from userspace: unbind a dgmm device from its driver while a
 * client holds its render node open. The client's ioctls must fail with
 * -ENODEV, closing must be clean, and a rebind must give a working device.
 * Needs root (it writes to /sys/bus/pci/drivers/dgmm/{unbind,bind}).
 */

#include <limits.h>
#include <libgen.h>
#include <poll.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/sync_file.h>

#include "kselftest_harness.h"
#include "dgmm_util.h"

#define DRIVER_DIR "/sys/bus/pci/drivers/dgmm"

static int write_sysfs(const char *file, const char *value)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), DRIVER_DIR "/%s", file);
	return dgmm_write_file(path, value);
}

static bool is_bound(const char *pci)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), DRIVER_DIR "/%s", pci);
	return access(path, F_OK) == 0;
}

static int set_engine_mbps(unsigned int mbps)
{
	char v[16];

	snprintf(v, sizeof(v), "%u", mbps);
	return dgmm_write_file("/sys/module/dgmm/parameters/engine_mbps", v);
}

FIXTURE(unbind) {
	int fd;
	char pci[64];
};

FIXTURE_SETUP(unbind)
{
	char path[PATH_MAX], link[PATH_MAX];
	int minor;
	ssize_t len;

	self->fd = -1;
	self->pci[0] = '\0';
	if (geteuid() != 0)
		SKIP(return, "needs root to unbind");
	if (dgmm_open_devices(&self->fd, &minor, 1) != 1)
		SKIP(return, "no dgmm render node");

	snprintf(path, sizeof(path), "/sys/class/drm/renderD%d/device", minor);
	len = readlink(path, link, sizeof(link) - 1);
	ASSERT_GT(len, 0);
	link[len] = '\0';
	snprintf(self->pci, sizeof(self->pci), "%s", basename(link));
	ASSERT_TRUE(is_bound(self->pci));
}

FIXTURE_TEARDOWN(unbind)
{
	if (self->fd >= 0)
		close(self->fd);
	/* Whatever happened, leave the device bound and fast for the next tests. */
	set_engine_mbps(0);
	if (self->pci[0] && !is_bound(self->pci))
		write_sysfs("bind", self->pci);
}

TEST_F(unbind, ioctls_fail_after_unbind)
{
	struct drm_dgmm_device_query q = { .query = DRM_DGMM_QUERY_REGIONS };

	ASSERT_EQ(0, dgmm_ioctl(self->fd, DRM_IOCTL_DGMM_DEVICE_QUERY, &q));

	ASSERT_EQ(0, write_sysfs("unbind", self->pci));
	ASSERT_FALSE(is_bound(self->pci));

	q.size = 0;
	errno = 0;
	EXPECT_EQ(-1, dgmm_ioctl(self->fd, DRM_IOCTL_DGMM_DEVICE_QUERY, &q));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(0, q.size);

	EXPECT_EQ(0, close(self->fd));
	self->fd = -1;

	ASSERT_EQ(0, write_sysfs("bind", self->pci));
	ASSERT_TRUE(is_bound(self->pci));
}

/* A mapping held across unbind faults in a dummy page instead of the BAR. */
TEST_F(unbind, mapping_survives_unbind)
{
	const size_t size = 64 * 1024;
	__u32 handle = 0;
	__u32 *map;

	ASSERT_EQ(0, dgmm_gem_create(self->fd, size, DRM_DGMM_DOMAIN_VRAM,
				     DRM_DGMM_DOMAIN_VRAM, DRM_DGMM_GEM_CPU_ACCESS, &handle));
	map = dgmm_gem_mmap(self->fd, handle, size);
	ASSERT_NE(MAP_FAILED, map);
	map[0] = 42;

	ASSERT_EQ(0, write_sysfs("unbind", self->pci));
	/* Reads and writes land in the dummy page; nothing crashes. */
	map[1] = 7;
	(void)__atomic_load_n(&map[size / 4 - 1], __ATOMIC_RELAXED);
	EXPECT_EQ(-ENODEV, dgmm_gem_migrate(self->fd, handle, DRM_DGMM_DOMAIN_VRAM));
	munmap(map, size);
	EXPECT_EQ(0, close(self->fd));
	self->fd = -1;

	ASSERT_EQ(0, write_sysfs("bind", self->pci));
	ASSERT_TRUE(is_bound(self->pci));
}

/*
 * Unbind while the engine is still copying: slow the engine to 4 MiB/s so
 * that moving 16 MiB takes about 4 s, unbind right after asking, then close.
 * The copy that was running is failed with -ENODEV (its fence, seen through
 * the BO's dma-buf, signals with that error): it is neither left hanging
 * nor passed off as done. Nothing crashes, leaks or hangs.
 */
TEST_F(unbind, copy_in_flight)
{
	const size_t size = 16 * 1024 * 1024;
	struct drm_prime_handle prime = { .flags = DRM_CLOEXEC | DRM_RDWR };
	struct dma_buf_export_sync_file sync = { .flags = DMA_BUF_SYNC_RW };
	struct sync_file_info info = { 0 };
	struct pollfd pfd = { .events = POLLIN };
	__u32 handle = 0;

	ASSERT_EQ(0, dgmm_gem_create(self->fd, size, DRM_DGMM_DOMAIN_VRAM,
				     DRM_DGMM_DOMAIN_VRAM | DRM_DGMM_DOMAIN_GTT, 0, &handle));
	ASSERT_EQ(0, dgmm_gem_wait(self->fd, handle, -1));
	prime.handle = handle;
	ASSERT_EQ(0, dgmm_ioctl(self->fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime));
	ASSERT_EQ(0, set_engine_mbps(4));
	ASSERT_EQ(0, dgmm_gem_migrate(self->fd, handle, DRM_DGMM_DOMAIN_GTT));
	EXPECT_EQ(-ETIME, dgmm_gem_wait(self->fd, handle, 0));
	/* The BO's unsignalled fences: the running copy's. */
	ASSERT_EQ(0, ioctl(prime.fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &sync));

	EXPECT_EQ(0, write_sysfs("unbind", self->pci));
	EXPECT_EQ(0, set_engine_mbps(0));
	EXPECT_EQ(-ENODEV, dgmm_gem_migrate(self->fd, handle, DRM_DGMM_DOMAIN_VRAM));

	pfd.fd = sync.fd;
	EXPECT_EQ(1, poll(&pfd, 1, 10000));
	ASSERT_EQ(0, ioctl(sync.fd, SYNC_IOC_FILE_INFO, &info));
	EXPECT_EQ(-ENODEV, info.status);
	close(sync.fd);
	close(prime.fd);

	EXPECT_EQ(0, close(self->fd));
	self->fd = -1;

	ASSERT_EQ(0, write_sysfs("bind", self->pci));
	ASSERT_TRUE(is_bound(self->pci));
}

static int module_refcnt(void)
{
	return dgmm_read_number("/sys/module/dgmm/refcnt");
}

/*
 * A fence of the device's copy engine, taken out through a BO's dma-buf as
 * a sync_file while its job runs, outlives the device: after the unbind,
 * with every file and dma-buf closed, it still names its driver and
 * timeline (the scheduler it names is kept for it), and the module stays in
 * use, one reference more than before the unbind, until it is let go.
 */
TEST_F(unbind, fence_outlives_device)
{
	struct dma_buf_export_sync_file sync = { .flags = DMA_BUF_SYNC_READ };
	struct sync_fence_info fence = { 0 };
	struct sync_file_info info = { 0 };
	struct pollfd pfd = { .events = POLLIN };
	unsigned int old_mbps = 0;
	int buf, before, held, released = -1;
	__u32 handle = 0;

	ASSERT_EQ(0, dgmm_gem_create(self->fd, 2 << 20, DRM_DGMM_DOMAIN_VRAM,
				     DRM_DGMM_DOMAIN_VRAM | DRM_DGMM_DOMAIN_GTT, 0, &handle));
	ASSERT_EQ(0, dgmm_gem_wait(self->fd, handle, -1));
	buf = dgmm_prime_export(self->fd, handle);
	ASSERT_GE(buf, 0);
	/* A fill that is still running (0.5 s) when its fence is taken out. */
	ASSERT_EQ(0, dgmm_engine_mbps(4, &old_mbps));
	ASSERT_EQ(0, dgmm_submit_fill(self->fd, handle, 0, 2 << 20, 0x3c));
	ASSERT_EQ(0, ioctl(buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &sync));
	pfd.fd = sync.fd;
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	EXPECT_EQ(1, poll(&pfd, 1, 20000));
	EXPECT_EQ(0, dgmm_engine_mbps(old_mbps, NULL));
	close(buf);
	dgmm_gem_close(self->fd, handle);
	close(self->fd);
	self->fd = -1;

	before = module_refcnt();
	ASSERT_EQ(0, write_sysfs("unbind", self->pci));
	held = module_refcnt();
	EXPECT_EQ(before + 1, held);
	info.num_fences = 1;
	info.sync_fence_info = (__u64)(uintptr_t)&fence;
	ASSERT_EQ(0, ioctl(sync.fd, SYNC_IOC_FILE_INFO, &info));
	ASSERT_EQ(1, info.num_fences);
	EXPECT_STREQ("drm_sched", fence.driver_name);
	EXPECT_STREQ("dgmm-copy", fence.obj_name);
	EXPECT_EQ(1, fence.status);
	close(sync.fd);

	/* The scheduler's home and the module reference go after a grace period. */
	for (int i = 0; i < 50; i++) {
		released = module_refcnt();
		if (released < held)
			break;
		usleep(100 * 1000);
	}
	EXPECT_EQ(before, released);
	ASSERT_EQ(0, write_sysfs("bind", self->pci));
	ASSERT_TRUE(is_bound(self->pci));
}

/*
 * Another process queues a fill of @buf behind a user's fence (sw_sync) and
 * exits: the scheduler kills the job, whose fence fails with -ESRCH and
 * stays in @buf's reservation. Returns false without sw_sync.
 */
static bool killed_job_in(struct __test_metadata *_metadata, int buf)
{
	struct dma_buf_export_sync_file sync = { .flags = DMA_BUF_SYNC_READ };
	int timeline = open(SW_SYNC_PATH, O_RDWR), go[2], status;
	struct pollfd pfd = { .events = POLLIN };
	pid_t child;
	char c;

	if (timeline < 0)
		return false;
	ASSERT_EQ(0, dgmm_user_fence_into(timeline, buf));
	ASSERT_EQ(0, pipe(go));
	child = fork();
	ASSERT_GE(child, 0);
	if (!child) {
		__u32 handle = 0;
		int fd = -1;

		if (dgmm_open_devices(&fd, NULL, 1) != 1 || dgmm_prime_import(fd, buf, &handle) ||
		    dgmm_submit_fill(fd, handle, 0, 4096, 0x6e) || write(go[1], "q", 1) != 1)
			_exit(1);
		_exit(0);	/* the job still queued */
	}
	close(go[1]);
	ASSERT_EQ(1, read(go[0], &c, 1));
	close(go[0]);
	ASSERT_EQ(0, ioctl(buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &sync));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_EQ(0, status);
	close(timeline);	/* the user's fence signals; the killed job's ends */
	pfd.fd = sync.fd;
	EXPECT_EQ(1, poll(&pfd, 1, 20000));
	close(sync.fd);
	return true;
}

/*
 * A foreign buffer (a system dma-heap buffer) the device wrote keeps the
 * device's fences in its reservation for as long as it lives, a killed
 * job's failed one too (with sw_sync); once the device's imports of it are
 * gone, they must not keep the module: after the unbind the module has no
 * more references than before it.
 */
TEST_F(unbind, idle_foreign_buffer_does_not_hold_module)
{
	int buf = dgmm_heap_buffer(1 << 20), before, after;
	__u32 handle = 0;

	if (buf == -ENODEV)
		SKIP(return, "no %s (CONFIG_DMABUF_HEAPS_SYSTEM)", DGMM_HEAP_PATH);
	ASSERT_GE(buf, 0);
	ASSERT_EQ(0, dgmm_prime_import(self->fd, buf, &handle));
	ASSERT_EQ(0, dgmm_submit_fill(self->fd, handle, 0, 1 << 20, 0x6d));
	ASSERT_EQ(0, dgmm_gem_wait(self->fd, handle, -1));
	dgmm_gem_close(self->fd, handle);
	close(self->fd);
	self->fd = -1;
	if (!killed_job_in(_metadata, buf))
		TH_LOG("no %s: no killed job's fence in the buffer", SW_SYNC_PATH);

	before = module_refcnt();
	ASSERT_EQ(0, write_sysfs("unbind", self->pci));
	after = module_refcnt();
	EXPECT_EQ(before, after);
	close(buf);
	ASSERT_EQ(0, write_sysfs("bind", self->pci));
	ASSERT_TRUE(is_bound(self->pci));
}

/* A new file of the device bound to @pci; -1 if none. */
static int open_pci(const char *pci)
{
	int fds[DGMM_MAX_DEVICES], n = dgmm_open_devices(fds, NULL, DGMM_MAX_DEVICES), fd = -1;
	char name[64];

	for (int i = 0; i < n; i++) {
		if (fd < 0 && !dgmm_pci_name(fds[i], name, sizeof(name)) && !strcmp(name, pci))
			fd = fds[i];
		else
			close(fds[i]);
	}
	return fd;
}

/*
 * An import of a foreign buffer (a system dma-heap buffer, which is mapped
 * for the device when it is attached) lets go of it at the unbind, while
 * its file still holds it: no mapping stays for the device that is gone.
 * The rebound device imports the buffer afresh (one attachment, no
 * overlapping mapping) and writes it.
 */
TEST_F(unbind, import_detached_at_unbind)
{
	struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
	int buf = dgmm_heap_buffer(1 << 20), fd = -1;
	__u32 handle = 0, again = 0;
	__u8 *map;
	long errors;

	if (buf == -ENODEV)
		SKIP(return, "no %s (CONFIG_DMABUF_HEAPS_SYSTEM)", DGMM_HEAP_PATH);
	ASSERT_GE(buf, 0);
	if (dgmm_dmabuf_attachments(buf) != 0)
		SKIP(return, "no /sys/kernel/debug/dma_buf/bufinfo to count attachments");
	errors = dgmm_dma_api_errors();
	ASSERT_EQ(0, dgmm_prime_import(self->fd, buf, &handle));
	ASSERT_EQ(0, dgmm_submit_fill(self->fd, handle, 0, 1 << 20, 0x21));
	ASSERT_EQ(0, dgmm_gem_wait(self->fd, handle, -1));
	EXPECT_EQ(1, dgmm_dmabuf_attachments(buf));

	ASSERT_EQ(0, write_sysfs("unbind", self->pci));
	EXPECT_EQ(0, dgmm_dmabuf_attachments(buf));
	ASSERT_EQ(0, write_sysfs("bind", self->pci));
	ASSERT_TRUE(is_bound(self->pci));

	/* Not the first node: the old device keeps its minor while self->fd is open. */
	fd = open_pci(self->pci);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, dgmm_prime_import(fd, buf, &again));
	EXPECT_EQ(1, dgmm_dmabuf_attachments(buf));
	ASSERT_EQ(0, dgmm_submit_fill(fd, again, 0, 1 << 20, 0x43));
	ASSERT_EQ(0, dgmm_gem_wait(fd, again, -1));
	map = mmap(NULL, 1 << 20, PROT_READ, MAP_SHARED, buf, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, ioctl(buf, DMA_BUF_IOCTL_SYNC, &sync));
	EXPECT_EQ(0x43, map[0]);
	EXPECT_EQ(0x43, map[(1 << 20) - 1]);
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	EXPECT_EQ(0, ioctl(buf, DMA_BUF_IOCTL_SYNC, &sync));
	munmap(map, 1 << 20);
	if (errors >= 0)
		EXPECT_EQ(errors, dgmm_dma_api_errors());
	dgmm_gem_close(fd, again);
	close(fd);
	close(buf);
}

TEST_F(unbind, rebound_device_works)
{
	struct drm_dgmm_query_regions *r;
	int fds[DGMM_MAX_DEVICES], n;

	ASSERT_EQ(0, write_sysfs("unbind", self->pci));
	ASSERT_EQ(0, write_sysfs("bind", self->pci));
	ASSERT_TRUE(is_bound(self->pci));

	/* The file opened before the unbind belongs to the old device. */
	r = dgmm_query_regions(self->fd);
	EXPECT_EQ(NULL, r);
	EXPECT_EQ(ENODEV, errno);

	n = dgmm_open_devices(fds, NULL, DGMM_MAX_DEVICES);
	ASSERT_GT(n, 0);
	for (int i = 0; i < n; i++) {
		r = dgmm_query_regions(fds[i]);
		ASSERT_NE(NULL, r);
		EXPECT_EQ(3, r->num_regions);
		free(r);
		close(fds[i]);
	}
}

TEST_HARNESS_MAIN
