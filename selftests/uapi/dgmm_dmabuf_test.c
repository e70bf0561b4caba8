// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * dma-buf sharing seen from userspace: device 0 exports a BO, device 1
 * imports it and runs copy and fill jobs on it, while device 0 moves it;
 * every byte is checked on both sides. Also: importing into the exporting
 * device gives back the same BO; the dma-buf's own mmap follows the BO's
 * moves; an exporter that closed its last handle still tells the importer
 * of moves; foreign dma-bufs (udmabuf, the system dma-heap) import and take
 * device jobs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <linux/dma-buf.h>
#include <linux/udmabuf.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "dgmm_util.h"

#define MiB (1024ull * 1024)
#define V DRM_DGMM_DOMAIN_VRAM
#define G DRM_DGMM_DOMAIN_GTT
#define S DRM_DGMM_DOMAIN_SYSTEM
#define SIZE (2 * MiB)

/* One device job copying @size bytes from @src to @dst; 0 or -errno. */
static int submit_copy(int fd, __u32 dst, __u32 src, __u64 size)
{
	struct drm_dgmm_job_op op = {
		.op = DRM_DGMM_OP_COPY, .dst_handle = dst, .src_handle = src, .size = size,
	};
	struct drm_dgmm_submit s = { .ops = (__u64)(uintptr_t)&op, .num_ops = 1 };

	return dgmm_ioctl(fd, DRM_IOCTL_DGMM_SUBMIT, &s) ? -errno : 0;
}

static __u32 domain_of(int fd, __u32 handle)
{
	struct drm_dgmm_gem_info info;

	return dgmm_gem_info(fd, handle, &info) ? 0 : info.domain;
}

/*
 * Does the kernel have CONFIG_DMABUF_MOVE_NOTIFY (debugfs says)? Without
 * it dma-buf.c pins the exporter's BO for every importer's mapping.
 */
static bool move_notify_kernel(int fd)
{
	return dgmm_debugfs_stat(fd, "dmabuf_move_notify") == 1;
}

static __u32 pin_count_of(int fd, __u32 handle)
{
	struct drm_dgmm_gem_info info;

	return dgmm_gem_info(fd, handle, &info) ? 0 : info.pin_count;
}

/* Writes the pattern of @seed into a BO through its GEM mmap. */
static int write_pattern(int fd, __u32 handle, size_t size, __u32 seed)
{
	__u32 *map = dgmm_gem_mmap(fd, handle, size);

	if (map == MAP_FAILED)
		return -1;
	for (size_t w = 0; w < size / 4; w++)
		map[w] = dgmm_pattern(seed, w);
	munmap(map, size);
	return 0;
}

/* The first word of a mapping that is not the pattern of @seed, or words. */
static size_t check_pattern(const __u32 *map, size_t size, __u32 seed)
{
	for (size_t w = 0; w < size / 4; w++)
		if (map[w] != dgmm_pattern(seed, w))
			return w;
	return size / 4;
}

/* The first word from @from on that is not the pattern of @seed, or @words. */
static size_t first_bad_from(const __u32 *map, size_t from, size_t words, __u32 seed)
{
	for (size_t w = from; w < words; w++)
		if (map[w] != dgmm_pattern(seed, w))
			return w;
	return words;
}

/* The first byte of a mapping that is not @value, or @size. */
static size_t check_bytes(const __u8 *map, size_t size, __u8 value)
{
	for (size_t i = 0; i < size; i++)
		if (map[i] != value)
			return i;
	return size;
}

/*
 * Reads what device 1 sees of its imported BO @y: it copies it into a BO
 * of its own VRAM and checks that against the pattern of @seed.
 */
static size_t importer_reads(int fd, __u32 y, size_t size, __u32 seed)
{
	__u32 z = 0, *map;
	size_t bad;

	if (dgmm_gem_create(fd, size, V, V | G, 0, &z))
		return 0;
	if (submit_copy(fd, z, y, size) || dgmm_gem_wait(fd, z, -1)) {
		dgmm_gem_close(fd, z);
		return 0;
	}
	map = dgmm_gem_mmap(fd, z, size);
	if (map == MAP_FAILED) {
		dgmm_gem_close(fd, z);
		return 0;
	}
	bad = check_pattern(map, size, seed);
	munmap(map, size);
	dgmm_gem_close(fd, z);
	return bad;
}

/* A new file of the first dgmm device (the fixture's device 0). */
static int open_first_device(void)
{
	int fds[DGMM_MAX_DEVICES], n = dgmm_open_devices(fds, NULL, DGMM_MAX_DEVICES);

	for (int i = 1; i < n; i++)
		close(fds[i]);
	return n >= 1 ? fds[0] : -1;
}

/*
 * Device 0's BO of SIZE bytes (@preferred, @allowed) holding the pattern of
 * @seed, exported, and imported into device 1, which reads it once (so its
 * mapping is made). Returns the dma-buf's fd; a failure ends the test.
 */
static int shared_bo(struct __test_metadata *_metadata, int a, int b, __u32 preferred,
		     __u32 allowed, __u32 seed, __u32 *x, __u32 *y)
{
	int buf;

	ASSERT_EQ(0, dgmm_gem_create(a, SIZE, preferred, allowed, 0, x));
	ASSERT_EQ(0, write_pattern(a, *x, SIZE, seed));
	buf = dgmm_prime_export(a, *x);
	ASSERT_GE(buf, 0);
	ASSERT_EQ(0, dgmm_prime_import(b, buf, y));
	ASSERT_EQ(SIZE / 4, importer_reads(b, *y, SIZE, seed));
	return buf;
}

