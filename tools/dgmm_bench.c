// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * dgmm-bench: figures, not pass/fail. Each figure is the median of at least
 * eight samples taken after two warm-up runs, printed with its spread
 * (lowest and highest sample), beside a baseline measured the same way in the
 * same run on the same (emulated, shared, noisy) machine:
 *
 * 1. Migration VRAM->GTT and GTT->VRAM of 1, 16 and 64 MiB BOs, from the
 *    ioctl to idle, and the engine's own time for the copy (from its job
 *    fences' timestamps, debugfs engine/busy_ns), against memcpy() between
 *    two malloc'ed buffers and memcpy() between CPU mappings of a VRAM BO
 *    and a GTT BO.
 * 2. BO create+destroy rate, 64 KiB: a SYSTEM BO of dgmm against a bochs dumb
 *    buffer (both in SYSTEM, with no pages yet: like for like), and a VRAM BO
 *    that reads zero against the same bochs baseline.
 * 3. CPU faults on fresh 4 MiB mappings, one write per page: a SYSTEM BO of
 *    dgmm against a bochs dumb buffer (both fault in system pages), and a
 *    VRAM BO against the same.
 * 4. Eviction, on the last device (the smaller VRAM): bytes moved per
 *    second, out of VRAM and back in, while device jobs cycle through 2x
 *    and 3x VRAM in 8 MiB BOs (each job brings its BO back and evicts the
 *    least recently used one), against memcpy; the time per such eviction
 *    with 1,000 and with 100,000 other BOs alive in GTT (where no eviction
 *    walks: this shows that nothing else scans every BO), one against the
 *    other; the submit
 *    ioctl's latency when it evicts against when it does not; and jobs per
 *    second and bytes moved per job for a working set of 1.5x VRAM with a
 *    hot third, with and without a move budget of 32 MiB/s.
 * 5. Sharing: export of a 4 MiB dgmm BO and its import into vkms (which
 *    maps it) against the same from vgem; device 1's small job on an
 *    imported BO right after a move_notify (re-map) against with its
 *    mapping cached; device 1 copying 16 MiB peer-to-peer out of device
 *    0's VRAM against the same out of device 0's GTT (only where the
 *    platform allows peer-to-peer: DGMM_PLATFORM=iommu-switch).
 *
 * It refuses to report when the clock it measures with is jiffies (a guest
 * whose TSC was declared unstable): every figure would have a 4 ms grain.
 * The last thing it prints is the table, between DGMM-BENCH-TABLE markers.
 * Needs the VM of 'make bench' (bochs loaded on -vga std, debugfs mounted).
 */

#include <stdbool.h>
#include <sys/utsname.h>
#include <time.h>

#include "../selftests/uapi/dgmm_util.h"

#define MIB (1024 * 1024)
#define WARMUP 2
#define MAX_SAMPLES 64

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

/* A figure: the median of its samples and their spread. */
struct figure {
	double median, lo, hi;
	int n;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct figure summarize(double *samples, int n)
{
	struct figure f = { .n = n };

	qsort(samples, n, sizeof(*samples), cmp_double);
	f.lo = samples[0];
	f.hi = samples[n - 1];
	f.median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
	return f;
}

/* Samples for a size: at least 8, more for small ones (about 256 MiB in all). */
static int samples_for(size_t size)
{
	int n = 256 * MIB / size;

	return n < 8 ? 8 : n > MAX_SAMPLES ? MAX_SAMPLES : n;
}

/* --- the table ------------------------------------------------------------ */

struct row {
	char figure[64], baseline[64], unit[8], goal[16];
	struct figure ours, base;
};

static struct row rows[48];
static int nrows;
static char notes[12][160];
static int nnotes;

static void add_row(const char *figure, struct figure ours, const char *baseline,
		    struct figure base, const char *unit, const char *goal)
{
	struct row *r = &rows[nrows++];

