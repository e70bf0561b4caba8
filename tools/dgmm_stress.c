// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * dgmm-stress: a seeded, reproducible stress of one dgmm device.
 *
 *   dgmm-stress [--seed N] [--seconds S] [--procs P] [--threads T]
 *               [--device I] [--oversubscribe X] [--fault-inject]
 *               [--evict [--budget-mbps M]] [--share]
 *
 * P worker processes, each with its own DRM file shared by T threads, each
 * thread with its own BOs and random stream (from the seed), keep a working
 * set of X times the device's VRAM between them and do, at random: create
 * BOs (any domains,
 * with or without CPU access), write pages through the CPU, fill and copy
 * page ranges with device jobs, migrate, wait, verify and close. Every
 * byte a worker checks is compared with its model of the BO (one byte
 * value per page). The parent kills a worker now and then (SIGKILL, jobs in
 * flight) and starts another in its place. At the end every worker closes
 * everything and the device's VRAM and GTT use must return to where it was.
 *
 * With --fault-inject, the workers' own allocations in the kernel fail at
 * random (failslab and fail_page_alloc, limited to tasks that set
 * /proc/self/make-it-fail): ioctls must then fail cleanly (-ENOMEM,
 * -ENOSPC, -EINTR, -EAGAIN) and no content may be lost.
 *
 * With --evict the workers instead create their share of the working set
 * up front (BOs that prefer VRAM and may go to GTT) and drive it with
 * device jobs only: nine jobs in ten on a hot quarter of their BOs (about
 * three quarters of VRAM at 3x), the rest on the cold ones; they read BOs
 * back through /proc/self/mem, which moves nothing. A job's BOs
 * always fit in VRAM and GTT, so a job that fails with -ENOMEM or -ENOSPC
 * failed because the eviction it needed did not happen: the run counts
 * those (they must be zero), and prints the device's evictions, the way
 * back to VRAM (promotions) and the bytes moved, from its debugfs stats.
 * --budget-mbps sets dgmm's move_budget_mbps for the run (0: no budget).
 *
 * With --share every BO a worker creates on device I (one that may be in
 * GTT) is exported as a dma-buf and imported into another device, the
 * peer (device 0, or device 1 when I is 0), through the worker's second
 * DRM file; half the device jobs on shared BOs then run on the peer,
 * reading and writing the BO through its dma-buf mapping, while device
 * I's CPU writes, jobs, migrations and evictions move it (each move tells
 * the peer, which maps it again at its next job). Both devices' jobs go
 * through the BO's one reservation, so the model still says what every
 * byte must be. The run prints the exporter's move_notify count and the
 * peer's invalidations and maps from their debugfs stats, and fails if
 * nothing moved under the peer (on a kernel with move_notify: without it,
 * the peer pins what it imports).
 *
 * The output is TAP, with the counts on comment lines; the exit status is
 * 0 only if nothing was lost and every error was one of the expected kind.
 */

#include <dirent.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "../selftests/uapi/dgmm_util.h"

#define PAGE 4096ull
#define MAX_BOS 64
#define MAX_PROCS 16
#define MAX_THREADS 8

/* xorshift64*: small, and the same everywhere for a given seed. */
static __thread __u64 rng_state;

static __u64 rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static __u64 below(__u64 n)
{
	return n ? rnd() % n : 0;
}

/*
 * Losses and unexpected errors, shared with the parent as they happen: a
 * worker that is killed later never reports its counts.
 */
struct shared {
	__u64 lost_bytes;
	__u64 err_other;
};

static struct shared *shared;

/* Counters a worker hands back to the parent through a pipe when it ends. */
struct counts {
	__u64 ops, creates, writes, fills, copies, migrates, waits, closes;
	__u64 shares, peer_fills, peer_copies, peer_tries, peer_failed, peer_busy;
	__u64 peer_bytes_verified;
	__u64 bytes_verified, lost_bytes, spurious;
	__u64 err_nomem, err_nospc, err_busy, err_intr, err_other;
	int first_other_err;
};

struct bo {
	__u32 handle;
	__u64 size;		/* bytes */
	__u32 domains;
	bool hot;		/* --evict: in the hot quarter */
	int buf;		/* --share: its dma-buf, or -1 */
	__u32 peer;		/* --share: its handle on the peer, if @buf >= 0 */
	__u8 *map;
	__u8 *model;		/* one value per page */
	__u8 *by_peer;		/* --share: per page, whether the peer wrote it last */
};

struct worker {
	int fd;
	int peer_fd;		/* --share: the worker's file on the peer device */
	struct bo bos[MAX_BOS];
	int n;
	__u64 budget, used;
	struct counts c;
};

/* --evict: the eviction mode (see the top of this file). */
static bool evict_mode;
/* --share: BOs are shared with the next device (see the top of this file). */
static bool share_mode;

/* /proc/self/make-it-fail of a worker under fault injection, or -1. */
static __thread int make_it_fail = -1;

/*
 * Fault injection covers the worker's ioctls only: its CPU accesses to
 * mappings (whose faults may move BOs) run without it, so that a failed
 * allocation shows up as an ioctl's error and never as a signal.
 */
static void faults_on(bool on)
{
	if (make_it_fail >= 0 && pwrite(make_it_fail, on ? "1" : "0", 1, 0) != 1)
		printf("# could not %s fault injection\n", on ? "start" : "stop");
}