/* Closes what shared_bo() made: the import, the dma-buf, the BO. */
static void unshare(int a, int b, __u32 x, __u32 y, int buf)
{
	dgmm_gem_close(b, y);
	close(buf);
	dgmm_gem_close(a, x);
}

#define DRIVER_DIR "/sys/bus/pci/drivers/dgmm"

static int bind_device(const char *pci, bool bind)
{
	return dgmm_write_file(bind ? DRIVER_DIR "/bind" : DRIVER_DIR "/unbind", pci);
}

/* Binds every ivshmem-plain function (1af4:1110) that has no driver. */
static void bind_all(void)
{
	DIR *d = opendir("/sys/bus/pci/devices");

	for (struct dirent *e; d && (e = readdir(d));) {
		char path[PATH_MAX], id[32] = "";
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/modalias", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(id, sizeof(id), f) && !strncmp(id, "pci:v00001AF4d00001110", 22)) {
			snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", e->d_name);
			if (access(path, F_OK))
				bind_device(e->d_name, true);
		}
		fclose(f);
	}
	if (d)
		closedir(d);
}

FIXTURE(share) {
	int a, b;
};

FIXTURE_SETUP(share)
{
	int fds[DGMM_MAX_DEVICES], n, i;

	self->a = -1;
	self->b = -1;
	n = dgmm_open_devices(fds, NULL, DGMM_MAX_DEVICES);
	if (n < 2) {
		for (i = 0; i < n; i++)
			close(fds[i]);
		SKIP(return, "sharing needs two dgmm devices, found %d", n < 0 ? 0 : n);
	}
	for (i = 2; i < n; i++)
		close(fds[i]);
	self->a = fds[0];
	self->b = fds[1];
}

FIXTURE_TEARDOWN(share)
{
	if (self->a >= 0)
		close(self->a);
	if (self->b >= 0)
		close(self->b);
	/* Whatever a test unbound, the next tests find it bound. */
	if (!geteuid())
		bind_all();
}

/*
 * A dgmm BO imported into its own device is the same BO: the same handle
 * in the same file, and in another file a handle that sees its moves.
 */
TEST_F(share, import_into_own_device_is_same_bo)
{
	struct drm_dgmm_gem_info info;
	__u32 x = 0, again = 0, other_handle = 0;
	int buf, other;

	ASSERT_EQ(0, dgmm_gem_create(self->a, SIZE, V, V | G, 0, &x));
	buf = dgmm_prime_export(self->a, x);
	ASSERT_GE(buf, 0);
	ASSERT_EQ(0, dgmm_prime_import(self->a, buf, &again));
	EXPECT_EQ(x, again);

	other = open_first_device();
	ASSERT_GE(other, 0);
	ASSERT_EQ(0, dgmm_prime_import(other, buf, &other_handle));
	ASSERT_EQ(0, dgmm_gem_migrate(self->a, x, G));
	ASSERT_EQ(0, dgmm_gem_info(other, other_handle, &info));
	EXPECT_EQ(G, info.domain);
	EXPECT_EQ((__u64)SIZE, info.size);
	ASSERT_EQ(0, dgmm_gem_migrate(other, other_handle, V));
	EXPECT_EQ(V, domain_of(self->a, x));
	close(other);
	close(buf);
	dgmm_gem_close(self->a, x);
}

/*
 * Device 1 reads what device 0 wrote and writes what device 0 then reads,
 * with jobs on its own engine through the DMA addresses of its attachment.
 * Without peer-to-peer the exporter serves the importer from GTT.
 */
TEST_F(share, second_device_reads_and_writes)
{
	const size_t off = 64 * 1024, len = 128 * 1024;
	struct drm_dgmm_gem_info info;
	__u32 x = 0, y = 0;
	__u8 *map;
	int buf;

	ASSERT_EQ(0, dgmm_gem_create(self->a, SIZE, V, V | G, 0, &x));
	ASSERT_EQ(0, write_pattern(self->a, x, SIZE, 0xa11));
	buf = dgmm_prime_export(self->a, x);
	ASSERT_GE(buf, 0);
	ASSERT_EQ(0, dgmm_prime_import(self->b, buf, &y));
	ASSERT_EQ(0, dgmm_gem_info(self->b, y, &info));
	EXPECT_EQ((__u64)SIZE, info.size);
	EXPECT_EQ(G | S, info.allowed_domains);

	EXPECT_EQ(SIZE / 4, importer_reads(self->b, y, SIZE, 0xa11));
	EXPECT_EQ(G, domain_of(self->b, y));

	/* Device 1 writes part of it; device 0 sees exactly that part change. */
	ASSERT_EQ(0, dgmm_submit_fill(self->b, y, off, len, 0x5c));
	ASSERT_EQ(0, dgmm_gem_wait(self->b, y, -1));
	map = dgmm_gem_mmap(self->a, x, SIZE);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(off / 4, check_pattern((__u32 *)map, off, 0xa11));
	EXPECT_EQ(len, check_bytes(map + off, len, 0x5c));
	EXPECT_EQ(SIZE / 4, first_bad_from((__u32 *)map, (off + len) / 4, SIZE / 4, 0xa11));
	munmap(map, SIZE);

	unshare(self->a, self->b, x, y, buf);
}