	snprintf(r->figure, sizeof(r->figure), "%s", figure);
	snprintf(r->baseline, sizeof(r->baseline), "%s", baseline);
	snprintf(r->unit, sizeof(r->unit), "%s", unit);
	snprintf(r->goal, sizeof(r->goal), "%s", goal);
	r->ours = ours;
	r->base = base;
}

static void print_figure(const struct figure *f)
{
	printf(" %9.0f [%7.0f-%7.0f]", f->median, f->lo, f->hi);
}

static void print_table(const char *clocksource, const char *kernel)
{
	printf("DGMM-BENCH-TABLE-BEGIN\n");
	printf("# dgmm-bench: medians of >= 8 samples after warm-up, [lowest-highest];\n");
	printf("# ratio = figure / baseline (medians). Clocksource %s; kernel %s.\n",
	       clocksource, kernel);
	printf("%-34s %-6s %27s  %-30s %27s %6s %6s\n", "figure", "unit", "median [spread]",
	       "baseline (same run)", "median [spread]", "ratio", "goal");
	for (int i = 0; i < nrows; i++) {
		struct row *r = &rows[i];

		printf("%-34s %-6s", r->figure, r->unit);
		print_figure(&r->ours);
		printf("  %-30s", r->baseline);
		print_figure(&r->base);
		printf(" %6.2f %6s\n", r->ours.median / r->base.median, r->goal);
	}
	for (int i = 0; i < nnotes; i++)
		printf("# %s\n", notes[i]);
	printf("DGMM-BENCH-TABLE-END\n");
}

/* --- environment ------------------------------------------------------------ */

static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (f) {
		if (fgets(buf, len, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
}

static void clocksource_name(char *buf, size_t len)
{
	read_line("/sys/devices/system/clocksource/clocksource0/current_clocksource", buf, len);
}

/*
 * Stops the benchmark if the clock has jiffy resolution. At boot the kernel
 * first runs on tsc-early and switches to the calibrated tsc about a second
 * later: the first call waits for that.
 */
static void require_fine_clock(const char *when)
{
	char cs[64];

	for (int i = 0; i < 100; i++) {
		clocksource_name(cs, sizeof(cs));
		if (strcmp(cs, "tsc-early"))
			break;
		usleep(100000);
	}
	if (!cs[0] || strstr(cs, "jiffies")) {
		printf("dgmm-bench: refusing to report: the clocksource %s is '%s'\n",
		       when, cs[0] ? cs : "unknown");
		exit(2);
	}
}

/* A "name: value" line of a debugfs file of the device, or -1. */
static long long debugfs_counter(int minor, const char *file, const char *name)
{
	char path[128], line[128];
	long long value = -1;
	size_t len = strlen(name);
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/dri/%d/%s", minor, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ':')
			value = atoll(line + len + 1);
	fclose(f);
	return value;
}

/* The engine's busy time so far, in ns. */
static long long engine_busy_ns(int minor)
{
	return debugfs_counter(minor, "engine", "busy_ns");
}

/*
 * Lets the kernel's deferred work of the last operation finish, keeping this
 * CPU busy: a vCPU that goes idle under TCG on a shared host can take
 * milliseconds to run again, which would be measured as the next sample's.
 */
static void settle(void)
{
	double until = now() + 0.02;

	while (now() < until)
		;
}

/* --- migration ---------------------------------------------------------------- */

static void fill_pattern(void *p, size_t size)
{
	memset(p, 0x5a, size);
}

static struct figure memcpy_mibs(void *dst, void *src, size_t size)
{
	int n = samples_for(size);
	double s[MAX_SAMPLES];

	for (int i = 0; i < WARMUP + n; i++) {
		double t = now();

		memcpy(dst, src, size);
		t = now() - t;
		if (i >= WARMUP)
			s[i - WARMUP] = size / t / MIB;
	}
	return summarize(s, n);
}

static struct figure malloc_memcpy_mibs(size_t size)
{
	char *a = malloc(size), *b = malloc(size);
	struct figure f;

	if (!a || !b)
		die("malloc");
	fill_pattern(a, size);
	fill_pattern(b, size);	/* fault both in before timing */
	f = memcpy_mibs(b, a, size);
	free(a);
	free(b);
	return f;
}

/* memcpy between mappings of a VRAM BO and a GTT BO, in one direction. */
static struct figure mapped_memcpy_mibs(int fd, size_t size, bool to_vram)
{
	__u32 vram = 0, gtt = 0;
	char *v, *g;
	struct figure f;

	if (dgmm_gem_create(fd, size, DRM_DGMM_DOMAIN_VRAM, DRM_DGMM_DOMAIN_VRAM,
			    DRM_DGMM_GEM_CPU_ACCESS, &vram) ||
	    dgmm_gem_create(fd, size, DRM_DGMM_DOMAIN_GTT, DRM_DGMM_DOMAIN_GTT, 0, &gtt))
		die("create mapped BOs");
	v = dgmm_gem_mmap(fd, vram, size);
	g = dgmm_gem_mmap(fd, gtt, size);
	if (v == MAP_FAILED || g == MAP_FAILED)
		die("mmap");
	fill_pattern(v, size);
	fill_pattern(g, size);
	f = to_vram ? memcpy_mibs(v, g, size) : memcpy_mibs(g, v, size);
	munmap(v, size);
	munmap(g, size);
	dgmm_gem_close(fd, vram);
	dgmm_gem_close(fd, gtt);
	return f;
}

static void migrate_wait(int fd, __u32 handle, __u32 to)
{
	if (dgmm_gem_migrate(fd, handle, to) || dgmm_gem_wait(fd, handle, -1))
		die("migrate");
}

/*
 * Moves a BO of @size from @from to @to, timed from the ioctl until the BO is
 * idle, and back untimed; @engine gets the engine's own bandwidth for the
 * timed copies, from its busy time.
 */
static struct figure migrate_mibs(int fd, int minor, size_t size, __u32 from, __u32 to,
				  struct figure *engine)
{
	int n = samples_for(size);
	double s[MAX_SAMPLES], e[MAX_SAMPLES];
	__u32 handle = 0;
	char *map;

	if (dgmm_gem_create(fd, size, from, from | to, 0, &handle))
		die("create");
	/* Real contents, so that every move copies. */
	map = dgmm_gem_mmap(fd, handle, size);
	if (map == MAP_FAILED)
		die("mmap");
	fill_pattern(map, size);
	munmap(map, size);
	if (dgmm_gem_wait(fd, handle, -1))
		die("wait");

	for (int i = 0; i < WARMUP + n; i++) {
		long long busy = engine_busy_ns(minor);
		double t = now();

		migrate_wait(fd, handle, to);
		t = now() - t;
		busy = engine_busy_ns(minor) - busy;
		if (i >= WARMUP) {
			s[i - WARMUP] = size / t / MIB;
			e[i - WARMUP] = busy > 0 ? size / (busy / 1e9) / MIB : 0;
		}
		/*
		 * Back again, untimed. The old backing store is freed on TTM's
		 * worker once the copy is done: give it time before the next
		 * sample, so that the sample does not share the CPU with it.
		 */
		migrate_wait(fd, handle, from);
		settle();
	}
	dgmm_gem_close(fd, handle);
	*engine = summarize(e, n);
	return summarize(s, n);
}

/*
 * Three rows for one direction: the move against memcpy; against the
 * engine's own time for the same moves (what the manager adds around the
 * copy: ioctl, placement, waking the engine and the waiter); against memcpy
 * between CPU mappings of a VRAM and a GTT BO.
 */
static void migration_rows(const char *dir, const char *mapped_name, size_t size,
			   struct figure move, struct figure engine, struct figure base,
			   struct figure mapped)
{
	const char *goal = size >= 16 * MIB ? ">=0.90" : "-";
	char name[64], bname[64];

	snprintf(name, sizeof(name), "migrate %s %zu MiB", dir, size / MIB);
	snprintf(bname, sizeof(bname), "memcpy malloc->malloc %zu MiB", size / MIB);
	add_row(name, move, bname, base, "MiB/s", goal);
	add_row(name, move, "  the engine's own time", engine, "MiB/s", "-");
	add_row(name, move, mapped_name, mapped, "MiB/s", "-");
}

static void bench_migration(int fd, int minor)
{
	static const size_t sizes[] = { 1 * MIB, 16 * MIB, 64 * MIB };

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t size = sizes[i];
		struct figure base = malloc_memcpy_mibs(size);
		struct figure down_map = mapped_memcpy_mibs(fd, size, false);
		struct figure up_map = mapped_memcpy_mibs(fd, size, true);
		struct figure down_eng, up_eng;
		struct figure down = migrate_mibs(fd, minor, size, DRM_DGMM_DOMAIN_VRAM,
						  DRM_DGMM_DOMAIN_GTT, &down_eng);
		struct figure up = migrate_mibs(fd, minor, size, DRM_DGMM_DOMAIN_GTT,
						DRM_DGMM_DOMAIN_VRAM, &up_eng);
		migration_rows("VRAM->GTT", "memcpy VRAM map->GTT map", size, down, down_eng,
			       base, down_map);
		migration_rows("GTT->VRAM", "memcpy GTT map->VRAM map", size, up, up_eng,
			       base, up_map);
	}
}

/* --- BO creation and faults --------------------------------------------------- */

/* A dumb buffer of @size bytes (as 1024-pixel-wide, 32 bpp rows). */
static int dumb_create(int fd, size_t size, __u32 *handle)
{
	struct drm_mode_create_dumb c = {
		.width = 1024, .height = size / 4096, .bpp = 32,
	};

	if (dgmm_ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &c))
		return -errno;
	*handle = c.handle;
	return 0;
}

static int dumb_destroy(int fd, __u32 handle)
{
	struct drm_mode_destroy_dumb d = { .handle = handle };

	return dgmm_ioctl(fd, DRM_IOCTL_MODE_DESTROY_DUMB, &d) ? -errno : 0;
}

/* What is being created: a dgmm BO in a domain, or a bochs dumb buffer. */
struct kind {
	int fd;
	__u32 domain;	/* 0 for bochs */
};

static int create(const struct kind *k, size_t size, __u32 *handle)
{
	if (!k->domain)
		return dumb_create(k->fd, size, handle);
	return dgmm_gem_create(k->fd, size, k->domain, k->domain,
			       k->domain == DRM_DGMM_DOMAIN_VRAM ? DRM_DGMM_GEM_CPU_ACCESS : 0,
			       handle);
}

static int destroy(const struct kind *k, __u32 handle)
{
	return k->domain ? dgmm_gem_close(k->fd, handle) : dumb_destroy(k->fd, handle);
}

static __u64 map_offset(const struct kind *k, __u32 handle);

/* Maps a new buffer and writes one byte per page, as a user filling it would. */
static void touch(const struct kind *k, __u32 handle, size_t size)
{
	char *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, k->fd,
			 map_offset(k, handle));

