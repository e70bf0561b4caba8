/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * Helpers shared by dgmm's userspace programs: find the dgmm render nodes and
 * call the query ioctl. Header-only so that each test is one static binary.
 */
#ifndef _DGMM_UTIL_H_
#define _DGMM_UTIL_H_

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <drm/drm.h>
#include <drm/dgmm_drm.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#define DGMM_MAX_DEVICES 8
#define DGMM_FIRST_RENDER_MINOR 128
#define DGMM_LAST_RENDER_MINOR 191

/* ioctl() that retries on EINTR/EAGAIN, as libdrm's drmIoctl() does. */
static inline int dgmm_ioctl(int fd, unsigned long request, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, request, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	return ret;
}

/* The driver name of an open DRM file, or "" if it cannot be read. */
static inline void dgmm_driver_name(int fd, char *name, size_t len)
{
	struct drm_version v;

	memset(&v, 0, sizeof(v));
	memset(name, 0, len);
	v.name = name;
	v.name_len = len - 1;
	if (dgmm_ioctl(fd, DRM_IOCTL_VERSION, &v))
		name[0] = '\0';
}

/* A dma-buf of GEM @handle of DRM file @fd (PRIME export): its fd, or -errno. */
static inline int dgmm_prime_export(int fd, __u32 handle)
{
	struct drm_prime_handle prime = { .handle = handle, .flags = DRM_CLOEXEC | DRM_RDWR };

	return dgmm_ioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime) ? -errno : prime.fd;
}

/* Dma-buf @buf imported into DRM file @fd (PRIME import): 0, or -errno. */
static inline int dgmm_prime_import(int fd, int buf, __u32 *handle)
{
	struct drm_prime_handle prime = { .fd = buf };

	if (dgmm_ioctl(fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime))
		return -errno;
	*handle = prime.handle;
	return 0;
}

/* A new file of the first card node whose driver is @driver, or -1. */
static inline int dgmm_open_card(const char *driver)
{
	for (int i = 0; i < 64; i++) {
		char path[32], name[64];
		int fd;

		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		dgmm_driver_name(fd, name, sizeof(name));
		if (!strcmp(name, driver))
			return fd;
		close(fd);
	}
	return -1;
}

/*
 * Opens every node /dev/dri/<prefix><minor> in [first, last] whose driver is
 * dgmm, in minor order. Fills @fds (and @minors if not NULL); returns how
 * many were opened.
 */
static inline int dgmm_open_nodes(const char *prefix, int first, int last,
				  int *fds, int *minors, int max)
{
	int n = 0;

	for (int minor = first; minor <= last && n < max; minor++) {
		char path[64], name[64];
		int fd;

		snprintf(path, sizeof(path), "/dev/dri/%s%d", prefix, minor);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		dgmm_driver_name(fd, name, sizeof(name));
		if (strcmp(name, "dgmm")) {
			close(fd);
			continue;
		}
		if (minors)
			minors[n] = minor;
		fds[n++] = fd;
	}
	return n;
}

/* The dgmm render nodes. */
static inline int dgmm_open_devices(int *fds, int *minors, int max)
{
	return dgmm_open_nodes("renderD", DGMM_FIRST_RENDER_MINOR,
			       DGMM_LAST_RENDER_MINOR, fds, minors, max);
}

/* The dgmm primary nodes (for dumb buffers, which render nodes lack). */
static inline int dgmm_open_cards(int *fds, int max)
{
	return dgmm_open_nodes("card", 0, DGMM_FIRST_RENDER_MINOR - 1, fds, NULL, max);
}

/* DRM_DGMM_QUERY_REGIONS into a malloc'ed answer; NULL with errno set on error. */
static inline struct drm_dgmm_query_regions *dgmm_query_regions(int fd)
{
	struct drm_dgmm_device_query q = { .query = DRM_DGMM_QUERY_REGIONS };
	struct drm_dgmm_query_regions *r;

	if (dgmm_ioctl(fd, DRM_IOCTL_DGMM_DEVICE_QUERY, &q))
		return NULL;
	r = calloc(1, q.size);
	if (!r)
		return NULL;
	q.data = (__u64)(uintptr_t)r;
	if (dgmm_ioctl(fd, DRM_IOCTL_DGMM_DEVICE_QUERY, &q)) {
		free(r);
		return NULL;
	}
	return r;
}