static void count_err(struct counts *c, int err)
{
	switch (err) {
	case -ENOMEM:
		c->err_nomem++;
		break;
	case -ENOSPC:
		c->err_nospc++;
		break;
	case -EBUSY:
		c->err_busy++;
		break;
	case -EINTR:
	case -EAGAIN:
	case -ERESTART:
		c->err_intr++;
		break;
	default:
		if (!c->err_other)
			c->first_other_err = err;
		c->err_other++;
		__atomic_add_fetch(&shared->err_other, 1, __ATOMIC_RELAXED);
		break;
	}
}

/*
 * --evict: a job's BOs fit in VRAM and GTT whatever else is allocated (the
 * working set is at most VRAM + GTT): without fault injection, no room
 * means an eviction that should have happened did not. (Elsewhere BOs
 * that may not leave VRAM, or pins for importers, can leave no room.)
 */
static void count_job_err(struct worker *w, int err)
{
	count_err(&w->c, err);
	if (evict_mode && (err == -ENOMEM || err == -ENOSPC) && make_it_fail < 0) {
		if (!w->c.spurious)
			printf("# job failed with %s without fault injection\n", strerror(-err));
		w->c.spurious++;
	}
}

static int submit(int fd, struct drm_dgmm_job_op *op)
{
	struct drm_dgmm_submit s = { .ops = (__u64)(uintptr_t)op, .num_ops = 1 };
	int err;

	faults_on(true);
	err = dgmm_ioctl(fd, DRM_IOCTL_DGMM_SUBMIT, &s) ? -errno : 0;
	faults_on(false);
	return err;
}

/*
 * --evict reads BOs through /proc/self/mem, as a debugger would: that
 * reads VRAM where it is. A fault on the mapping would move a BO into the
 * CPU-visible window, and evict others, for the check alone.
 */
static __thread int mem_fd = -1;

/* A page of @b to check, or NULL (an error counted) if it cannot be read. */
static const __u8 *read_page(struct worker *w, struct bo *b, __u64 p, __u8 *buf)
{
	const __u8 *page = b->map + p * PAGE;
	ssize_t n;

	if (!evict_mode)
		return page;
	if (mem_fd < 0)
		mem_fd = open("/proc/self/mem", O_RDONLY);
	n = pread(mem_fd, buf, PAGE, (off_t)(uintptr_t)page);
	if (n != PAGE) {
		count_err(&w->c, n < 0 ? -errno : -EIO);
		return NULL;
	}
	return buf;
}

/* Checks every byte of @b against its model; the BO must be idle. */
static void verify(struct worker *w, struct bo *b)
{
	static __thread __u8 buf[PAGE];

	for (__u64 p = 0; p < b->size / PAGE; p++) {
		const __u8 *page = read_page(w, b, p, buf);

		if (!page)
			return;

		if (b->by_peer[p])
			w->c.peer_bytes_verified += PAGE;
		for (__u64 i = 0; i < PAGE; i++) {
			if (page[i] != b->model[p]) {
				if (!w->c.lost_bytes)
					printf("# lost: BO %u page %llu byte %llu: %#x, not %#x\n",
					       b->handle, (unsigned long long)p,
					       (unsigned long long)i, page[i], b->model[p]);
				w->c.lost_bytes++;
				__atomic_add_fetch(&shared->lost_bytes, 1, __ATOMIC_RELAXED);
			}
		}
	}
	w->c.bytes_verified += b->size;
}

static int wait_idle(struct worker *w, struct bo *b)
{
	int err;

	faults_on(true);
	err = dgmm_gem_wait(w->fd, b->handle, -1);
	faults_on(false);

	w->c.waits++;
	if (err)
		count_err(&w->c, err);
	return err;
}

/*
 * Maps a new BO and gives it a model (all zero, as the BO reads). On
 * failure the error is counted and the BO closed.
 */
static bool bo_map(struct worker *w, struct bo *b)
{
	b->buf = -1;
	b->map = dgmm_gem_mmap(w->fd, b->handle, b->size);
	b->model = calloc(b->size / PAGE, 1);
	b->by_peer = calloc(b->size / PAGE, 1);
	if (b->map != MAP_FAILED && b->model && b->by_peer)
		return true;
	count_err(&w->c, b->map == MAP_FAILED ? -errno : -ENOMEM);
	if (b->map != MAP_FAILED)
		munmap(b->map, b->size);
	free(b->model);
	free(b->by_peer);
	dgmm_gem_close(w->fd, b->handle);
	return false;
}

/*
 * --share: exports @b and imports it into the peer. A BO that cannot be
 * shared (an error counted) stays device I's alone.
 */
static void bo_share(struct worker *w, struct bo *b)
{
	int buf, err;

	faults_on(true);
	buf = dgmm_prime_export(w->fd, b->handle);
	err = buf < 0 ? buf : dgmm_prime_import(w->peer_fd, buf, &b->peer);
	faults_on(false);
	if (err) {
		count_err(&w->c, err);
		if (buf >= 0)
			close(buf);
		return;
	}
	b->buf = buf;
	w->c.shares++;
}

/* Lets go of @b on the peer: its handle there, then the dma-buf. */
static void bo_unshare(struct worker *w, struct bo *b)
{
	if (b->buf < 0)
		return;
	dgmm_gem_close(w->peer_fd, b->peer);
	close(b->buf);
	b->buf = -1;
}