	if (map == MAP_FAILED)
		die("mmap");
	for (size_t off = 0; off < size; off += 4096)
		map[off] = 1;
	munmap(map, size);
}

/* Create(+write)+destroy per second, in batches of 200. */
static struct figure create_rate(const struct kind *k, size_t size, bool write)
{
	double s[MAX_SAMPLES];
	int n = 8;

	for (int i = 0; i < WARMUP + n; i++) {
		double t = now();

		for (int j = 0; j < 200; j++) {
			__u32 handle = 0;

			if (create(k, size, &handle))
				die("create");
			if (write)
				touch(k, handle, size);
			if (destroy(k, handle))
				die("destroy");
		}
		t = now() - t;
		if (i >= WARMUP)
			s[i - WARMUP] = 200 / t;
	}
	return summarize(s, n);
}

static __u64 map_offset(const struct kind *k, __u32 handle)
{
	struct drm_dgmm_gem_mmap_offset mo = { .handle = handle };
	struct drm_mode_map_dumb md = { .handle = handle };

	if (!k->domain) {
		if (dgmm_ioctl(k->fd, DRM_IOCTL_MODE_MAP_DUMB, &md))
			die("map dumb");
		return md.offset;
	}
	if (dgmm_ioctl(k->fd, DRM_IOCTL_DGMM_GEM_MMAP_OFFSET, &mo))
		die("mmap offset");
	return mo.offset;
}