/* One region of the device (all zero if the query fails). */
static inline struct drm_dgmm_region_info dgmm_region(int fd, __u32 which)
{
	struct drm_dgmm_query_regions *r = dgmm_query_regions(fd);
	struct drm_dgmm_region_info info = { 0 };

	if (r) {
		info = r->regions[which];
		free(r);
	}
	return info;
}

/* Bytes in use in one region of the device (all ones if the query fails). */
static inline __u64 dgmm_region_used(int fd, __u32 which)
{
	struct drm_dgmm_query_regions *r = dgmm_query_regions(fd);
	__u64 used = r ? r->regions[which].used : ~0ull;

	free(r);
	return used;
}

/* One device job that fills @size bytes of a BO at @offset; 0 or -errno. */
static inline int dgmm_submit_fill(int fd, __u32 handle, __u64 offset, __u64 size, __u8 value)
{
	struct drm_dgmm_job_op op = {
		.op = DRM_DGMM_OP_FILL, .dst_handle = handle, .dst_offset = offset,
		.size = size, .value = value,
	};
	struct drm_dgmm_submit s = { .ops = (__u64)(uintptr_t)&op, .num_ops = 1 };

	return dgmm_ioctl(fd, DRM_IOCTL_DGMM_SUBMIT, &s) ? -errno : 0;
}

/*
 * Waits (up to about 3 s) until the device's VRAM use has not changed for
 * 300 ms: BOs an earlier test closed while a job still used them go once
 * the job is done.
 */
static inline void dgmm_vram_settle(int fd)
{
	__u64 last = dgmm_region_used(fd, DRM_DGMM_REGION_VRAM);
	int stable = 0;

	for (int i = 0; i < 100 && stable < 10; i++) {
		__u64 used;

		usleep(30000);
		used = dgmm_region_used(fd, DRM_DGMM_REGION_VRAM);
		stable = used == last ? stable + 1 : 0;
		last = used;
	}
}

/* DRM_IOCTL_DGMM_GEM_CREATE; returns 0 or -errno (and leaves *handle alone). */
static inline int dgmm_gem_create(int fd, __u64 size, __u32 preferred, __u32 allowed,
				  __u32 flags, __u32 *handle)
{
	struct drm_dgmm_gem_create c = {
		.size = size, .preferred_domains = preferred,
		.allowed_domains = allowed, .flags = flags,
	};

	if (dgmm_ioctl(fd, DRM_IOCTL_DGMM_GEM_CREATE, &c))
		return -errno;
	*handle = c.handle;
	return 0;
}

static inline int dgmm_gem_close(int fd, __u32 handle)
{
	struct drm_gem_close c = { .handle = handle };

	return dgmm_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &c) ? -errno : 0;
}

/* Maps a whole BO read-write; MAP_FAILED on error. */
static inline void *dgmm_gem_mmap(int fd, __u32 handle, size_t size)
{
	struct drm_dgmm_gem_mmap_offset m = { .handle = handle };

	if (dgmm_ioctl(fd, DRM_IOCTL_DGMM_GEM_MMAP_OFFSET, &m))
		return MAP_FAILED;
	return mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, m.offset);
}

static inline int dgmm_gem_info(int fd, __u32 handle, struct drm_dgmm_gem_info *info)
{
	memset(info, 0, sizeof(*info));
	info->handle = handle;
	return dgmm_ioctl(fd, DRM_IOCTL_DGMM_GEM_INFO, info) ? -errno : 0;
}

static inline int dgmm_gem_migrate(int fd, __u32 handle, __u32 domain)
{
	struct drm_dgmm_gem_migrate m = { .handle = handle, .domain = domain };

	return dgmm_ioctl(fd, DRM_IOCTL_DGMM_GEM_MIGRATE, &m) ? -errno : 0;
}

static inline int dgmm_gem_wait(int fd, __u32 handle, __s64 timeout_ns)
{
	struct drm_dgmm_gem_wait w = { .handle = handle, .timeout_ns = timeout_ns };

	return dgmm_ioctl(fd, DRM_IOCTL_DGMM_GEM_WAIT, &w) ? -errno : 0;
}

/* The word a test writes at index @word for @seed. */
static inline __u32 dgmm_pattern(__u32 seed, size_t word)
{
	return seed ^ (__u32)(word * 2654435761u);
}