static void op_create(struct worker *w)
{
	static const __u32 allowed[] = {
		DRM_DGMM_DOMAIN_VRAM, DRM_DGMM_DOMAIN_GTT,
		DRM_DGMM_DOMAIN_VRAM | DRM_DGMM_DOMAIN_GTT,
		DRM_DGMM_DOMAIN_VRAM | DRM_DGMM_DOMAIN_GTT | DRM_DGMM_DOMAIN_SYSTEM,
		DRM_DGMM_DOMAIN_GTT | DRM_DGMM_DOMAIN_SYSTEM,
	};
	struct bo *b = &w->bos[w->n];
	__u32 flags = below(2) ? DRM_DGMM_GEM_CPU_ACCESS : 0;
	__u32 domains = allowed[below(ARRAY_SIZE(allowed))];
	__u32 preferred = domains & DRM_DGMM_DOMAIN_VRAM ? DRM_DGMM_DOMAIN_VRAM : domains;
	int err;

	/* Shared BOs may be in GTT, where a peer reaches them without P2P. */
	if (share_mode)
		domains |= DRM_DGMM_DOMAIN_GTT;
	if (w->n == MAX_BOS)
		return;
	b->size = (1 + below(below(2) ? 1024 : 32)) * PAGE;
	if (w->used + b->size > w->budget)
		return;
	faults_on(true);
	err = dgmm_gem_create(w->fd, b->size, preferred, domains, flags, &b->handle);
	faults_on(false);
	if (err) {
		count_err(&w->c, err);
		return;
	}
	if (!bo_map(w, b))
		return;
	if (share_mode)
		bo_share(w, b);
	b->domains = domains;
	w->used += b->size;
	w->n++;
	w->c.creates++;
}

static void op_close(struct worker *w, int i)
{
	struct bo *b = &w->bos[i];

	if (!wait_idle(w, b))
		verify(w, b);
	bo_unshare(w, b);
	munmap(b->map, b->size);
	free(b->model);
	free(b->by_peer);
	dgmm_gem_close(w->fd, b->handle);
	w->used -= b->size;
	w->bos[i] = w->bos[--w->n];
	w->c.closes++;
}

/* A random page range of @b: first page and count. */
static void range(struct bo *b, __u64 *first, __u64 *count)
{
	__u64 pages = b->size / PAGE;

	*first = below(pages);
	*count = 1 + below(pages - *first);
}

static void op_write(struct worker *w, struct bo *b)
{
	__u64 first, count;
	__u8 v = 1 + below(255);

	if (wait_idle(w, b))
		return;
	range(b, &first, &count);
	memset(b->map + first * PAGE, v, count * PAGE);
	memset(b->model + first, v, count);
	memset(b->by_peer + first, 0, count);
	w->c.writes++;
}

/* --share: half the jobs on shared BOs run on the peer, through the import. */
static bool on_peer(struct bo *a, struct bo *b)
{
	return share_mode && a->buf >= 0 && b->buf >= 0 && below(2);
}

/* A job the peer could not run: counted apart, and as any job's error. */
static void count_peer_err(struct worker *w, int err)
{
	w->c.peer_failed++;
	w->c.peer_busy += err == -EBUSY;
	count_job_err(w, err);
}

static void op_fill(struct worker *w, struct bo *b)
{
	bool peer = on_peer(b, b);
	struct drm_dgmm_job_op op = { .op = DRM_DGMM_OP_FILL,
				      .dst_handle = peer ? b->peer : b->handle };
	__u64 first, count;
	__u8 v = 1 + below(255);
	int err;

	if (!(b->domains & (DRM_DGMM_DOMAIN_VRAM | DRM_DGMM_DOMAIN_GTT)))
		return;
	range(b, &first, &count);
	op.dst_offset = first * PAGE;
	op.size = count * PAGE;
	op.value = v;
	w->c.peer_tries += peer;
	err = submit(peer ? w->peer_fd : w->fd, &op);
	if (err) {
		peer ? count_peer_err(w, err) : count_job_err(w, err);
		return;
	}
	memset(b->model + first, v, count);
	memset(b->by_peer + first, peer, count);
	w->c.fills++;
	w->c.peer_fills += peer;
}

static void op_copy(struct worker *w, struct bo *dst, struct bo *src)
{
	bool peer = on_peer(dst, src);
	struct drm_dgmm_job_op op = { .op = DRM_DGMM_OP_COPY,
				      .dst_handle = peer ? dst->peer : dst->handle,
				      .src_handle = peer ? src->peer : src->handle };
	__u64 pages, s, d;
	__u32 device = DRM_DGMM_DOMAIN_VRAM | DRM_DGMM_DOMAIN_GTT;
	int err;

	if (dst == src || !(dst->domains & device) || !(src->domains & device))
		return;
	pages = 1 + below((dst->size < src->size ? dst->size : src->size) / PAGE);
	s = below(src->size / PAGE - pages + 1);
	d = below(dst->size / PAGE - pages + 1);
	op.src_offset = s * PAGE;
	op.dst_offset = d * PAGE;
	op.size = pages * PAGE;
	w->c.peer_tries += peer;
	err = submit(peer ? w->peer_fd : w->fd, &op);
	if (err) {
		peer ? count_peer_err(w, err) : count_job_err(w, err);
		return;
	}
	memmove(dst->model + d, src->model + s, pages);
	memset(dst->by_peer + d, peer, pages);
	w->c.copies++;
	w->c.peer_copies += peer;
}