/* Pages faulted per second on fresh mappings of one buffer of @size. */
static struct figure fault_rate(const struct kind *k, size_t size)
{
	double s[MAX_SAMPLES];
	__u32 handle = 0;
	__u64 offset;
	int n = 8;

	if (create(k, size, &handle))
		die("create for faults");
	offset = map_offset(k, handle);
	for (int i = 0; i < WARMUP + n; i++) {
		char *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, k->fd, offset);
		double t;

		if (map == MAP_FAILED)
			die("mmap");
		t = now();
		for (size_t off = 0; off < size; off += 4096)
			map[off] = (char)i;
		t = now() - t;
		munmap(map, size);
		if (i >= WARMUP)
			s[i - WARMUP] = (size / 4096) / t;
	}
	destroy(k, handle);
	return summarize(s, n);
}

static void bench_objects(int fd, int minor, int bochs)
{
	const struct kind sys = { fd, DRM_DGMM_DOMAIN_SYSTEM };
	const struct kind vram = { fd, DRM_DGMM_DOMAIN_VRAM };
	const struct kind dumb = { bochs, 0 };
	long long clears, skipped;
	struct figure base;

	base = create_rate(&dumb, 64 * 1024, false);
	add_row("create+destroy SYSTEM BO 64 KiB", create_rate(&sys, 64 * 1024, false),
		"bochs dumb (SYSTEM) 64 KiB", base, "1/s", ">=1.00");
	clears = debugfs_counter(minor, "stats", "clears");
	skipped = debugfs_counter(minor, "stats", "clears_skipped");
	add_row("create+destroy VRAM BO (zeroed)", create_rate(&vram, 64 * 1024, false),
		"bochs dumb (SYSTEM) 64 KiB", base, "1/s", ">=1.00");
	snprintf(notes[nnotes++], sizeof(notes[0]),
		 "untouched VRAM creates: %lld needed no clear (cleared blocks), %lld were cleared",
		 debugfs_counter(minor, "stats", "clears_skipped") - skipped,
		 debugfs_counter(minor, "stats", "clears") - clears);

	/* Written before destroy: every create must clear what the last wrote. */
	base = create_rate(&dumb, 64 * 1024, true);
	clears = debugfs_counter(minor, "stats", "clears");
	add_row("create+write+destroy VRAM BO", create_rate(&vram, 64 * 1024, true),
		"bochs dumb (SYSTEM), written", base, "1/s", "-");
	snprintf(notes[nnotes++], sizeof(notes[0]),
		 "written VRAM creates: %lld were cleared on the engine",
		 debugfs_counter(minor, "stats", "clears") - clears);
	add_row("create+write+destroy SYSTEM BO", create_rate(&sys, 64 * 1024, true),
		"bochs dumb (SYSTEM), written", base, "1/s", "-");

	base = fault_rate(&dumb, 4 * MIB);
	add_row("CPU faults SYSTEM BO 4 MiB", fault_rate(&sys, 4 * MIB),
		"bochs dumb (SYSTEM) 4 MiB", base, "page/s", "-");
	add_row("CPU faults VRAM BO 4 MiB", fault_rate(&vram, 4 * MIB),
		"bochs dumb (SYSTEM) 4 MiB", base, "page/s", "-");
}

/* --- eviction ---------------------------------------------------------------- */

#define BUDGET_PARAM "/sys/module/dgmm/parameters/move_budget_mbps"

static void set_budget(unsigned int mbps)
{
	char v[16];

	snprintf(v, sizeof(v), "%u", mbps);
	if (dgmm_write_file(BUDGET_PARAM, v))
		die(BUDGET_PARAM);
}

/* Bytes the device's moves have copied so far (debugfs stats). */
static long long moved_bytes(int minor)
{
	static const char *const names[] = { "system", "gtt", "vram" };
	long long sum = 0;
	char name[32];

	for (int f = 0; f < 3; f++) {
		for (int t = 0; t < 3; t++) {
			snprintf(name, sizeof(name), "bytes %s->%s", names[f], names[t]);
			sum += debugfs_counter(minor, "stats", name);
		}
	}
	return sum;
}