/* The first word of @map (@words long) that is not dgmm_pattern(@seed), or @words. */
static inline size_t dgmm_first_bad_word(const __u32 *map, size_t words, __u32 seed)
{
	size_t w;

	for (w = 0; w < words; w++)
		if (__atomic_load_n(&map[w], __ATOMIC_RELAXED) != dgmm_pattern(seed, w))
			break;
	return w;
}

/*
 * Reads @size bytes at @addr of this process through /proc/self/mem, as a
 * debugger would (vm_ops.access for a BO mapping), into a malloc'ed buffer.
 */
static inline void *dgmm_proc_mem_read(const void *addr, size_t size)
{
	void *copy = malloc(size);
	int mem = open("/proc/self/mem", O_RDONLY);

	if (!copy || mem < 0 || pread(mem, copy, size, (off_t)(uintptr_t)addr) != (ssize_t)size) {
		free(copy);
		copy = NULL;
	}
	if (mem >= 0)
		close(mem);
	return copy;
}

/*
 * For a child process: fills a new BO of @size bytes in @domain with 0xff
 * through its mapping, then exits (status 0, or 1 and 2 for the create and
 * the mmap failing), leaving the memory to whoever gets it next.
 */
static inline void dgmm_fill_and_exit(int fd, __u32 domain, __u64 size)
{
	__u32 handle = 0;
	void *map;

	if (dgmm_gem_create(fd, size, domain, domain, DRM_DGMM_GEM_CPU_ACCESS, &handle))
		_exit(1);
	map = dgmm_gem_mmap(fd, handle, size);
	if (map == MAP_FAILED)
		_exit(2);
	memset(map, 0xff, size);
	_exit(0);
}

/*
 * Creates a CPU-access BO of @size bytes in @domain and counts how many of
 * its first bytes read zero through its mapping: @size when all of them
 * do. Returns -1 if it cannot be created or mapped. The BO is closed.
 */
static inline long long dgmm_new_bo_zero_bytes(int fd, __u32 domain, __u64 size)
{
	__u32 handle = 0;
	__u64 b = 0;
	__u8 *map;

	if (dgmm_gem_create(fd, size, domain, domain, DRM_DGMM_GEM_CPU_ACCESS, &handle))
		return -1;
	map = dgmm_gem_mmap(fd, handle, size);
	if (map != MAP_FAILED) {
		while (b < size && !__atomic_load_n(&map[b], __ATOMIC_RELAXED))
			b++;
		munmap(map, size);
	}
	dgmm_gem_close(fd, handle);
	return map == MAP_FAILED ? -1 : (long long)b;
}

/* Writes @value to the file at @path; 0 or -errno. */
static inline int dgmm_write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

#define DGMM_ENGINE_MBPS "/sys/module/dgmm/parameters/engine_mbps"

/*
 * Sets the copy engine's bandwidth (module parameter engine_mbps, root
 * only; 0 is unthrottled) and returns the old value through @old if set.
 * A throttled engine writes a job's destination only at the end of the
 * job's time, so whoever reads without waiting for the job sees old data.
 */
static inline int dgmm_engine_mbps(unsigned int mbps, unsigned int *old)
{
	FILE *f = fopen(DGMM_ENGINE_MBPS, "r+");
	int ok;

	if (!f)
		return -errno;
	ok = !old || fscanf(f, "%u", old) == 1;
	rewind(f);
	ok = ok && fprintf(f, "%u\n", mbps) > 0;
	ok = !fclose(f) && ok;
	return ok ? 0 : -EIO;
}

/* The PCI name of the device a DRM node @fd is open on, into @pci. */
static inline int dgmm_pci_name(int fd, char *pci, size_t len)
{
	char link[64], target[256];
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st))
		return -1;
	snprintf(link, sizeof(link), "/sys/dev/char/%u:%u/device", major(st.st_rdev),
		 minor(st.st_rdev));
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return -1;
	target[n] = '\0';
	snprintf(pci, len, "%s", strrchr(target, '/') + 1);
	return 0;
}

/*
 * A counter of one of the device's debugfs files (@file: "stats",
 * ttm_backend/dgmm_debugfs.c, or "engine", testdrv/dgmm_engine.c), found
 * through the PCI name of the render node @fd is open on; -1 if the file or
 * the key is missing.
 */