static void op_migrate(struct worker *w, struct bo *b)
{
	__u32 options[3], n = 0;
	int err;

	for (__u32 d = 1; d <= DRM_DGMM_DOMAIN_VRAM; d <<= 1)
		if (b->domains & d)
			options[n++] = d;
	faults_on(true);
	err = dgmm_gem_migrate(w->fd, b->handle, options[below(n)]);
	faults_on(false);
	if (err) {
		count_err(&w->c, err);
		return;
	}
	w->c.migrates++;
}

static void op_verify(struct worker *w, struct bo *b)
{
	if (!wait_idle(w, b))
		verify(w, b);
}

/* --evict: the working set, created up front: BOs of 1 to 4 MiB. */
static void evict_setup(struct worker *w)
{
	for (int tries = 0; w->n < MAX_BOS && tries < 4 * MAX_BOS; tries++) {
		struct bo *b = &w->bos[w->n];
		int err;

		b->size = (256 + below(768)) * PAGE;
		if (w->used + b->size > w->budget)
			break;
		faults_on(true);
		err = dgmm_gem_create(w->fd, b->size, DRM_DGMM_DOMAIN_VRAM,
				      DRM_DGMM_DOMAIN_VRAM | DRM_DGMM_DOMAIN_GTT, 0, &b->handle);
		faults_on(false);
		if (err) {
			/* The working set fits in VRAM and GTT: as for a job. */
			count_job_err(w, err);
			continue;
		}
		if (!bo_map(w, b))
			break;
		b->domains = DRM_DGMM_DOMAIN_VRAM | DRM_DGMM_DOMAIN_GTT;
		b->hot = w->n % 4 == 0;
		w->used += b->size;
		w->n++;
		w->c.creates++;
	}
}

/* A BO of the hot quarter nine times in ten, else a cold one. */
static struct bo *evict_pick(struct worker *w)
{
	bool hot = below(10) != 0;

	for (int tries = 0; tries < 8; tries++) {
		struct bo *b = &w->bos[below(w->n)];

		if (b->hot == hot)
			return b;
	}
	return &w->bos[below(w->n)];
}

static void evict_step(struct worker *w)
{
	unsigned int r = below(100);
	struct bo *b = evict_pick(w);

	w->c.ops++;
	if (r < 70)
		op_fill(w, b);
	else if (r < 97)
		op_copy(w, b, evict_pick(w));
	else
		op_verify(w, b);
}

static void worker_step(struct worker *w)
{
	unsigned int r = below(100);
	struct bo *b;

	w->c.ops++;
	if (!w->n || r < 15) {
		op_create(w);
		return;
	}
	b = &w->bos[below(w->n)];
	if (r < 35)
		op_write(w, b);
	else if (r < 55)
		op_fill(w, b);
	else if (r < 70)
		op_copy(w, b, &w->bos[below(w->n)]);
	else if (r < 82)
		op_migrate(w, b);
	else if (r < 92)
		op_verify(w, b);
	else
		op_close(w, b - w->bos);
}

/* Device @index of the dgmm render nodes. */
static int open_device(int index)
{
	int fds[DGMM_MAX_DEVICES], n = dgmm_open_devices(fds, NULL, DGMM_MAX_DEVICES);
	int fd = -1;

	for (int i = 0; i < n; i++) {
		if (i == index)
			fd = fds[i];
		else
			close(fds[i]);
	}
	return fd;
}