static long long evictions(int minor)
{
	return debugfs_counter(minor, "stats", "evictions from vram") +
	       debugfs_counter(minor, "stats", "evictions from gtt");
}

struct pool {
	__u32 *h;
	int n;
};

static struct pool pool_create(int fd, int n, size_t size, __u32 preferred, __u32 allowed)
{
	struct pool p = { calloc(n, sizeof(__u32)), n };

	if (!p.h)
		die("calloc");
	for (int i = 0; i < n; i++)
		if (dgmm_gem_create(fd, size, preferred, allowed, 0, &p.h[i]))
			die("create");
	return p;
}

static void pool_idle(int fd, struct pool *p)
{
	for (int i = 0; i < p->n; i++)
		if (dgmm_gem_wait(fd, p->h[i], -1))
			die("wait");
}

static void pool_free(int fd, struct pool *p)
{
	pool_idle(fd, p);
	for (int i = 0; i < p->n; i++)
		dgmm_gem_close(fd, p->h[i]);
	free(p->h);
	settle();
}

static void job(int fd, __u32 h)
{
	if (dgmm_submit_fill(fd, h, 0, 4096, 0x5a))
		die("submit");
}

/*
 * One round: a job on each BO of @p in creation order, which is least
 * recently used first: every job brings its BO back to VRAM and evicts the
 * next one's. Returns MiB/s moved (from the device's own count).
 */
static double eviction_round(int fd, int minor, struct pool *p, long long *evicted)
{
	long long moved = moved_bytes(minor), ev = evictions(minor);
	double t = now();

	for (int i = 0; i < p->n; i++)
		job(fd, p->h[i]);
	pool_idle(fd, p);
	t = now() - t;
	*evicted = evictions(minor) - ev;
	return (moved_bytes(minor) - moved) / t / MIB;
}

static struct figure eviction_mibs(int fd, int minor, __u64 vram, int times)
{
	const size_t size = 8 * MIB;
	struct pool p = pool_create(fd, times * vram / size, size, DRM_DGMM_DOMAIN_VRAM,
				    DRM_DGMM_DOMAIN_VRAM | DRM_DGMM_DOMAIN_GTT);
	double s[MAX_SAMPLES];
	long long ev = 0;
	const int n = 8;

	for (int i = 0; i < WARMUP + n; i++) {
		double mibs = eviction_round(fd, minor, &p, &ev);

		if (i >= WARMUP)
			s[i - WARMUP] = mibs;
	}
	snprintf(notes[nnotes++], sizeof(notes[0]),
		 "eviction at %dx VRAM: %d BOs of 8 MiB, %lld evictions in the last round of %d jobs",
		 times, p.n, ev, p.n);
	pool_free(fd, &p);
	return summarize(s, n);
}

/*
 * Microseconds per eviction with @others 4 KiB BOs alive in GTT: jobs on
 * a pool of twice VRAM, each of which evicts one BO; the others are older,
 * idle, and in no one's way.
 */
static struct figure eviction_cost_us(int fd, int minor, __u64 vram, int others)
{
	const size_t size = 4 * MIB;
	struct pool bystanders = pool_create(fd, others, 4096, DRM_DGMM_DOMAIN_GTT,
					     DRM_DGMM_DOMAIN_GTT);
	struct pool p = pool_create(fd, 2 * vram / size, size, DRM_DGMM_DOMAIN_VRAM,
				    DRM_DGMM_DOMAIN_VRAM | DRM_DGMM_DOMAIN_GTT);
	double s[MAX_SAMPLES];
	const int n = 8;

	for (int i = 0; i < WARMUP + n; i++) {
		long long ev = evictions(minor);
		double t = now();

		for (int j = 0; j < p.n; j++)
			job(fd, p.h[j]);
		pool_idle(fd, &p);
		t = now() - t;
		ev = evictions(minor) - ev;
		if (ev <= 0) {
			errno = EAGAIN;
			die("a round of the eviction-cost figure evicted nothing");
		}
		if (i >= WARMUP)
			s[i - WARMUP] = t * 1e6 / ev;
	}
	pool_free(fd, &p);
	pool_free(fd, &bystanders);
	return summarize(s, n);
}

/*
 * Microseconds in the submit ioctl for a one-page fill. Without eviction:
 * BOs that fill half of VRAM, each job's BO in VRAM already. Evicting:
 * BOs of twice VRAM, jobs on the first half, which creating the second
 * evicted to GTT: each job brings its BO back and evicts another, and the
 * ioctl returns without waiting for either copy.
 */
static struct figure submit_us(int fd, __u64 vram, bool evicting)
{
	const size_t size = 4 * MIB;
	struct pool p = pool_create(fd, (evicting ? 2 * vram : vram / 2) / size, size,
				    DRM_DGMM_DOMAIN_VRAM,
				    DRM_DGMM_DOMAIN_VRAM | DRM_DGMM_DOMAIN_GTT);
	int n = evicting ? p.n / 2 - 1 : p.n;
	double s[MAX_SAMPLES];