/*
 * Each round device 0 moves the BO (between VRAM and GTT) and rewrites
 * it: device 1 is told (move_notify), drops its mapping, and its next job
 * maps it again and reads the new contents, never the old place.
 */
TEST_F(share, move_notify_then_remap)
{
	long long notifies = dgmm_debugfs_stat(self->a, "dmabuf_move_notifies");
	long long invalidations = dgmm_debugfs_stat(self->b, "dmabuf_invalidations");
	long long maps = dgmm_debugfs_stat(self->b, "dmabuf_maps");
	__u32 x = 0, y = 0;
	int buf;

	if (notifies < 0 || invalidations < 0 || maps < 0)
		SKIP(return, "no debugfs stats");
	buf = shared_bo(_metadata, self->a, self->b, V, V | G, 0xb00, &x, &y);

	/*
	 * Without CONFIG_DMABUF_MOVE_NOTIFY (Debian's kernel) dma-buf.c pins
	 * the BO for every mapping of a dynamic importer: then it must stay
	 * put, in GTT, until the importer lets go. With it, nothing pins.
	 */
	if (!move_notify_kernel(self->a)) {
		EXPECT_NE(0, pin_count_of(self->a, x));
		TH_LOG("importers pin here (no CONFIG_DMABUF_MOVE_NOTIFY)");
		EXPECT_EQ(G, domain_of(self->a, x));
		EXPECT_EQ(-EBUSY, dgmm_gem_migrate(self->a, x, V));
		EXPECT_EQ(G, domain_of(self->a, x));
		ASSERT_EQ(0, write_pattern(self->a, x, SIZE, 0xb01));
		EXPECT_EQ(SIZE / 4, importer_reads(self->b, y, SIZE, 0xb01));
		/* The importer's BO goes (and unpins) once idle, in TTM's worker. */
		dgmm_gem_close(self->b, y);
		for (int i = 0; i < 100 && pin_count_of(self->a, x); i++)
			usleep(20000);
		EXPECT_EQ(0, pin_count_of(self->a, x));
		EXPECT_EQ(0, dgmm_gem_migrate(self->a, x, V));
		close(buf);
		dgmm_gem_close(self->a, x);
		return;
	}

	EXPECT_EQ(0, pin_count_of(self->a, x));
	for (__u32 round = 1; round <= 4; round++) {
		long long n = dgmm_debugfs_stat(self->a, "dmabuf_move_notifies");
		long long i = dgmm_debugfs_stat(self->b, "dmabuf_invalidations");
		long long m = dgmm_debugfs_stat(self->b, "dmabuf_maps");
		/* Wherever the importer's mapping left it, somewhere else. */
		__u32 to = domain_of(self->a, x) == V ? G : V;

		ASSERT_EQ(0, dgmm_gem_migrate(self->a, x, to));
		EXPECT_GT(dgmm_debugfs_stat(self->a, "dmabuf_move_notifies"), n);
		EXPECT_GT(dgmm_debugfs_stat(self->b, "dmabuf_invalidations"), i);
		ASSERT_EQ(0, write_pattern(self->a, x, SIZE, 0xb00 + round));
		EXPECT_EQ(SIZE / 4, importer_reads(self->b, y, SIZE, 0xb00 + round)) {
			TH_LOG("round %u: device 1 read stale contents", round);
		}
		EXPECT_GT(dgmm_debugfs_stat(self->b, "dmabuf_maps"), m);
	}
	unshare(self->a, self->b, x, y, buf);
}

/*
 * The dma-buf's own mmap is the BO's mapping: a move zaps it, and the next
 * access faults the BO's new place in. Each round moves the BO, writes it
 * through its GEM mmap and reads it through the dma-buf's: a mapping that
 * escaped the zap would keep showing the BO's old place.
 */
TEST_F(share, dmabuf_mmap_follows_moves)
{
	const __u8 values[] = { 0x44, 0x45, 0x46, 0x47 };
	const __u32 domains[] = { G, V, G, V };
	__u8 *map, *gem;
	__u32 x = 0;
	int buf;

	ASSERT_EQ(0, dgmm_gem_create(self->a, SIZE, V, V | G, DRM_DGMM_GEM_CPU_ACCESS, &x));
	buf = dgmm_prime_export(self->a, x);
	ASSERT_GE(buf, 0);
	map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	ASSERT_NE(MAP_FAILED, map);
	memset(map, 0x43, SIZE);
	EXPECT_EQ(SIZE, check_bytes(map, SIZE, 0x43));

	for (unsigned int r = 0; r < ARRAY_SIZE(values); r++) {
		ASSERT_EQ(0, dgmm_gem_migrate(self->a, x, domains[r]));
		gem = dgmm_gem_mmap(self->a, x, SIZE);
		ASSERT_NE(MAP_FAILED, gem);
		memset(gem, values[r], SIZE);
		munmap(gem, SIZE);
		EXPECT_EQ(domains[r], domain_of(self->a, x));
		EXPECT_EQ(SIZE, check_bytes(map, SIZE, values[r])) {
			TH_LOG("round %u: the dma-buf mapping shows the BO's old place", r);
		}
	}
	munmap(map, SIZE);
	close(buf);
	dgmm_gem_close(self->a, x);
}

/*
 * The exporter closes its last handle; the importer keeps the dma-buf. DRM
 * forgets the GEM object's dma-buf then, dgmm must not: when the BO is
 * evicted out of GTT under pressure, device 1 is still told, and reads the
 * right bytes afterwards.
 */