static void write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, value, strlen(value)) < 0)
		printf("# could not write %s to %s: %s\n", value, path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* One thread of a worker: its own BOs, the worker's DRM file. */
struct thread {
	pthread_t id;
	int fd, peer_fd;
	__u64 seed, budget;
	time_t deadline;
	bool faults, failed;
	struct counts c;
};

/* Runs until the deadline, then closes everything. */
static void *thread_main(void *arg)
{
	struct thread *t = arg;
	struct worker *w = calloc(1, sizeof(*w));

	if (!w) {
		t->failed = true;
		return NULL;
	}
	w->fd = t->fd;
	w->peer_fd = t->peer_fd;
	w->budget = t->budget;
	rng_state = t->seed * 0x9e3779b97f4a7c15ull + 1;
	if (t->faults) {
		make_it_fail = open("/proc/thread-self/make-it-fail", O_WRONLY);
		if (make_it_fail < 0)
			t->failed = true;
	}
	if (evict_mode)
		evict_setup(w);
	while (!t->failed && time(NULL) < t->deadline && (!evict_mode || w->n))
		evict_mode ? evict_step(w) : worker_step(w);
	/* The end is checked without faults: nothing may have been lost. */
	if (make_it_fail >= 0)
		close(make_it_fail);
	make_it_fail = -1;
	while (w->n)
		op_close(w, w->n - 1);
	if (mem_fd >= 0)
		close(mem_fd);
	t->c = w->c;
	free(w);
	return NULL;
}

static void add_counts(struct counts *sum, const struct counts *c);

/*
 * A worker process: @threads threads on one DRM file (one scheduler
 * entity, concurrent submits), each with its share of @budget. Reports the
 * sum of their counts through @out.
 */
static void worker_main(int device, __u64 seed, __u64 budget, unsigned int threads,
			time_t deadline, int out, bool faults)
{
	struct thread t[MAX_THREADS] = { 0 };
	struct counts sum = { 0 };
	int fd = open_device(device);
	int peer_fd = share_mode ? open_device(device ? 0 : 1) : -1;

	if (fd < 0 || (share_mode && peer_fd < 0))
		_exit(3);
	for (unsigned int i = 0; i < threads; i++) {
		t[i] = (struct thread){ .fd = fd, .peer_fd = peer_fd,
					.seed = seed * MAX_THREADS + i,
					.budget = budget / threads, .deadline = deadline,
					.faults = faults };
		if (pthread_create(&t[i].id, NULL, thread_main, &t[i]))
			_exit(5);
	}
	for (unsigned int i = 0; i < threads; i++) {
		pthread_join(t[i].id, NULL);
		if (t[i].failed)
			_exit(6);
		add_counts(&sum, &t[i].c);
	}
	close(fd);
	if (peer_fd >= 0)
		close(peer_fd);
	if (write(out, &sum, sizeof(sum)) != sizeof(sum))
		_exit(4);
	_exit(0);
}

static void add_counts(struct counts *sum, const struct counts *c)
{
	__u64 *s = (__u64 *)sum;
	const __u64 *a = (const __u64 *)c;

	for (size_t i = 0; i < offsetof(struct counts, first_other_err) / sizeof(__u64); i++)
		s[i] += a[i];
	if (!sum->first_other_err)
		sum->first_other_err = c->first_other_err;
}

static const char *const fault_dirs[] = {
	"/sys/kernel/debug/failslab", "/sys/kernel/debug/fail_page_alloc",
};

#define FAULT_TIMES 100000000

/*
 * Turns failslab and fail_page_alloc on (2% of the allocations of tasks
 * that set make-it-fail, sleeping ones included, user pages excluded) or
 * off. Returns how many faults they injected since they were turned on
 * (from what is left of "times"), or -1 without fault injection.
 */
/*
 * failslab with cache-filter fails only the slab caches marked for it: all
 * but the buddy allocator's. gpu_buddy's split_block() failing (6.12) leads
 * its error path to free a block still in its free tree, and the next
 * allocation oopses (seen with this stress: NULL pointer dereference in
 * mark_free() from split_block()). A cache can be marked only if it is not
 * merged with another: the check kernel boots with slab_nomerge.
 */
static int mark_caches(bool on)
{
	DIR *dir = opendir("/sys/kernel/slab");
	char path[300];
	struct dirent *d;
	int marked = 0;

	while (dir && (d = readdir(dir))) {
		int fd;

		/* Nor kmemleak's own: it would stop tracking, and hide leaks. */
		if (d->d_name[0] == '.' || strstr(d->d_name, "buddy") ||
		    strstr(d->d_name, "kmemleak"))
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/failslab", d->d_name);
		fd = open(path, O_WRONLY);
		if (fd < 0)
			continue;
		/* A merged cache refuses: it stays out. */
		if (write(fd, on ? "1" : "0", 1) == 1)
			marked++;
		close(fd);
	}
	if (dir)
		closedir(dir);
	return marked;
}

static int marked_caches;

static long long faults_setup(bool on)
{
	/*
	 * fail_page_alloc fails only orders of 1 and up: the buddy allocator's
	 * slab takes order-0 pages (see mark_caches()).
	 */
	static const char *const attrs[][2] = {
		{ "task-filter", "Y" }, { "verbose", "0" }, { "interval", "1" },
		{ "ignore-gfp-wait", "N" }, { "ignore-gfp-highmem", "Y" },
		{ "cache-filter", "Y" }, { "min-order", "1" },
	};
	long long injected = 0;
	char path[128], times[32];

	for (size_t i = 0; i < ARRAY_SIZE(fault_dirs); i++) {
		long long left = 0;
		FILE *f;

		snprintf(path, sizeof(path), "%s/probability", fault_dirs[i]);
		if (access(path, W_OK))
			return -1;
		if (on) {
			for (size_t a = 0; a < ARRAY_SIZE(attrs); a++) {
				snprintf(path, sizeof(path), "%s/%s", fault_dirs[i], attrs[a][0]);
				if (!access(path, F_OK))
					write_file(path, attrs[a][1]);
			}
			snprintf(path, sizeof(path), "%s/times", fault_dirs[i]);
			snprintf(times, sizeof(times), "%d", FAULT_TIMES);
			write_file(path, times);
		} else {
			snprintf(path, sizeof(path), "%s/times", fault_dirs[i]);
			f = fopen(path, "r");
			if (f && fscanf(f, "%lld", &left) == 1)
				injected += FAULT_TIMES - left;
			if (f)
				fclose(f);
		}
		snprintf(path, sizeof(path), "%s/probability", fault_dirs[i]);
		write_file(path, on ? "2" : "0");
	}
	marked_caches = mark_caches(on);
	return injected;
}

#define BUDGET_PARAM "/sys/module/dgmm/parameters/move_budget_mbps"

/* The first line of @path, without its newline; 0 or -1. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	bool ok = f && fgets(buf, len, f);

	if (f)
		fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/*
 * The debugfs directory of the device DRM file @fd is open on, into @dir;
 * false if it has no readable stats file.
 */
static bool debugfs_dir(int fd, char *dir, size_t len)
{
	char pci[64], stats[320];

	if (dgmm_pci_name(fd, pci, sizeof(pci)))
		return false;
	snprintf(dir, len, "/sys/kernel/debug/dri/%s", pci);
	snprintf(stats, sizeof(stats), "%s/stats", dir);
	return !access(stats, R_OK);
}

/* What the device's debugfs stats say about moves (see dgmm_debugfs.c). */
struct dev_stats {
	unsigned long long moved, evict_vram, evict_gtt, promoted, no_room, over_budget;
	unsigned long long notifies, invalidations, maps, move_notify, pinned;
	unsigned long long dma_faults;	/* from the engine's file beside it */
};

/* The counters read as they are, by their key in "stats" or "engine". */
static const struct {
	const char *key;
	size_t offset;
} stat_keys[] = {
	{ "evictions from vram", offsetof(struct dev_stats, evict_vram) },
	{ "evictions from gtt", offsetof(struct dev_stats, evict_gtt) },
	{ "promotions", offsetof(struct dev_stats, promoted) },
	{ "promotions_no_room", offsetof(struct dev_stats, no_room) },
	{ "promotions_over_budget", offsetof(struct dev_stats, over_budget) },
	{ "dmabuf_move_notify", offsetof(struct dev_stats, move_notify) },
	{ "dmabuf_move_notifies", offsetof(struct dev_stats, notifies) },
	{ "dmabuf_invalidations", offsetof(struct dev_stats, invalidations) },
	{ "dmabuf_maps", offsetof(struct dev_stats, maps) },
	{ "dma_faults", offsetof(struct dev_stats, dma_faults) },
};

/* Adds the "key: value" lines of debugfs file @dir/@file to @st. */
static void read_stats_file(const char *dir, const char *file, struct dev_stats *st)
{
	char line[128], key[64], path[384];
	unsigned long long v;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63[^:]: %llu", key, &v) != 2)
			continue;
		/* Summed over their placements. */
		if (!strncmp(key, "bytes ", 6))
			st->moved += v;
		else if (!strncmp(key, "dmabuf_pinned ", 14))
			st->pinned += v;
		for (size_t i = 0; i < ARRAY_SIZE(stat_keys); i++)
			if (!strcmp(key, stat_keys[i].key))
				*(unsigned long long *)((char *)st + stat_keys[i].offset) = v;
	}
	if (f)
		fclose(f);
}