	if (n > MAX_SAMPLES)
		n = MAX_SAMPLES;
	pool_idle(fd, &p);
	settle();
	for (int i = 0; i < n; i++) {
		double t = now();

		job(fd, p.h[i]);
		s[i] = (now() - t) * 1e6;
		if (dgmm_gem_wait(fd, p.h[i], -1))
			die("wait");
		settle();
	}
	pool_free(fd, &p);
	return summarize(s, n);
}

/*
 * A working set of @scale x VRAM in 4 MiB BOs, a hot part (half of VRAM)
 * taking nine jobs in ten: jobs per second, in samples of at least 200 ms
 * (so that a budget refills during each), and the bytes moved per job,
 * with the given move budget. Notes how many hot BOs end in VRAM: the
 * simulated engine reaches GTT as fast as VRAM, so jobs per second alone
 * cannot show what staying in GTT would cost on real hardware.
 */
static struct figure hot_set(int fd, int minor, __u64 vram, double scale,
			     unsigned int budget, struct figure *moved_per_job)
{
	const size_t size = 4 * MIB;
	struct pool p = pool_create(fd, scale * vram / size, size, DRM_DGMM_DOMAIN_VRAM,
				    DRM_DGMM_DOMAIN_VRAM | DRM_DGMM_DOMAIN_GTT);
	int hot = (vram / 2) / size < p.n ? (vram / 2) / size : p.n, in_vram = 0;
	double s[MAX_SAMPLES], m[MAX_SAMPLES];
	unsigned long long r = 0x9e3779b97f4a7c15ull;
	const int n = 8;

	set_budget(budget);
	for (int i = 0; i < WARMUP + n; i++) {
		long long moved = moved_bytes(minor);
		double t = now(), elapsed;
		int jobs = 0;

		do {
			for (int j = 0; j < 64; j++, jobs++) {
				int k;

				r ^= r << 13;
				r ^= r >> 7;
				r ^= r << 17;
				/* Nine in ten on the hot BOs; all on them if none is cold. */
				if (r % 10 && p.n > hot)
					k = (r >> 8) % hot;
				else if (p.n > hot)
					k = hot + (r >> 8) % (p.n - hot);
				else
					k = (r >> 8) % p.n;
				job(fd, p.h[k]);
			}
			pool_idle(fd, &p);
			elapsed = now() - t;
		} while (elapsed < 0.2);
		if (i >= WARMUP) {
			s[i - WARMUP] = jobs / elapsed;
			m[i - WARMUP] = (moved_bytes(minor) - moved) / (double)jobs / 1024;
		}
	}
	set_budget(0);
	for (int k = 0; k < hot; k++) {
		struct drm_dgmm_gem_info info;

		in_vram += !dgmm_gem_info(fd, p.h[k], &info) && info.domain == DRM_DGMM_DOMAIN_VRAM;
	}
	if (scale > 1)
		snprintf(notes[nnotes++], sizeof(notes[0]),
			 "%.1fx VRAM, budget %u MiB/s (0: none): %d of the %d hot BOs in VRAM at the end",
			 scale, budget, in_vram, hot);
	pool_free(fd, &p);
	*moved_per_job = summarize(m, n);
	return summarize(s, n);
}

/* --- sharing --------------------------------------------------------------- */

static int prime_export(int fd, __u32 handle)
{
	int buf = dgmm_prime_export(fd, handle);

	if (buf < 0)
		die("PRIME export");
	return buf;
}

static __u32 prime_import(int fd, int buf)
{
	__u32 handle = 0;

	if (dgmm_prime_import(fd, buf, &handle))
		die("PRIME import");
	return handle;
}

static void gem_close_handle(int fd, __u32 handle)
{
	struct drm_gem_close c = { .handle = handle };

	if (dgmm_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &c))
		die("GEM close");
}

/* Writes one byte per page of a dumb buffer, so that it has its pages. */
static void touch_dumb(int fd, __u32 handle, size_t size)
{
	struct drm_mode_map_dumb m = { .handle = handle };
	__u8 *p;

	if (dgmm_ioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &m))
		die("map a dumb buffer");
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, m.offset);
	if (p == MAP_FAILED)
		die("mmap a dumb buffer");
	for (size_t i = 0; i < size; i += 4096)
		p[i] = 1;
	munmap(p, size);
}

/*
 * Export of a 4 MiB buffer that has its pages and its import into vkms,
 * which attaches and maps it (a static importer: dgmm pins it in GTT
 * first), timed from the export to the import's return; the buffer is
 * made, and everything closed, untimed.
 */
static struct figure export_import_us(int exporter, int kms, bool dgmm)
{
	const size_t size = 4 * MIB;
	double t[MAX_SAMPLES];
	int n = 16;