TEST_F(share, exporter_without_handle_still_notifies)
{
	struct drm_dgmm_region_info gtt = dgmm_region(self->a, DRM_DGMM_REGION_GTT);
	const __u64 chunk = 16 * MiB;
	__u32 x = 0, y = 0, fill[64];
	long long before;
	unsigned int n = 0;
	int buf;

	buf = shared_bo(_metadata, self->a, self->b, G, G | S, 0xc00, &x, &y);
	EXPECT_EQ(!move_notify_kernel(self->a), !!pin_count_of(self->a, x));
	if (!move_notify_kernel(self->a)) {
		unshare(self->a, self->b, x, y, buf);
		SKIP(return, "importers pin here (no CONFIG_DMABUF_MOVE_NOTIFY): nothing moves");
	}
	close(buf);
	dgmm_gem_close(self->a, x);

	before = dgmm_debugfs_stat(self->b, "dmabuf_invalidations");
	if (before < 0)
		SKIP(return, "no debugfs stats");
	/* GTT-only BOs until GTT is full: the least recently used, x, goes. */
	while (n < ARRAY_SIZE(fill) && (__u64)n * chunk < gtt.size + chunk &&
	       dgmm_debugfs_stat(self->b, "dmabuf_invalidations") == before) {
		ASSERT_EQ(0, dgmm_gem_create(self->a, chunk, G, G, 0, &fill[n]));
		n++;
	}
	EXPECT_GT(dgmm_debugfs_stat(self->b, "dmabuf_invalidations"), before);
	while (n)
		dgmm_gem_close(self->a, fill[--n]);
	EXPECT_EQ(SIZE / 4, importer_reads(self->b, y, SIZE, 0xc00));
	dgmm_gem_close(self->b, y);
}

/*
 * Peer-to-peer as the PCI topology allows it: behind one PCIe switch
 * (DGMM_PLATFORM=iommu-switch) device 1 reaches device 0's VRAM through
 * its BAR, and the BO stays in VRAM, across moves inside VRAM too; on the
 * root bus the exporter serves device 1 from GTT.
 */
TEST_F(share, peer_to_peer_follows_topology)
{
	const char *platform = getenv("DGMM_PLATFORM");
	__u32 x = 0, y = 0, want;
	__u8 *map;
	int buf;

	if (!platform)
		SKIP(return, "DGMM_PLATFORM unset: run by the VM's run-tests.sh");
	want = strcmp(platform, "iommu-switch") ? G : V;
	ASSERT_EQ(0, dgmm_gem_create(self->a, SIZE, V, V | G, DRM_DGMM_GEM_CPU_ACCESS, &x));
	ASSERT_EQ(0, write_pattern(self->a, x, SIZE, 0xe00));
	ASSERT_EQ(V, domain_of(self->a, x));
	buf = dgmm_prime_export(self->a, x);
	ASSERT_GE(buf, 0);
	ASSERT_EQ(0, dgmm_prime_import(self->b, buf, &y));

	EXPECT_EQ(SIZE / 4, importer_reads(self->b, y, SIZE, 0xe00));
	EXPECT_EQ(want, domain_of(self->a, x)) {
		TH_LOG("platform %s: the BO should be in %s", platform, want == V ? "VRAM" : "GTT");
	}
	ASSERT_EQ(0, dgmm_submit_fill(self->b, y, 0, SIZE, 0x3c));
	ASSERT_EQ(0, dgmm_gem_wait(self->b, y, -1));
	map = dgmm_gem_mmap(self->a, x, SIZE);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(SIZE, check_bytes(map, SIZE, 0x3c));
	munmap(map, SIZE);

	/* Through GTT and back: the importer maps again, wherever it is. */
	EXPECT_EQ(!move_notify_kernel(self->a), !!pin_count_of(self->a, x));
	if (move_notify_kernel(self->a)) {
		ASSERT_EQ(0, dgmm_gem_migrate(self->a, x, G));
		ASSERT_EQ(0, dgmm_gem_migrate(self->a, x, V));
		ASSERT_EQ(0, write_pattern(self->a, x, SIZE, 0xe01));
		EXPECT_EQ(SIZE / 4, importer_reads(self->b, y, SIZE, 0xe01));
		EXPECT_EQ(want, domain_of(self->a, x));
	}
	unshare(self->a, self->b, x, y, buf);
}

/*
 * VRAM that a peer wrote is not handed on as cleared: device 1 fills a BO
 * of device 0 that nobody wrote before (its VRAM cleared), peer-to-peer
 * behind the switch, and once it is freed, new BOs in that part of VRAM
 * read zero. (On the root bus the fill goes to GTT pages instead.)
 */
TEST_F(share, peer_writes_are_not_handed_on)
{
	__u32 x = 0, y = 0;
	int buf;

	ASSERT_EQ(0, dgmm_gem_create(self->a, SIZE, V, V | G, DRM_DGMM_GEM_CPU_ACCESS, &x));
	ASSERT_EQ(0, dgmm_gem_wait(self->a, x, -1));
	buf = dgmm_prime_export(self->a, x);
	ASSERT_GE(buf, 0);
	ASSERT_EQ(0, dgmm_prime_import(self->b, buf, &y));
	ASSERT_EQ(0, dgmm_submit_fill(self->b, y, 0, SIZE, 0x6d));
	ASSERT_EQ(0, dgmm_gem_wait(self->b, y, -1));
	unshare(self->a, self->b, x, y, buf);
	dgmm_vram_settle(self->a);
	for (int n = 0; n < 8; n++) {
		long long zero = dgmm_new_bo_zero_bytes(self->a, V, SIZE);

		EXPECT_EQ((long long)SIZE, zero) {
			TH_LOG("new BO %d shows what device 1 wrote at byte %lld", n, zero);
		}
	}
}