/* The device's counters: the memory manager's "stats", the engine's "engine". */
static struct dev_stats read_stats(const char *dir)
{
	struct dev_stats st = { 0 };

	read_stats_file(dir, "stats", &st);
	read_stats_file(dir, "engine", &st);
	return st;
}

static void print_eviction(const struct counts *c, const struct dev_stats *b,
			   const struct dev_stats *a, bool have_stats, double seconds)
{
	unsigned long long jobs = c->fills + c->copies;

	printf("# eviction: jobs %llu (%.1f/s over %.1f s), ENOMEM or ENOSPC %llu\n", jobs,
	       jobs / seconds, seconds, (unsigned long long)c->spurious);
	if (!have_stats) {
		printf("# no debugfs stats: moves not counted\n");
		return;
	}
	printf("# evictions from VRAM %llu, from GTT %llu\n",
	       a->evict_vram - b->evict_vram, a->evict_gtt - b->evict_gtt);
	printf("# promotions %llu, no room %llu, over budget %llu\n",
	       a->promoted - b->promoted, a->no_room - b->no_room,
	       a->over_budget - b->over_budget);
	printf("# bytes moved %llu, %llu per job\n", a->moved - b->moved,
	       jobs ? (a->moved - b->moved) / jobs : 0);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 't' },
		{ "procs", required_argument, NULL, 'p' },
		{ "device", required_argument, NULL, 'd' },
		{ "threads", required_argument, NULL, 'T' },
		{ "oversubscribe", required_argument, NULL, 'x' },
		{ "fault-inject", no_argument, NULL, 'f' },
		{ "evict", no_argument, NULL, 'e' },
		{ "budget-mbps", required_argument, NULL, 'b' },
		{ "share", no_argument, NULL, 'S' },
		{ 0 }
	};
	__u64 seed = time(NULL), vram, gtt, vram0, gtt0, budget;
	int seconds = 20, procs = 4, threads = 2, device = 0, x = 3, opt, fd;
	int pipes[MAX_PROCS][2];
	pid_t pids[MAX_PROCS];
	struct counts sum = { 0 };
	struct drm_dgmm_query_regions *r;
	bool faults = false, ok = true, back = false;
	const char *budget_mbps = NULL;
	char old_budget[32] = "", dir[300] = "", peer_dir[300] = "";
	struct dev_stats before = { 0 }, after = { 0 }, peer_before = { 0 }, peer_after = { 0 };
	__u64 peer_gtt0 = 0, peer_gtt = 0, peer_vram0 = 0, peer_vram = 0;
	int peer_fd = -1;
	long long injected = 0;
	unsigned int kills = 0, restarts = 0, next = 0;
	time_t deadline;
	struct timespec start;
	double run_seconds;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 't':
			seconds = atoi(optarg);
			break;
		case 'p':
			procs = atoi(optarg);
			break;
		case 'd':
			device = atoi(optarg);
			break;
		case 'T':
			threads = atoi(optarg);
			break;
		case 'x':
			x = atoi(optarg);
			break;
		case 'f':
			faults = true;
			break;
		case 'e':
			evict_mode = true;
			break;
		case 'b':
			budget_mbps = optarg;
			break;
		case 'S':
			share_mode = true;
			break;
		default:
			return 2;
		}
	}
	if (procs < 1 || procs > MAX_PROCS || threads < 1 || threads > MAX_THREADS ||
	    seconds < 1 || x < 1 || (evict_mode && share_mode) || device < 0 ||
	    device >= DGMM_MAX_DEVICES)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return 1;
	printf("TAP version 13\n1..%d\n", evict_mode || share_mode ? 4 : 3);
	printf("# dgmm-stress --seed %llu --seconds %d --procs %d --threads %d --device %d",
	       (unsigned long long)seed, seconds, procs, threads, device);
	printf(" --oversubscribe %d%s%s%s%s%s\n", x, faults ? " --fault-inject" : "",
	       evict_mode ? " --evict" : "", budget_mbps ? " --budget-mbps " : "",
	       budget_mbps ? budget_mbps : "", share_mode ? " --share" : "");

	fd = open_device(device);
	if (fd >= 0 && debugfs_dir(fd, dir, sizeof(dir)))
		before = read_stats(dir);
	else
		dir[0] = '\0';
	if (share_mode) {
		peer_fd = open_device(device ? 0 : 1);
		if (peer_fd < 0) {
			printf("not ok 1 open device %d, the peer of --share\n", device ? 0 : 1);
			return 1;
		}
		if (debugfs_dir(peer_fd, peer_dir, sizeof(peer_dir)))
			peer_before = read_stats(peer_dir);
		else
			peer_dir[0] = '\0';
		peer_gtt0 = dgmm_region_used(peer_fd, DRM_DGMM_REGION_GTT);
		peer_vram0 = dgmm_region_used(peer_fd, DRM_DGMM_REGION_VRAM);
	}
	if (budget_mbps && (read_line(BUDGET_PARAM, old_budget, sizeof(old_budget)) ||
			    dgmm_write_file(BUDGET_PARAM, budget_mbps))) {
		printf("not ok 1 set %s to %s\n", BUDGET_PARAM, budget_mbps);
		return 1;
	}
	r = fd < 0 ? NULL : dgmm_query_regions(fd);
	if (!r) {
		printf("not ok 1 open device %d\n", device);
		return 1;
	}
	vram0 = r->regions[DRM_DGMM_REGION_VRAM].used;
	gtt0 = r->regions[DRM_DGMM_REGION_GTT].used;
	budget = x * r->regions[DRM_DGMM_REGION_VRAM].size / procs;
	free(r);
	if (faults && faults_setup(true) < 0) {
		printf("not ok 1 # SKIP no fault injection in debugfs\n");
		return 4;
	}
	if (faults)
		printf("# slab caches failslab may fail: %d\n", marked_caches);

	rng_state = seed;
	/*
	 * Workers run while time() is below the deadline: from now to the
	 * next second boundary plus seconds - 1 whole ones.
	 */
	clock_gettime(CLOCK_REALTIME, &start);
	deadline = start.tv_sec + seconds;
	run_seconds = seconds - start.tv_nsec / 1e9;
	for (int i = 0; i < procs; i++) {
		if (pipe(pipes[i]))
			return 1;
		pids[i] = fork();
		if (!pids[i])
			worker_main(device, seed + next, budget, threads, deadline, pipes[i][1],
				    faults);
		next++;
	}
	/* Now and then one worker is killed, jobs in flight, and replaced. */
	while (time(NULL) + 2 < deadline) {
		int i = below(procs);

		usleep(500000 + below(1500000));
		if (time(NULL) + 2 >= deadline || below(3))
			continue;
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
		close(pipes[i][0]);
		close(pipes[i][1]);
		kills++;
		if (pipe(pipes[i]))
			return 1;
		pids[i] = fork();
		if (!pids[i])
			worker_main(device, seed + next, budget, threads, deadline, pipes[i][1],
				    faults);
		next++;
		restarts++;
	}
	for (int i = 0; i < procs; i++) {
		struct counts c;
		int status;

		waitpid(pids[i], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) ||
		    read(pipes[i][0], &c, sizeof(c)) != sizeof(c)) {
			printf("# worker %d did not finish cleanly (status %#x)\n", i, status);
			ok = false;
			continue;
		}
		add_counts(&sum, &c);
	}
	injected = faults ? faults_setup(false) : 0;
	if (old_budget[0])
		dgmm_write_file(BUDGET_PARAM, old_budget);
	if (dir[0])
		after = read_stats(dir);
	if (peer_dir[0])
		peer_after = read_stats(peer_dir);

	printf("# operations %llu: creates %llu, CPU writes %llu, fills %llu, copies %llu,",
	       (unsigned long long)sum.ops, (unsigned long long)sum.creates,
	       (unsigned long long)sum.writes, (unsigned long long)sum.fills,
	       (unsigned long long)sum.copies);
	printf(" migrations %llu, waits %llu, closes %llu\n", (unsigned long long)sum.migrates,
	       (unsigned long long)sum.waits, (unsigned long long)sum.closes);
	printf("# workers killed %u, restarted %u\n", kills, restarts);
	printf("# bytes verified %llu, lost %llu\n", (unsigned long long)sum.bytes_verified,
	       (unsigned long long)sum.lost_bytes);
	printf("# errors: ENOMEM %llu, ENOSPC %llu, EBUSY %llu, interrupted %llu, other %llu",
	       (unsigned long long)sum.err_nomem, (unsigned long long)sum.err_nospc,
	       (unsigned long long)sum.err_busy, (unsigned long long)sum.err_intr,
	       (unsigned long long)sum.err_other);
	if (sum.err_other)
		printf(" (first: %d)", sum.first_other_err);
	printf("\n");
	if (faults)
		printf("# faults injected (failslab, fail_page_alloc): %lld\n", injected);
	if (evict_mode)
		print_eviction(&sum, &before, &after, dir[0], run_seconds);
	if (share_mode) {
		printf("# shared BOs %llu; peer jobs %llu: fills %llu, copies %llu, ",
		       (unsigned long long)sum.shares, (unsigned long long)sum.peer_tries,
		       (unsigned long long)sum.peer_fills, (unsigned long long)sum.peer_copies);
		printf("failed %llu (EBUSY %llu); bytes the peer wrote verified %llu\n",
		       (unsigned long long)sum.peer_failed, (unsigned long long)sum.peer_busy,
		       (unsigned long long)sum.peer_bytes_verified);
		printf("# exporter: move_notify %llu; peer: invalidations %llu, maps %llu; ",
		       after.notifies - before.notifies,
		       peer_after.invalidations - peer_before.invalidations,
		       peer_after.maps - peer_before.maps);
		printf("DMA faults %llu and %llu\n",
		       after.dma_faults - before.dma_faults,
		       peer_after.dma_faults - peer_before.dma_faults);
	}

	/* What killed workers found counts too; and the run must have done its work. */
	sum.lost_bytes = shared->lost_bytes;
	sum.err_other = shared->err_other;
	ok = ok && sum.bytes_verified && sum.fills && sum.copies && (evict_mode || sum.migrates);
	ok = ok && (!share_mode || (sum.shares && sum.peer_fills && sum.peer_copies));
	if (faults && (injected <= 0 || !marked_caches)) {
		printf("# fault injection did not take effect\n");
		ok = false;
	}
	printf("%s 1 every worker finished and verified its BOs (%llu bytes)\n",
	       ok ? "ok" : "not ok", (unsigned long long)sum.bytes_verified);
	printf("%s 2 no byte lost, no unexpected error (killed workers included)\n",
	       !sum.lost_bytes && !sum.err_other ? "ok" : "not ok");

	/* Killed workers' BOs go once their jobs are done. */
	for (int t = 0; t < 300; t++) {
		vram = dgmm_region_used(fd, DRM_DGMM_REGION_VRAM);
		gtt = dgmm_region_used(fd, DRM_DGMM_REGION_GTT);
		if (peer_fd >= 0) {
			peer_gtt = dgmm_region_used(peer_fd, DRM_DGMM_REGION_GTT);
			peer_vram = dgmm_region_used(peer_fd, DRM_DGMM_REGION_VRAM);
		}
		back = vram <= vram0 && gtt <= gtt0 && peer_gtt <= peer_gtt0 &&
		       peer_vram <= peer_vram0;
		if (back)
			break;
		usleep(100000);
	}
	printf("%s 3 VRAM and GTT use back where they were (VRAM %llu/%llu, GTT %llu/%llu bytes",
	       back ? "ok" : "not ok",
	       (unsigned long long)vram, (unsigned long long)vram0, (unsigned long long)gtt,
	       (unsigned long long)gtt0);
	if (peer_fd >= 0)
		printf("; the peer's VRAM %llu/%llu, GTT %llu/%llu", (unsigned long long)peer_vram,
		       (unsigned long long)peer_vram0, (unsigned long long)peer_gtt,
		       (unsigned long long)peer_gtt0);
	printf(")\n");
	if (evict_mode) {
		printf("%s 4 no job failed with ENOMEM or ENOSPC (%llu did)\n",
		       sum.spurious ? "not ok" : "ok", (unsigned long long)sum.spurious);
		ok = ok && !sum.spurious;
	}
	if (share_mode && (!dir[0] || !peer_dir[0])) {
		printf("not ok 4 no debugfs stats on both devices: sharing not counted\n");
		ok = false;
	} else if (share_mode) {
		/*
		 * Most peer jobs ran (GTT full, or the pin cap where importers
		 * pin, may refuse some), what they wrote was read back, no
		 * address faulted, nothing stayed pinned; with move_notify,
		 * shared BOs moved under the peer, which mapped them again
		 * and was never refused for a pin.
		 */
		bool shared = sum.peer_tries && sum.peer_failed * 2 < sum.peer_tries &&
			      sum.peer_bytes_verified && after.dma_faults == before.dma_faults &&
			      peer_after.dma_faults == peer_before.dma_faults && !after.pinned;
		bool moved = after.notifies > before.notifies &&
			     peer_after.invalidations > peer_before.invalidations &&
			     peer_after.maps > peer_before.maps && !sum.peer_busy;

		printf("%s 4 shared BOs: peer jobs ran and wrote what was read back%s",
		       shared && (moved || !after.move_notify) ? "ok" : "not ok",
		       after.move_notify ? ", they moved under the peer, which mapped them again" :
		       " (importers pin on this kernel: no CONFIG_DMABUF_MOVE_NOTIFY)");
		printf(" (pinned after: %llu bytes)\n", after.pinned);
		ok = ok && shared && (moved || !after.move_notify);
	}
	if (peer_fd >= 0)
		close(peer_fd);
	close(fd);
	return ok && !sum.lost_bytes && !sum.err_other && back ? 0 : 1;
}