static inline long long dgmm_debugfs_value(int fd, const char *file, const char *key)
{
	char pci[64], path[320], line[128];
	size_t klen = strlen(key);
	long long value = -1;
	FILE *f;

	if (dgmm_pci_name(fd, pci, sizeof(pci)))
		return -1;
	snprintf(path, sizeof(path), "/sys/kernel/debug/dri/%s/%s", pci, file);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			value = strtoll(line + klen + 1, NULL, 10);
	if (f)
		fclose(f);
	return value;
}

/* A counter of the device's debugfs stats file; -1 if missing. */
static inline long long dgmm_debugfs_stat(int fd, const char *key)
{
	return dgmm_debugfs_value(fd, "stats", key);
}

/* sw_sync's debugfs interface (drivers/dma-buf/sw_sync.c; not in the uAPI headers). */
struct sw_sync_create_fence_data {
	__u32 value;
	char name[32];
	__s32 fence;
};

#define SW_SYNC_IOC_CREATE_FENCE _IOWR('W', 0, struct sw_sync_create_fence_data)
#define SW_SYNC_PATH "/sys/kernel/debug/sync/sw_sync"

/*
 * A user's fence in a BO's reservation: a new fence of sw_sync @timeline
 * (signalled when the timeline reaches 1, or with an error when it is
 * closed), added to dma-buf @buf as a writer's. Returns 0 or -errno.
 */
static inline int dgmm_user_fence_into(int timeline, int buf)
{
	struct sw_sync_create_fence_data create = { .value = 1, .name = "dgmm-test" };
	struct dma_buf_import_sync_file import = { .flags = DMA_BUF_SYNC_WRITE };
	int err = 0;

	if (ioctl(timeline, SW_SYNC_IOC_CREATE_FENCE, &create))
		return -errno;
	import.fd = create.fence;
	if (ioctl(buf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &import))
		err = -errno;
	close(create.fence);
	return err;
}

/*
 * How many devices are attached to dma-buf @buf, as dma-buf's debugfs
 * lists them (where its inode number names it); -1 if that cannot be read.
 */
static inline int dgmm_dmabuf_attachments(int buf)
{
	FILE *f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "r");
	char line[512];
	bool found = false;
	unsigned long ino;
	struct stat st;
	int n = -1;

	if (!f)
		return -1;
	if (fstat(buf, &st)) {
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		/* A buffer's line: size, flags, mode, count, exporter, inode, name. */
		if (!found)
			found = line[0] >= '0' && line[0] <= '9' &&
				sscanf(line, "%*s %*s %*s %*s %*s %lu", &ino) == 1 &&
				ino == st.st_ino;
		else if (strstr(line, " devices attached") &&
			 sscanf(line, "Total %d devices attached", &n) == 1)
			break;
	}
	fclose(f);
	return n;
}

#define DGMM_HEAP_PATH "/dev/dma_heap/system"

/*
 * A new system dma-heap buffer of @len bytes, read-write: its fd, -ENODEV
 * without the heap (CONFIG_DMABUF_HEAPS_SYSTEM), or the allocation's -errno.
 */
static inline int dgmm_heap_buffer(size_t len)
{
	struct dma_heap_allocation_data alloc = { .len = len, .fd_flags = O_RDWR | O_CLOEXEC };
	int heap = open(DGMM_HEAP_PATH, O_RDONLY | O_CLOEXEC), err = 0;

	if (heap < 0)
		return -ENODEV;
	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &alloc))
		err = -errno;
	close(heap);
	return err ? err : (int)alloc.fd;
}

/* The number a sysfs or debugfs file holds; -1 if it cannot be read. */
static inline long long dgmm_read_number(const char *path)
{
	FILE *f = fopen(path, "r");
	long long n = -1;

	if (f) {
		if (fscanf(f, "%lld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/* DMA-API debugging's error count so far; -1 without CONFIG_DMA_API_DEBUG. */
static inline long dgmm_dma_api_errors(void)
{
	return dgmm_read_number("/sys/kernel/debug/dma-api/error_count");
}

static inline const char *dgmm_region_name(__u32 region)
{
	switch (region) {
	case DRM_DGMM_REGION_SYSTEM: return "SYSTEM";
	case DRM_DGMM_REGION_GTT: return "GTT";
	case DRM_DGMM_REGION_VRAM: return "VRAM";
	default: return "?";
	}
}

#endif
