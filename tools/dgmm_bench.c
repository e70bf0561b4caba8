// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * dgmm-bench: figures, not pass/fail. Each figure is printed with a baseline
 * measured in the same run, on the same (emulated, shared, noisy) machine:
 *
 * 1. VRAM->GTT and GTT->VRAM migration bandwidth of 1, 16 and 64 MiB BOs
 *    (migrate, then wait for the copy), against memcpy() between two buffers
 *    of the same size in this process.
 * 2. BO create+destroy rate in VRAM, against bochs dumb buffers (bochs is
 *    the in-tree TTM driver; its dumb buffers live in its VRAM).
 * 3. CPU fault throughput on a fresh mapping of a VRAM BO, one write per
 *    page, against the same on a bochs dumb buffer.
 *
 * Needs the VM of 'make bench' (bochs loaded on -vga std).
 */

#include <time.h>

#include "../selftests/uapi/dgmm_util.h"

#define MIB (1024 * 1024)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "dgmm-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* How many times to repeat a measurement of @size bytes: about 256 MiB. */
static int reps_for(size_t size)
{
	int reps = 256 * MIB / size;

	return reps < 4 ? 4 : reps;
}

static double memcpy_mibs(size_t size)
{
	char *a = malloc(size), *b = malloc(size);
	int reps = reps_for(size);
	double t;

	if (!a || !b)
		die("malloc");
	memset(a, 1, size);
	memset(b, 2, size);	/* fault both in before timing */
	t = now();
	for (int i = 0; i < reps; i++)
		memcpy(i & 1 ? a : b, i & 1 ? b : a, size);
	t = now() - t;
	free(a);
	free(b);
	return (double)size * reps / MIB / t;
}

/* Bandwidth of moving a BO from @from to @to, waiting for each copy. */
static double migrate_mibs(int fd, size_t size, __u32 from, __u32 to)
{
	int reps = reps_for(size) / 2;
	__u32 handle = 0;
	double t, moved = 0;

	if (dgmm_gem_create(fd, size, from, from | to, 0, &handle))
		die("create");
	if (dgmm_gem_wait(fd, handle, -1))
		die("wait");
	t = 0;
	for (int i = 0; i < reps; i++) {
		double t0 = now();

		if (dgmm_gem_migrate(fd, handle, to) || dgmm_gem_wait(fd, handle, -1))
			die("migrate");
		t += now() - t0;
		moved += size;
		/* Back again, untimed, for the next round. */
		if (dgmm_gem_migrate(fd, handle, from) || dgmm_gem_wait(fd, handle, -1))
			die("migrate back");
	}
	dgmm_gem_close(fd, handle);
	return moved / MIB / t;
}

static int open_bochs(void)
{
	for (int minor = 0; minor < 64; minor++) {
		char path[64], name[64];
		int fd;

		snprintf(path, sizeof(path), "/dev/dri/card%d", minor);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		dgmm_driver_name(fd, name, sizeof(name));
		if (!strcmp(name, "bochs-drm"))
			return fd;
		close(fd);
	}
	return -1;
}

/* A dumb buffer of @size bytes (as 1024-pixel-wide, 32 bpp rows). */
static int dumb_create(int fd, size_t size, __u32 *handle, __u64 *real_size)
{
	struct drm_mode_create_dumb c = {
		.width = 1024, .height = size / 4096, .bpp = 32,
	};

	if (dgmm_ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &c))
		return -errno;
	*handle = c.handle;
	*real_size = c.size;
	return 0;
}

static int dumb_destroy(int fd, __u32 handle)
{
	struct drm_mode_destroy_dumb d = { .handle = handle };

	return dgmm_ioctl(fd, DRM_IOCTL_MODE_DESTROY_DUMB, &d) ? -errno : 0;
}

static double dgmm_create_rate(int fd, size_t size, int reps)
{
	double t = now();

	for (int i = 0; i < reps; i++) {
		__u32 handle = 0;

		if (dgmm_gem_create(fd, size, DRM_DGMM_DOMAIN_VRAM, DRM_DGMM_DOMAIN_VRAM,
				    DRM_DGMM_GEM_CPU_ACCESS, &handle) ||
		    dgmm_gem_close(fd, handle))
			die("dgmm create/destroy");
	}
	return reps / (now() - t);
}