/*
 * The exporter goes away while device 1 holds its BO: device 1 is told
 * and drops its mapping; its next job on the BO fails with ENODEV, its own
 * BOs still work, and everything closes cleanly; the rebound device works.
 */
TEST_F(share, exporter_unbound_while_shared)
{
	char pci[64];
	__u32 x = 0, y = 0, z = 0;
	int buf, fresh;

	if (geteuid())
		SKIP(return, "needs root to unbind");
	ASSERT_EQ(0, dgmm_pci_name(self->a, pci, sizeof(pci)));
	buf = shared_bo(_metadata, self->a, self->b, G, V | G, 0xf00, &x, &y);

	ASSERT_EQ(0, bind_device(pci, false));
	EXPECT_EQ(-ENODEV, dgmm_submit_fill(self->b, y, 0, SIZE, 0x11));
	ASSERT_EQ(0, dgmm_gem_create(self->b, SIZE, V, V | G, 0, &z));
	EXPECT_EQ(0, dgmm_submit_fill(self->b, z, 0, SIZE, 0x12));
	EXPECT_EQ(0, dgmm_gem_wait(self->b, z, -1));
	dgmm_gem_close(self->b, z);
	dgmm_gem_close(self->b, y);
	close(buf);
	close(self->a);
	self->a = -1;

	ASSERT_EQ(0, bind_device(pci, true));
	fresh = open_first_device();
	ASSERT_GE(fresh, 0);
	EXPECT_EQ(0, dgmm_gem_create(fresh, SIZE, V, V | G, 0, &x));
	EXPECT_EQ(0, dgmm_submit_fill(fresh, x, 0, SIZE, 0x13));
	EXPECT_EQ(0, dgmm_gem_wait(fresh, x, -1));
	close(fresh);
}

/*
 * The importer goes away while it holds device 0's BO: its mapping (and,
 * without move_notify, its pin) goes with it, and the BO moves and keeps
 * its bytes on device 0.
 */
TEST_F(share, importer_unbound_while_shared)
{
	char pci[64];
	__u32 x = 0, y = 0, *map;
	int buf;

	if (geteuid())
		SKIP(return, "needs root to unbind");
	ASSERT_EQ(0, dgmm_pci_name(self->b, pci, sizeof(pci)));
	buf = shared_bo(_metadata, self->a, self->b, V, V | G, 0xf10, &x, &y);

	ASSERT_EQ(0, bind_device(pci, false));
	EXPECT_EQ(0, pin_count_of(self->a, x));
	EXPECT_EQ(0, dgmm_gem_migrate(self->a, x, G));
	EXPECT_EQ(0, dgmm_gem_migrate(self->a, x, V));
	map = dgmm_gem_mmap(self->a, x, SIZE);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(SIZE / 4, check_pattern(map, SIZE, 0xf10));
	munmap(map, SIZE);
	dgmm_gem_close(self->b, y);
	close(self->b);
	self->b = -1;
	close(buf);
	dgmm_gem_close(self->a, x);
	ASSERT_EQ(0, bind_device(pci, true));
}

/*
 * A process importing device 0's BO into device 1 is killed with its jobs
 * in flight: nothing stays pinned or mapped, and device 0 moves the BO
 * with its bytes.
 */
TEST_F(share, importer_killed_mid_jobs)
{
	__u64 gtt_before;
	__u32 x = 0, *map;
	int buf, status;
	pid_t child;

	ASSERT_EQ(0, dgmm_gem_create(self->a, SIZE, V, V | G, 0, &x));
	ASSERT_EQ(0, write_pattern(self->a, x, SIZE, 0xf20));
	buf = dgmm_prime_export(self->a, x);
	ASSERT_GE(buf, 0);
	gtt_before = dgmm_region_used(self->b, DRM_DGMM_REGION_GTT);
	child = fork();
	ASSERT_GE(child, 0);
	if (!child) {
		/* Its own file of device 1, which goes with it. */
		int fds[DGMM_MAX_DEVICES], n = dgmm_open_devices(fds, NULL, DGMM_MAX_DEVICES);
		__u32 y = 0, z = 0;

		if (n < 2 || dgmm_prime_import(fds[1], buf, &y) ||
		    dgmm_gem_create(fds[1], SIZE, V, V | G, 0, &z))
			_exit(1);
		/* A few jobs in flight at any time, as a client would have. */
		for (unsigned int i = 1; ; i++) {
			submit_copy(fds[1], z, y, SIZE);
			if (!(i % 4))
				dgmm_gem_wait(fds[1], z, -1);
		}
	}
	usleep(300000);
	kill(child, SIGKILL);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));

	/*
	 * The child's imported BO goes once its jobs are done or killed (the
	 * scheduler gives a killed process's queue a second), in TTM's worker.
	 */
	EXPECT_EQ(0, dgmm_gem_wait(self->a, x, -1));
	for (int i = 0; i < 500; i++) {
		if (!pin_count_of(self->a, x) &&
		    dgmm_region_used(self->b, DRM_DGMM_REGION_GTT) <= gtt_before)
			break;
		usleep(20000);
	}
	EXPECT_EQ(0, pin_count_of(self->a, x));
	/* The import no longer takes room in device 1's GTT: it is gone. */
	EXPECT_GE(gtt_before, dgmm_region_used(self->b, DRM_DGMM_REGION_GTT));
	EXPECT_EQ(0, dgmm_gem_migrate(self->a, x, G));
	EXPECT_EQ(0, dgmm_gem_migrate(self->a, x, V));
	map = dgmm_gem_mmap(self->a, x, SIZE);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(SIZE / 4, check_pattern(map, SIZE, 0xf20));
	munmap(map, SIZE);
	close(buf);
	dgmm_gem_close(self->a, x);
}