	for (int i = -WARMUP; i < n; i++) {
		__u32 handle = 0, imported;
		double t0;
		int buf;

		if (dgmm ? dgmm_gem_create(exporter, size, DRM_DGMM_DOMAIN_GTT,
					   DRM_DGMM_DOMAIN_GTT | DRM_DGMM_DOMAIN_VRAM, 0, &handle)
			 : dumb_create(exporter, size, &handle))
			die("create a buffer to share");
		/* Both with their pages before the clock starts. */
		if (dgmm && dgmm_gem_wait(exporter, handle, -1))
			die("wait");
		if (!dgmm)
			touch_dumb(exporter, handle, size);
		t0 = now();
		buf = prime_export(exporter, handle);
		imported = prime_import(kms, buf);
		if (i >= 0)
			t[i] = (now() - t0) * 1e6;
		gem_close_handle(kms, imported);
		close(buf);
		if (dgmm)
			dgmm_gem_close(exporter, handle);
		else
			dumb_destroy(exporter, handle);
	}
	return summarize(t, n);
}

/* A 4 KiB fill of @y on device @fd, submit to idle, in microseconds. */
static double small_job_us(int fd, __u32 y)
{
	double t0 = now();

	if (dgmm_submit_fill(fd, y, 0, 4096, 0x5a) || dgmm_gem_wait(fd, y, -1))
		die("a job on the imported BO");
	return (now() - t0) * 1e6;
}

/*
 * Device 1's small job on an imported 16 MiB BO of device 0: with its
 * mapping cached, and right after device 0 moved the BO GTT->SYSTEM->GTT
 * (pages kept, so nothing is copied; the invalidation happened in device
 * 0's moves, untimed): the difference is the re-map of 4096 pages.
 */
static void remap_us(int a, int b, struct figure *cached, struct figure *remapped)
{
	const size_t size = 16 * MIB;
	double c[MAX_SAMPLES], r[MAX_SAMPLES];
	int n = 16, buf;
	__u32 x = 0, y;

	if (dgmm_gem_create(a, size, DRM_DGMM_DOMAIN_GTT,
			    DRM_DGMM_DOMAIN_GTT | DRM_DGMM_DOMAIN_SYSTEM, 0, &x))
		die("create the shared BO");
	buf = prime_export(a, x);
	y = prime_import(b, buf);
	small_job_us(b, y);
	for (int i = -WARMUP; i < n; i++) {
		double t = small_job_us(b, y);

		if (i >= 0)
			c[i] = t;
		migrate_wait(a, x, DRM_DGMM_DOMAIN_SYSTEM);
		migrate_wait(a, x, DRM_DGMM_DOMAIN_GTT);
		t = small_job_us(b, y);
		if (i >= 0)
			r[i] = t;
	}
	*cached = summarize(c, n);
	*remapped = summarize(r, n);
	gem_close_handle(b, y);
	close(buf);
	dgmm_gem_close(a, x);
}

/*
 * Device 1 copies 16 MiB of device 0's BO into its own VRAM: peer-to-peer
 * from device 0's VRAM (if the platform allows it) against the same copy
 * from device 0's GTT. Returns false where there is no peer-to-peer.
 */
static bool p2p_mibs(int a, int b, struct figure *p2p, struct figure *gtt)
{
	const size_t size = 16 * MIB;
	double s[2][MAX_SAMPLES];
	struct drm_dgmm_gem_info info;
	struct drm_dgmm_job_op op = { .op = DRM_DGMM_OP_COPY, .size = size };
	struct drm_dgmm_submit sub = { .ops = (__u64)(uintptr_t)&op, .num_ops = 1 };
	__u32 x = 0, z = 0;
	int n = 8, buf;

	if (dgmm_gem_create(a, size, DRM_DGMM_DOMAIN_VRAM,
			    DRM_DGMM_DOMAIN_VRAM | DRM_DGMM_DOMAIN_GTT,
			    DRM_DGMM_GEM_CPU_ACCESS, &x) ||
	    dgmm_gem_create(b, size, DRM_DGMM_DOMAIN_VRAM, DRM_DGMM_DOMAIN_VRAM, 0, &z))
		die("create the BOs to copy");
	buf = prime_export(a, x);
	op.src_handle = prime_import(b, buf);
	op.dst_handle = z;
	for (int where = 0; where < 2; where++) {
		migrate_wait(a, x, where ? DRM_DGMM_DOMAIN_GTT : DRM_DGMM_DOMAIN_VRAM);
		for (int i = -WARMUP; i < n; i++) {
			double t0 = now();

			if (dgmm_ioctl(b, DRM_IOCTL_DGMM_SUBMIT, &sub) || dgmm_gem_wait(b, z, -1))
				die("copy from the shared BO");
			if (i >= 0)
				s[where][i] = size / MIB / (now() - t0);
		}
		/* Peer-to-peer leaves it in VRAM; without, the import moved it. */
		if (!where && (dgmm_gem_info(a, x, &info) || info.domain != DRM_DGMM_DOMAIN_VRAM))
			break;
		if (!where)
			*p2p = summarize(s[0], n);
		else
			*gtt = summarize(s[1], n);
	}
	gem_close_handle(b, op.src_handle);
	close(buf);
	dgmm_gem_close(a, x);
	dgmm_gem_close(b, z);
	return gtt->n > 0;
}