static double bochs_create_rate(int fd, size_t size, int reps)
{
	double t = now();

	for (int i = 0; i < reps; i++) {
		__u64 real;
		__u32 handle = 0;

		if (dumb_create(fd, size, &handle, &real) || dumb_destroy(fd, handle))
			die("bochs create/destroy");
	}
	return reps / (now() - t);
}

/* Pages faulted per second on fresh mappings at @offset of @fd. */
static double fault_rate(int fd, __u64 offset, size_t size, int reps)
{
	double t = 0;

	for (int i = 0; i < reps; i++) {
		char *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset);
		double t0;

		if (map == MAP_FAILED)
			die("mmap");
		t0 = now();
		for (size_t off = 0; off < size; off += 4096)
			map[off] = (char)i;
		t += now() - t0;
		munmap(map, size);
	}
	return (double)reps * (size / 4096) / t;
}

int main(void)
{
	static const size_t sizes[] = { 1 * MIB, 16 * MIB, 64 * MIB };
	const size_t small = 64 * 1024, fault_size = 4 * MIB;
	struct drm_dgmm_gem_mmap_offset mo = { 0 };
	struct drm_mode_map_dumb md = { 0 };
	double dgmm_rate, bochs_rate;
	int fd, bochs;
	__u64 real;

	if (dgmm_open_devices(&fd, NULL, 1) != 1) {
		fprintf(stderr, "dgmm-bench: no dgmm render node\n");
		return 1;
	}
	bochs = open_bochs();

	printf("# migration bandwidth (MiB/s) against memcpy in the same run\n");
	printf("%-8s %10s %12s %7s %12s %7s\n", "size", "memcpy", "VRAM->GTT", "ratio",
	       "GTT->VRAM", "ratio");
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		double base = memcpy_mibs(sizes[i]);
		double down = migrate_mibs(fd, sizes[i], DRM_DGMM_DOMAIN_VRAM, DRM_DGMM_DOMAIN_GTT);
		double up = migrate_mibs(fd, sizes[i], DRM_DGMM_DOMAIN_GTT, DRM_DGMM_DOMAIN_VRAM);

		printf("%4zu MiB %10.0f %12.0f %7.2f %12.0f %7.2f\n", sizes[i] / MIB, base,
		       down, down / base, up, up / base);
	}

	if (bochs < 0) {
		printf("# bochs not found: no baseline for create and fault rates\n");
		return 0;
	}

	printf("\n# VRAM BO create+destroy (per second), 64 KiB, against bochs dumb buffers\n");
	dgmm_rate = dgmm_create_rate(fd, small, 2000);
	bochs_rate = bochs_create_rate(bochs, small, 2000);
	printf("dgmm %.0f/s  bochs %.0f/s  ratio %.2f\n", dgmm_rate, bochs_rate,
	       dgmm_rate / bochs_rate);

	printf("\n# CPU faults on fresh mappings of a 4 MiB VRAM buffer (pages per second)\n");
	if (dgmm_gem_create(fd, fault_size, DRM_DGMM_DOMAIN_VRAM, DRM_DGMM_DOMAIN_VRAM,
			    DRM_DGMM_GEM_CPU_ACCESS, &mo.handle) ||
	    dgmm_ioctl(fd, DRM_IOCTL_DGMM_GEM_MMAP_OFFSET, &mo))
		die("dgmm BO");
	if (dumb_create(bochs, fault_size, &md.handle, &real) ||
	    dgmm_ioctl(bochs, DRM_IOCTL_MODE_MAP_DUMB, &md))
		die("bochs dumb buffer");
	dgmm_rate = fault_rate(fd, mo.offset, fault_size, 20);
	bochs_rate = fault_rate(bochs, md.offset, fault_size, 20);
	printf("dgmm %.0f/s  bochs %.0f/s  ratio %.2f\n", dgmm_rate, bochs_rate,
	       dgmm_rate / bochs_rate);
	return 0;
}