/*
 * Device 1's job still running on its mapping when device 0 moves the BO:
 * device 1's move_notify waits for it before it unmaps. Behind the IOMMU
 * an address unmapped under a running job faults (the job fails and
 * engine/dma_faults counts it); on the root bus the old pages would still
 * answer, so there this only checks the bytes. The engine is throttled so
 * that the job reads the BO at the end of its time, after the move began.
 */
TEST_F(share, invalidation_waits_for_running_job)
{
	long long faults = dgmm_debugfs_value(self->b, "engine", "dma_faults");
	__u32 x = 0, y = 0, z = 0, *map;
	unsigned int old = 0;
	int buf;

	if (faults < 0 || dgmm_engine_mbps(0, &old))
		SKIP(return, "no debugfs engine file or engine_mbps parameter");
	buf = shared_bo(_metadata, self->a, self->b, V, V | G, 0xf40, &x, &y);
	if (!move_notify_kernel(self->a)) {
		unshare(self->a, self->b, x, y, buf);
		SKIP(return, "importers pin here (no CONFIG_DMABUF_MOVE_NOTIFY): nothing moves");
	}
	ASSERT_EQ(0, dgmm_gem_create(self->b, SIZE, V, V | G, 0, &z));
	ASSERT_EQ(0, dgmm_gem_wait(self->b, z, -1));

	ASSERT_EQ(0, dgmm_engine_mbps(8, NULL));	/* 2 MiB: a quarter of a second */
	EXPECT_EQ(0, submit_copy(self->b, z, y, SIZE));
	EXPECT_EQ(0, dgmm_gem_migrate(self->a, x, domain_of(self->a, x) == V ? G : V));
	EXPECT_EQ(0, dgmm_gem_wait(self->b, z, -1));
	dgmm_engine_mbps(old, NULL);

	EXPECT_EQ(faults, dgmm_debugfs_value(self->b, "engine", "dma_faults"));
	map = dgmm_gem_mmap(self->b, z, SIZE);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(SIZE / 4, check_pattern(map, SIZE, 0xf40));
	munmap(map, SIZE);
	dgmm_gem_close(self->b, z);
	unshare(self->a, self->b, x, y, buf);
}

/*
 * A fence that never signals (a user's sw_sync fence, added through the
 * dma-buf) sits in the shared reservation while device 0 moves the BO:
 * device 1's move_notify waits for its own jobs only, so the move does not
 * hang (the harness's timeout would end the test). Once the fence is gone
 * (the timeline closed), device 1 reads the BO's bytes at its new place.
 */
TEST_F(share, foreign_fence_does_not_hold_invalidation)
{
	int timeline = open(SW_SYNC_PATH, O_RDWR), buf, go[2], status;
	pid_t keeper;
	__u32 x = 0, y = 0;

	if (timeline < 0)
		SKIP(return, "no %s (CONFIG_SW_SYNC and debugfs)", SW_SYNC_PATH);
	buf = shared_bo(_metadata, self->a, self->b, V, V | G, 0xf30, &x, &y);
	if (!move_notify_kernel(self->a)) {
		close(timeline);
		unshare(self->a, self->b, x, y, buf);
		SKIP(return, "importers pin here (no CONFIG_DMABUF_MOVE_NOTIFY): nothing moves");
	}

	ASSERT_EQ(0, dgmm_user_fence_into(timeline, buf));

	/*
	 * A keeper process holds the timeline: the fence signals when it exits,
	 * when told to or after 20 s at most. A move that waited for the fence
	 * would return only after that: the keeper would be gone (a failure,
	 * not a hang).
	 */
	ASSERT_EQ(0, pipe(go));
	keeper = fork();
	ASSERT_GE(keeper, 0);
	if (!keeper) {
		struct pollfd p = { .fd = go[0], .events = POLLIN };

		close(go[1]);
		poll(&p, 1, 20000);
		_exit(0);
	}
	close(go[0]);
	close(timeline);
	/* The mapping is device 1's: the move tells it, and goes on. */
	EXPECT_EQ(0, dgmm_gem_migrate(self->a, x, domain_of(self->a, x) == V ? G : V));
	EXPECT_EQ(0, waitpid(keeper, &status, WNOHANG)) {
		TH_LOG("the move waited for the user's fence");
	}
	close(go[1]);	/* the keeper goes, the fence signals (with an error) */
	EXPECT_EQ(keeper, waitpid(keeper, &status, 0));
	EXPECT_EQ(0, dgmm_gem_wait(self->a, x, -1));
	EXPECT_EQ(SIZE / 4, importer_reads(self->b, y, SIZE, 0xf30));
	unshare(self->a, self->b, x, y, buf);
}

/*
 * A foreign dma-buf: device 1 fills part of it and copies it out. Returns
 * the imported handle, for the caller to close once its CPU access is over.
 */