static void bench_sharing(int a, int b)
{
	struct figure f, base;
	int kms = dgmm_open_card("vkms"), vgem = dgmm_open_card("vgem");

	if (kms < 0 || vgem < 0) {
		snprintf(notes[nnotes++], sizeof(notes[0]), "%s",
			 "no vkms or vgem card: export+import into vkms not measured");
	} else {
		f = export_import_us(a, kms, true);
		base = export_import_us(vgem, kms, false);
		add_row("export+import(+map) into vkms", f, "the same from vgem", base, "us", "~1");
	}
	if (kms >= 0)
		close(kms);
	if (vgem >= 0)
		close(vgem);

	remap_us(a, b, &base, &f);
	add_row("dev1 4 KiB job that re-maps", f, "the same, mapping cached", base,
		"us", "-");

	memset(&f, 0, sizeof(f));
	memset(&base, 0, sizeof(base));
	if (p2p_mibs(a, b, &f, &base))
		add_row("dev1 copy 16 MiB, P2P from VRAM", f, "the same from dev0's GTT", base,
			"MiB/s", ">=1");
	else
		snprintf(notes[nnotes++], sizeof(notes[0]), "%s",
			 "no peer-to-peer on this platform: P2P bandwidth not measured (DGMM_PLATFORM=iommu-switch make bench)");
}

static void bench_eviction(int fd, int minor)
{
	__u64 vram = dgmm_region(fd, DRM_DGMM_REGION_VRAM).size;
	struct figure base = malloc_memcpy_mibs(8 * MIB), a, b, off_moved, on_moved, fits;

	set_budget(0);
	add_row("moved at 2x VRAM (out and back)", eviction_mibs(fd, minor, vram, 2),
		"memcpy malloc->malloc 8 MiB", base, "MiB/s", "-");
	add_row("moved at 3x VRAM (out and back)", eviction_mibs(fd, minor, vram, 3),
		"memcpy malloc->malloc 8 MiB", base, "MiB/s", "-");

	a = eviction_cost_us(fd, minor, vram, 1000);
	b = eviction_cost_us(fd, minor, vram, 100000);
	add_row("time per eviction, 100000 BOs", b, "the same, 1000 BOs", a, "us", "~1");

	a = submit_us(fd, vram, false);
	b = submit_us(fd, vram, true);
	add_row("submit ioctl, evicting", b, "submit ioctl, no eviction", a, "us", "~1");

	fits = hot_set(fd, minor, vram, 0.5, 0, &off_moved);
	a = hot_set(fd, minor, vram, 1.5, 0, &off_moved);
	b = hot_set(fd, minor, vram, 1.5, 32, &on_moved);
	add_row("jobs 1.5x VRAM hot third, no budget", a, "working set 0.5x VRAM", fits,
		"jobs/s", "-");
	add_row("jobs 1.5x VRAM hot third, 32 MiB/s", b, "working set 0.5x VRAM", fits,
		"jobs/s", "-");
	add_row("jobs 1.5x VRAM hot third, 32 MiB/s", b, "the same, no budget", a, "jobs/s", ">1");
	add_row("moved per job, budget 32 MiB/s", on_moved, "moved per job, no budget",
		off_moved, "KiB", "<1");
}

int main(void)
{
	char cs[160], cs_end[64], kernel[160];
	struct utsname u;
	int fds[DGMM_MAX_DEVICES], minors[DGMM_MAX_DEVICES], ndev, fd, minor, bochs;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ndev = dgmm_open_devices(fds, minors, DGMM_MAX_DEVICES);
	if (ndev < 1) {
		fprintf(stderr, "dgmm-bench: no dgmm render node\n");
		return 1;
	}
	fd = fds[0];
	minor = minors[0];
	require_fine_clock("before the run");
	clocksource_name(cs, sizeof(cs));
	uname(&u);
	snprintf(kernel, sizeof(kernel), "%s, %s", u.release,
		 access("/proc/lockdep", F_OK) ? "no lockdep (no debug options)"
					       : "WITH LOCKDEP (a debug kernel)");
	printf("dgmm-bench: clocksource %s, kernel %s\n", cs, kernel);
	if (engine_busy_ns(minor) < 0) {
		fprintf(stderr, "dgmm-bench: no engine/busy_ns in debugfs\n");
		return 1;
	}
	bochs = dgmm_open_card("bochs-drm");
	if (bochs < 0) {
		fprintf(stderr, "dgmm-bench: bochs not found: no baseline for BOs and faults\n");
		return 1;
	}

	bench_migration(fd, minor);
	snprintf(notes[nnotes++], sizeof(notes[0]), "%s",
		 "the engine copies with 64-bit moves, which beat glibc's memcpy under TCG: memcpy is a reference, not an upper bound");
	bench_objects(fd, minor, bochs);
	bench_eviction(fds[ndev - 1], minors[ndev - 1]);
	if (ndev >= 2)
		bench_sharing(fds[0], fds[1]);

	require_fine_clock("at the end of the run");
	clocksource_name(cs_end, sizeof(cs_end));
	if (strcmp(cs, cs_end)) {
		strncat(cs, " then ", sizeof(cs) - strlen(cs) - 1);
		strncat(cs, cs_end, sizeof(cs) - strlen(cs) - 1);
	}
	print_table(cs, kernel);
	return 0;
}