static __u32 foreign_buffer(struct __test_metadata *_metadata, int fd, int buf,
			    __u32 *map, size_t size)
{
	__u32 y = 0, z = 0, *zmap;

	for (size_t w = 0; w < size / 4; w++)
		map[w] = dgmm_pattern(0xd00, w);
	EXPECT_EQ(0, dgmm_prime_import(fd, buf, &y));
	EXPECT_EQ(0, dgmm_gem_create(fd, size, V, V | G, 0, &z));
	if (!y || !z)
		return y;
	EXPECT_EQ(0, submit_copy(fd, z, y, size));
	EXPECT_EQ(0, dgmm_submit_fill(fd, y, 0, 4096, 0x7e));
	EXPECT_EQ(0, dgmm_gem_wait(fd, y, -1));
	EXPECT_EQ(0, dgmm_gem_wait(fd, z, -1));
	zmap = dgmm_gem_mmap(fd, z, size);
	EXPECT_NE(MAP_FAILED, zmap);
	if (zmap == MAP_FAILED)
		return y;
	EXPECT_EQ(size / 4, check_pattern(zmap, size, 0xd00));
	munmap(zmap, size);
	/* The fill reached the buffer, and only its first page. */
	EXPECT_EQ(4096, check_bytes((__u8 *)map, 4096, 0x7e));
	EXPECT_EQ(size / 4, first_bad_from(map, 1024, size / 4, 0xd00));
	dgmm_gem_close(fd, z);
	return y;
}

TEST_F(share, imports_vgem_buffer)
{
	struct drm_mode_create_dumb dumb = { .width = 1024, .height = SIZE / 4096, .bpp = 32 };
	struct drm_mode_map_dumb map_dumb = { 0 };
	int vgem = dgmm_open_card("vgem"), buf;
	__u32 *map, y;

	if (vgem < 0)
		SKIP(return, "no vgem card (vgem not loaded, or Debian's kernel)");
	ASSERT_EQ(0, ioctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &dumb));
	ASSERT_GE(dumb.size, (__u64)SIZE);
	map_dumb.handle = dumb.handle;
	ASSERT_EQ(0, ioctl(vgem, DRM_IOCTL_MODE_MAP_DUMB, &map_dumb));
	map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, vgem, map_dumb.offset);
	ASSERT_NE(MAP_FAILED, map);
	buf = dgmm_prime_export(vgem, dumb.handle);
	ASSERT_GE(buf, 0);
	y = foreign_buffer(_metadata, self->b, buf, map, SIZE);
	dgmm_gem_close(self->b, y);
	munmap(map, SIZE);
	close(buf);
	close(vgem);
}

/*
 * Each device imports the other's BO and copies out of it into the other
 * one's BO, both at once, round after round: device 1's jobs wait for
 * device 0's and the reverse, through the shared reservations, and every
 * round ends with the right bytes on both sides (no deadlock: the harness's
 * timeout would end it).
 */
TEST_F(share, both_directions_at_once)
{
	__u32 x = 0, w = 0, xb = 0, wa = 0, *map;
	int bx, bw;

	ASSERT_EQ(0, dgmm_gem_create(self->a, SIZE, V, V | G, 0, &x));
	ASSERT_EQ(0, dgmm_gem_create(self->b, SIZE, V, V | G, 0, &w));
	ASSERT_EQ(0, write_pattern(self->a, x, SIZE, 0xa0a));
	ASSERT_EQ(0, write_pattern(self->b, w, SIZE, 0xb0b));
	bx = dgmm_prime_export(self->a, x);
	bw = dgmm_prime_export(self->b, w);
	ASSERT_GE(bx, 0);
	ASSERT_GE(bw, 0);
	ASSERT_EQ(0, dgmm_prime_import(self->b, bx, &xb));	/* device 1's view of x */
	ASSERT_EQ(0, dgmm_prime_import(self->a, bw, &wa));	/* device 0's view of w */

	for (int round = 0; round < 8; round++) {
		/* Device 0 copies x into w, device 1 copies w back into x. */
		EXPECT_EQ(0, submit_copy(self->a, wa, x, SIZE));
		EXPECT_EQ(0, submit_copy(self->b, xb, w, SIZE));
		EXPECT_EQ(0, submit_copy(self->b, w, xb, SIZE));
		EXPECT_EQ(0, submit_copy(self->a, x, wa, SIZE));
	}
	EXPECT_EQ(0, dgmm_gem_wait(self->a, x, -1));
	EXPECT_EQ(0, dgmm_gem_wait(self->b, w, -1));
	/* After the first copy both hold x's bytes, and every copy after keeps them. */
	map = dgmm_gem_mmap(self->a, x, SIZE);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(SIZE / 4, check_pattern(map, SIZE, 0xa0a));
	munmap(map, SIZE);
	map = dgmm_gem_mmap(self->b, w, SIZE);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(SIZE / 4, check_pattern(map, SIZE, 0xa0a));
	munmap(map, SIZE);
	dgmm_gem_close(self->a, wa);
	dgmm_gem_close(self->b, xb);
	close(bx);
	close(bw);
	dgmm_gem_close(self->a, x);
	dgmm_gem_close(self->b, w);
}

TEST_F(share, imports_udmabuf)
{
	struct udmabuf_create create = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = SIZE };
	int dev = open("/dev/udmabuf", O_RDWR), memfd, buf;
	__u32 *map, y;

	if (dev < 0)
		SKIP(return, "no /dev/udmabuf (CONFIG_UDMABUF)");
	memfd = memfd_create("dgmm", MFD_ALLOW_SEALING);
	ASSERT_GE(memfd, 0);
	ASSERT_EQ(0, ftruncate(memfd, SIZE));
	ASSERT_EQ(0, fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK));
	create.memfd = memfd;
	buf = ioctl(dev, UDMABUF_CREATE, &create);
	ASSERT_GE(buf, 0);
	map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	ASSERT_NE(MAP_FAILED, map);
	y = foreign_buffer(_metadata, self->b, buf, map, SIZE);
	dgmm_gem_close(self->b, y);
	munmap(map, SIZE);
	close(buf);
	close(memfd);
	close(dev);
}

TEST_F(share, imports_system_heap_buffer)
{
	struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW };
	int buf = dgmm_heap_buffer(SIZE);
	__u32 *map, y;

	if (buf == -ENODEV)
		SKIP(return, "no %s (CONFIG_DMABUF_HEAPS_SYSTEM)", DGMM_HEAP_PATH);
	ASSERT_GE(buf, 0);
	map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, ioctl(buf, DMA_BUF_IOCTL_SYNC, &sync));
	y = foreign_buffer(_metadata, self->b, buf, map, SIZE);
	/*
	 * CPU access ends before the import goes: the heap syncs every mapped
	 * attachment without holding off their unmapping, which the importer
	 * does when its BO's last handle goes, a little later, in a worker.
	 */
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
	EXPECT_EQ(0, ioctl(buf, DMA_BUF_IOCTL_SYNC, &sync));
	dgmm_gem_close(self->b, y);
	munmap(map, SIZE);
	close(buf);
}

/*
 * A device attaches to a foreign buffer once, and lets go of it when its
 * last handle goes, not when the buffer's reservation is idle. A second
 * file of the same device that imports the buffer gets the same BO (one
 * attachment). With a user's fence (sw_sync) still unsignalled in the
 * reservation, the attachment goes once both handles are closed and the
 * job that wrote the buffer is freed, and the BO's GTT space with it;
 * importing the buffer again makes one attachment. The system heap maps a
 * buffer for each attachment when it is made, so a second attachment would
 * map the same pages for the device twice: DMA-API debugging counts that as
 * an error.
 */
TEST_F(share, closed_import_detaches_at_once)
{
	struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
	int timeline = open(SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
	int buf = dgmm_heap_buffer(MiB);
	int fds[DGMM_MAX_DEVICES], n, other = -1, attached = -1;
	__u32 y = 0, y2 = 0, again = 0;
	__u64 gtt;
	__u8 *map;
	long errors;

	if (buf == -ENODEV || timeline < 0)
		SKIP(goto out, "needs %s and %s", DGMM_HEAP_PATH, SW_SYNC_PATH);
	ASSERT_GE(buf, 0);
	if (dgmm_dmabuf_attachments(buf) != 0)
		SKIP(goto out, "no /sys/kernel/debug/dma_buf/bufinfo to count attachments");
	errors = dgmm_dma_api_errors();
	/* A second file of device 1. */
	n = dgmm_open_devices(fds, NULL, DGMM_MAX_DEVICES);
	ASSERT_GE(n, 2);
	for (int i = 0; i < n; i++)
		if (i == 1)
			other = fds[i];
		else
			close(fds[i]);

	ASSERT_EQ(0, dgmm_prime_import(self->b, buf, &y));
	ASSERT_EQ(0, dgmm_prime_import(other, buf, &y2));
	EXPECT_EQ(1, dgmm_dmabuf_attachments(buf));
	ASSERT_EQ(0, dgmm_submit_fill(self->b, y, 0, MiB, 0x5a));
	ASSERT_EQ(0, dgmm_gem_wait(other, y2, -1));
	map = mmap(NULL, MiB, PROT_READ, MAP_SHARED, buf, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, ioctl(buf, DMA_BUF_IOCTL_SYNC, &sync));
	EXPECT_EQ(MiB, check_bytes(map, MiB, 0x5a));
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	EXPECT_EQ(0, ioctl(buf, DMA_BUF_IOCTL_SYNC, &sync));
	munmap(map, MiB);
	ASSERT_EQ(0, dgmm_user_fence_into(timeline, buf));
	gtt = dgmm_region(self->b, DRM_DGMM_REGION_GTT).used;

	EXPECT_EQ(0, dgmm_gem_close(self->b, y));
	EXPECT_EQ(0, dgmm_gem_close(other, y2));
	/* The job's free, after its fence, is the last thing it waits for. */
	for (int i = 0; i < 100; i++) {
		attached = dgmm_dmabuf_attachments(buf);
		if (attached == 0)
			break;
		usleep(100 * 1000);
	}
	EXPECT_EQ(0, attached);
	/* The BO waits in TTM for the user's fence, but not in GTT. */
	EXPECT_LE(dgmm_region(self->b, DRM_DGMM_REGION_GTT).used + MiB, gtt);
	ASSERT_EQ(0, dgmm_prime_import(self->b, buf, &again));
	EXPECT_EQ(1, dgmm_dmabuf_attachments(buf));
	if (errors >= 0)
		EXPECT_EQ(errors, dgmm_dma_api_errors());
	EXPECT_EQ(0, dgmm_gem_close(self->b, again));
out:
	if (other >= 0)
		close(other);
	if (timeline >= 0)
		close(timeline);
	if (buf >= 0)
		close(buf);
}

TEST_HARNESS_MAIN
