// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * uAPI tests of dgmm's buffer objects on every device: create in each
 * domain, mmap, check zero, write, migrate through every other domain and
 * read back through the same mapping; a CPU touch of a BO in CPU-invisible
 * VRAM moves it into the window; every rejection of every GEM ioctl field;
 * dumb buffers as DRM users expect them.
 */

#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <linux/dma-buf.h>

#include "kselftest_harness.h"
#include "dgmm_util.h"

#define S DRM_DGMM_DOMAIN_SYSTEM
#define G DRM_DGMM_DOMAIN_GTT
#define V DRM_DGMM_DOMAIN_VRAM
#define ALL (S | G | V)

/* A load the compiler may not fold: the memory is the device's. */
#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

#define pattern dgmm_pattern
#define first_bad_word dgmm_first_bad_word

FIXTURE(gem) {
	int fd[DGMM_MAX_DEVICES];
	int n;
	unsigned int engine_mbps;	/* to restore, if @throttled */
	bool throttled;
};

FIXTURE_SETUP(gem)
{
	self->n = dgmm_open_devices(self->fd, NULL, DGMM_MAX_DEVICES);
	if (!self->n)
		SKIP(return, "no dgmm render node");
}

FIXTURE_TEARDOWN(gem)
{
	for (int i = 0; i < self->n; i++)
		close(self->fd[i]);
	if (self->throttled)
		EXPECT_EQ(0, dgmm_engine_mbps(self->engine_mbps, NULL));
}

/* For each start domain: zero, write, then visit every other domain and back. */
TEST_F(gem, migrate_keeps_contents)
{
	static const __u32 start[] = { V, G, S };
	static const __u32 path[3][3] = { { G, S, V }, { V, S, G }, { V, G, S } };
	const size_t size = 2 * 1024 * 1024 + 4096;

	for (int i = 0; i < self->n; i++) {
		for (int s = 0; s < 3; s++) {
			struct drm_dgmm_gem_info info;
			__u32 handle = 0;
			__u32 *map;
			__u64 moves;

			ASSERT_EQ(0, dgmm_gem_create(self->fd[i], size, start[s], ALL,
						     DRM_DGMM_GEM_CPU_ACCESS, &handle));
			ASSERT_EQ(0, dgmm_gem_info(self->fd[i], handle, &info));
			EXPECT_EQ(start[s], info.domain);
			EXPECT_EQ(size, info.size);
			EXPECT_EQ(ALL, info.allowed_domains);
			EXPECT_EQ(start[s], info.preferred_domains);
			EXPECT_EQ(DRM_DGMM_GEM_CPU_ACCESS, info.flags);
			EXPECT_EQ(0, info.pin_count);
			moves = info.move_count;

			map = dgmm_gem_mmap(self->fd[i], handle, size);
			ASSERT_NE(MAP_FAILED, map);
			for (size_t w = 0; w < size / 4; w++)
				ASSERT_EQ(0, map[w]);
			for (size_t w = 0; w < size / 4; w++)
				map[w] = pattern(s + 1, w);

			for (int p = 0; p < 3; p++) {
				ASSERT_EQ(0, dgmm_gem_migrate(self->fd[i], handle, path[s][p]));
				ASSERT_EQ(0, dgmm_gem_info(self->fd[i], handle, &info));
				EXPECT_EQ(path[s][p], info.domain);
				EXPECT_GT(info.move_count, moves);
				moves = info.move_count;
				for (size_t w = 0; w < size / 4; w++)
					ASSERT_EQ(pattern(s + 1, w), map[w]);
			}
			EXPECT_EQ(0, dgmm_gem_wait(self->fd[i], handle, 0));
			munmap(map, size);
			EXPECT_EQ(0, dgmm_gem_close(self->fd[i], handle));
		}
	}
}

/* A BO without CPU access lives outside the window; touching it moves it in. */
TEST_F(gem, fault_moves_into_visible_window)
{
	const size_t size = 1024 * 1024;

	for (int i = 0; i < self->n; i++) {
		struct drm_dgmm_gem_info info;
		__u32 *map;
		__u32 handle = 0;

		struct drm_dgmm_query_regions *r = dgmm_query_regions(self->fd[i]);
		bool all_visible;

		ASSERT_NE(NULL, r);
		all_visible = r->regions[DRM_DGMM_REGION_VRAM].cpu_visible_size ==
			      r->regions[DRM_DGMM_REGION_VRAM].size;
		free(r);
		if (all_visible)
			SKIP(return, "all of VRAM is CPU-visible (vram_visible_mb=0)");

		/* Without CPU access it stays out of the window, kept for BOs that need it. */
		ASSERT_EQ(0, dgmm_gem_create(self->fd[i], size, V, V, 0, &handle));
		ASSERT_EQ(0, dgmm_gem_info(self->fd[i], handle, &info));
		ASSERT_EQ(V, info.domain);
		ASSERT_FALSE(info.state & DRM_DGMM_STATE_CPU_VISIBLE);
		map = dgmm_gem_mmap(self->fd[i], handle, size);
		ASSERT_NE(MAP_FAILED, map);
		/* The mapping is the device's memory: read it as such. */
		EXPECT_EQ(0, LOAD(map[size / 8]));
		map[size / 8] = 0xabcd;

		ASSERT_EQ(0, dgmm_gem_info(self->fd[i], handle, &info));
		EXPECT_EQ(V, info.domain);
		EXPECT_TRUE(info.state & DRM_DGMM_STATE_CPU_VISIBLE);
		EXPECT_EQ(0xabcd, LOAD(map[size / 8]));
		munmap(map, size);
		dgmm_gem_close(self->fd[i], handle);
	}
}

/* The mapping holds the BO: closing the handle leaves it usable. */
TEST_F(gem, mapping_outlives_handle)
{
	const size_t size = 64 * 1024;

	for (int i = 0; i < self->n; i++) {
		__u32 *map;
		__u32 handle = 0;

		ASSERT_EQ(0, dgmm_gem_create(self->fd[i], size, V, V | G,
					     DRM_DGMM_GEM_CPU_ACCESS, &handle));
		map = dgmm_gem_mmap(self->fd[i], handle, size);
		ASSERT_NE(MAP_FAILED, map);
		map[0] = 1;
		ASSERT_EQ(0, dgmm_gem_close(self->fd[i], handle));
		map[size / 4 - 1] = 2;
		EXPECT_EQ(1, map[0]);
		EXPECT_EQ(2, map[size / 4 - 1]);
		munmap(map, size);
	}
}

TEST_F(gem, create_rejects)
{
	static const struct {
		__u64 size;
		__u32 preferred, allowed, flags;
		int err;
	} bad[] = {
		{ 0, V, V, 0, -EINVAL },			/* no size */
		{ ~0ull, V, V, 0, -EINVAL },			/* would wrap */
		{ 4096, 0, 0, 0, -EINVAL },			/* no domain */
		{ 4096, 0, 1 << 3, 0, -EINVAL },		/* unknown domain */
		{ 4096, 0, V | (1 << 31), 0, -EINVAL },		/* unknown domain */
		{ 4096, V, G, 0, -EINVAL },			/* preferred not allowed */
		{ 4096, V, V, 1 << 2, -EINVAL },		/* unknown flag */
		{ 4096, V, V, 1u << 31, -EINVAL },		/* unknown flag */
		{ 4096, G, G | S, DRM_DGMM_GEM_CONTIGUOUS, -EINVAL }, /* contiguous, no VRAM */
		{ 1ull << 40, V, V, 0, -ENOSPC },		/* bigger than VRAM */
		{ 1ull << 40, S, S | G | V, 0, -ENOSPC },	/* bigger than RAM */
	};

	for (int i = 0; i < self->n; i++) {
		for (size_t j = 0; j < ARRAY_SIZE(bad); j++) {
			__u32 handle = 0xdead;

			EXPECT_EQ(bad[j].err, dgmm_gem_create(self->fd[i], bad[j].size,
							      bad[j].preferred, bad[j].allowed,
							      bad[j].flags, &handle)) {
				TH_LOG("case %zu", j);
			}
			EXPECT_EQ(0xdead, handle);
		}
	}
}

TEST_F(gem, create_rounds_size_up)
{
	for (int i = 0; i < self->n; i++) {
		struct drm_dgmm_gem_create c = {
			.size = 4097, .preferred_domains = G, .allowed_domains = G,
		};

		ASSERT_EQ(0, dgmm_ioctl(self->fd[i], DRM_IOCTL_DGMM_GEM_CREATE, &c));
		EXPECT_EQ(8192, c.size);
		EXPECT_EQ(0, dgmm_gem_close(self->fd[i], c.handle));
	}
}

TEST_F(gem, handle_ioctls_reject)
{
	for (int i = 0; i < self->n; i++) {
		int fd = self->fd[i];
		struct drm_dgmm_gem_mmap_offset mo = { 0 };
		struct drm_dgmm_gem_info info = { 0 };
		struct drm_dgmm_gem_wait wait = { 0 };
		struct drm_dgmm_gem_migrate mig = { 0 };
		__u32 handle = 0;

		ASSERT_EQ(0, dgmm_gem_create(fd, 8192, G, G | S, 0, &handle));

		/* Unknown handles. */
		mo.handle = handle + 100;
		info.handle = handle + 100;
		wait.handle = handle + 100;
		mig.handle = handle + 100;
		mig.domain = S;
		EXPECT_EQ(-1, dgmm_ioctl(fd, DRM_IOCTL_DGMM_GEM_MMAP_OFFSET, &mo));
		EXPECT_EQ(ENOENT, errno);
		EXPECT_EQ(-1, dgmm_ioctl(fd, DRM_IOCTL_DGMM_GEM_INFO, &info));
		EXPECT_EQ(ENOENT, errno);
		EXPECT_EQ(-1, dgmm_ioctl(fd, DRM_IOCTL_DGMM_GEM_WAIT, &wait));
		EXPECT_EQ(ENOENT, errno);
		EXPECT_EQ(-1, dgmm_ioctl(fd, DRM_IOCTL_DGMM_GEM_MIGRATE, &mig));
		EXPECT_EQ(ENOENT, errno);

		/* Non-zero flags and padding. */
		mo = (struct drm_dgmm_gem_mmap_offset){ .handle = handle, .flags = 1 };
		EXPECT_EQ(-1, dgmm_ioctl(fd, DRM_IOCTL_DGMM_GEM_MMAP_OFFSET, &mo));
		EXPECT_EQ(EINVAL, errno);
		info = (struct drm_dgmm_gem_info){ .handle = handle, .pad = 1 };
		EXPECT_EQ(-1, dgmm_ioctl(fd, DRM_IOCTL_DGMM_GEM_INFO, &info));
		EXPECT_EQ(EINVAL, errno);
		wait = (struct drm_dgmm_gem_wait){ .handle = handle, .flags = 1 };
		EXPECT_EQ(-1, dgmm_ioctl(fd, DRM_IOCTL_DGMM_GEM_WAIT, &wait));
		EXPECT_EQ(EINVAL, errno);
		mig = (struct drm_dgmm_gem_migrate){ .handle = handle, .domain = S, .flags = 1 };
		EXPECT_EQ(-1, dgmm_ioctl(fd, DRM_IOCTL_DGMM_GEM_MIGRATE, &mig));
		EXPECT_EQ(EINVAL, errno);
		mig = (struct drm_dgmm_gem_migrate){ .handle = handle, .domain = S, .pad = 1 };
		EXPECT_EQ(-1, dgmm_ioctl(fd, DRM_IOCTL_DGMM_GEM_MIGRATE, &mig));
		EXPECT_EQ(EINVAL, errno);

		/* Domains: none, two, unknown, not allowed. */
		EXPECT_EQ(-EINVAL, dgmm_gem_migrate(fd, handle, 0));
		EXPECT_EQ(-EINVAL, dgmm_gem_migrate(fd, handle, G | S));
		EXPECT_EQ(-EINVAL, dgmm_gem_migrate(fd, handle, 1 << 5));
		EXPECT_EQ(-EINVAL, dgmm_gem_migrate(fd, handle, V));

		/* Nothing above moved it. */
		ASSERT_EQ(0, dgmm_gem_info(fd, handle, &info));
		EXPECT_EQ(G, info.domain);
		EXPECT_EQ(0, dgmm_gem_close(fd, handle));
	}
}

/* A BO that fits the window's allowed domains but not a migrate target. */
TEST_F(gem, migrate_too_big)
{
	for (int i = 0; i < self->n; i++) {
		struct drm_dgmm_query_regions *r = dgmm_query_regions(self->fd[i]);
		__u64 size;
		__u32 handle = 0;

		ASSERT_NE(NULL, r);
		size = r->regions[DRM_DGMM_REGION_VRAM].size + 4096;
		free(r);
		ASSERT_EQ(0, dgmm_gem_create(self->fd[i], size, S, S | V, 0, &handle));
		EXPECT_EQ(-ENOSPC, dgmm_gem_migrate(self->fd[i], handle, V));
		EXPECT_EQ(0, dgmm_gem_close(self->fd[i], handle));
	}
}

TEST_F(gem, wait)
{
	for (int i = 0; i < self->n; i++) {
		__u32 handle = 0;

		ASSERT_EQ(0, dgmm_gem_create(self->fd[i], 1 << 20, V, V | G, 0, &handle));
		/* Forever returns once the clear is done; then a test says idle. */
		EXPECT_EQ(0, dgmm_gem_wait(self->fd[i], handle, -1));
		EXPECT_EQ(0, dgmm_gem_wait(self->fd[i], handle, 0));
		EXPECT_EQ(0, dgmm_gem_close(self->fd[i], handle));
	}
}

static void on_alarm(int sig)
{
	(void)sig;
}

/*
 * A relative timeout does not start again when a signal restarts the wait:
 * with SIGALRM every 20 ms (SA_RESTART), a 200 ms wait on a BO whose 1 MiB
 * move takes 1 s on the throttled engine ends with -ETIME and nothing left
 * of the timeout, not when the move is done.
 */
TEST_F(gem, wait_timeout_survives_signals)
{
	const size_t size = 1024 * 1024;
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	const struct itimerval tick = { { 0, 20000 }, { 0, 20000 } }, off = { { 0 } };

	ASSERT_EQ(0, dgmm_engine_mbps(1, &self->engine_mbps));
	self->throttled = true;
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));

	for (int i = 0; i < self->n; i++) {
		struct drm_dgmm_gem_wait w = { .timeout_ns = 200 * 1000 * 1000 };
		__u32 handle = 0, *map;
		int ret, err;

		ASSERT_EQ(0, dgmm_gem_create(self->fd[i], size, G, V | G, 0, &handle));
		map = dgmm_gem_mmap(self->fd[i], handle, size);
		ASSERT_NE(MAP_FAILED, map);
		memset(map, 0x5e, size);
		munmap(map, size);
		ASSERT_EQ(0, dgmm_gem_migrate(self->fd[i], handle, V));

		w.handle = handle;
		ASSERT_EQ(0, setitimer(ITIMER_REAL, &tick, NULL));
		ret = ioctl(self->fd[i], DRM_IOCTL_DGMM_GEM_WAIT, &w);
		err = errno;
		ASSERT_EQ(0, setitimer(ITIMER_REAL, &off, NULL));
		EXPECT_EQ(-1, ret);
		EXPECT_EQ(ETIME, err);
		EXPECT_EQ(0, w.timeout_ns);

		EXPECT_EQ(0, dgmm_gem_wait(self->fd[i], handle, -1));
		dgmm_gem_close(self->fd[i], handle);
	}
	signal(SIGALRM, SIG_DFL);
}

/*
 * One process fills all the free memory of a domain with 0xff and exits;
 * another then gets BOs there that must read as zero. In VRAM that is
 * dgmm's clear on the engine; in GTT, ttm_pool's __GFP_ZERO, which dgmm
 * asks for by passing TTM's TTM_TT_FLAG_ZERO_ALLOC on to ttm_tt_init()
 * (dropping that flag made this test fail).
 */
TEST_F(gem, second_process_reads_zero)
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
			/* CPU access keeps VRAM BOs in the window: use all of it. */
			size = r->regions[region].cpu_visible_size - r->regions[region].used;
			if (domains[d] == V)
				size -= r->regions[region].cpu_visible_used;
			size = (size / 2) & ~4095ull;
			free(r);

			pid = fork();
			ASSERT_GE(pid, 0);
			if (pid == 0)
				dgmm_fill_and_exit(self->fd[i], domains[d], size);
			ASSERT_EQ(pid, waitpid(pid, &status, 0));
			ASSERT_TRUE(WIFEXITED(status));
			ASSERT_EQ(0, WEXITSTATUS(status));

			/* Twice the child's size: all of its memory, whatever the order. */
			b = dgmm_new_bo_zero_bytes(self->fd[i], domains[d], 2 * size);
			ASSERT_NE(-1, b);
			EXPECT_EQ((long long)(2 * size), b) {
				TH_LOG("domain %x: byte %lld is not zero", domains[d], b);
			}
		}
	}
}

/* Debuggers (ptrace, /proc/pid/mem) read VRAM BOs, visible or not. */
TEST_F(gem, proc_mem_reads_vram)
{
	const size_t size = 64 * 1024;

	for (int i = 0; i < self->n; i++) {
		struct drm_dgmm_gem_info info;
		__u32 handle = 0, buf[4], *map, *writer;
		int mem;

		/* Written through a visible BO, then moved out of the window. */
		ASSERT_EQ(0, dgmm_gem_create(self->fd[i], size, V, V | G, 0, &handle));
		ASSERT_EQ(0, dgmm_gem_migrate(self->fd[i], handle, G));
		writer = dgmm_gem_mmap(self->fd[i], handle, size);
		ASSERT_NE(MAP_FAILED, writer);
		for (int w = 0; w < 4; w++)
			writer[1000 + w] = 0xc0de0000 + w;
		munmap(writer, size);
		ASSERT_EQ(0, dgmm_gem_migrate(self->fd[i], handle, V));

		map = dgmm_gem_mmap(self->fd[i], handle, size);
		ASSERT_NE(MAP_FAILED, map);
		mem = open("/proc/self/mem", O_RDONLY);
		ASSERT_GE(mem, 0);
		ASSERT_EQ(sizeof(buf), pread(mem, buf, sizeof(buf), (off_t)(uintptr_t)&map[1000]));
		close(mem);
		for (int w = 0; w < 4; w++)
			EXPECT_EQ(0xc0de0000 + w, buf[w]);

		/* The read did not fault the BO into the window. */
		ASSERT_EQ(0, dgmm_gem_info(self->fd[i], handle, &info));
		EXPECT_EQ(V, info.domain);
		munmap(map, size);
		dgmm_gem_close(self->fd[i], handle);
	}
}

/*
 * A debugger that writes a VRAM BO (through /proc/pid/mem, never through a
 * fault of the mapping) makes its VRAM dirty: the next BO to get that VRAM
 * reads zero, not what the debugger wrote.
 */
TEST_F(gem, proc_mem_writes_do_not_leak)
{
	for (int i = 0; i < self->n; i++) {
		struct drm_dgmm_query_regions *r = dgmm_query_regions(self->fd[i]);
		__u32 handle = 0;
		__u8 *map, *ones;
		__u64 size, b;
		int mem;

		ASSERT_NE(NULL, r);
		/* Half the free window: the second BO takes all of it. */
		size = r->regions[DRM_DGMM_REGION_VRAM].cpu_visible_size -
		       r->regions[DRM_DGMM_REGION_VRAM].cpu_visible_used;
		size = (size / 2) & ~4095ull;
		free(r);

		ASSERT_EQ(0, dgmm_gem_create(self->fd[i], size, V, V, DRM_DGMM_GEM_CPU_ACCESS,
					     &handle));
		map = dgmm_gem_mmap(self->fd[i], handle, size);
		ASSERT_NE(MAP_FAILED, map);
		ones = malloc(size);
		ASSERT_NE(NULL, ones);
		memset(ones, 0xff, size);
		mem = open("/proc/self/mem", O_RDWR);
		ASSERT_GE(mem, 0);
		EXPECT_EQ((ssize_t)size, pwrite(mem, ones, size, (off_t)(uintptr_t)map));
		close(mem);
		free(ones);
		munmap(map, size);
		ASSERT_EQ(0, dgmm_gem_close(self->fd[i], handle));

		ASSERT_EQ(0, dgmm_gem_create(self->fd[i], 2 * size, V, V, DRM_DGMM_GEM_CPU_ACCESS,
					     &handle));
		map = dgmm_gem_mmap(self->fd[i], handle, 2 * size);
		ASSERT_NE(MAP_FAILED, map);
		for (b = 0; b < 2 * size && !LOAD(map[b]); b++)
			;
		EXPECT_EQ(2 * size, b) {
			TH_LOG("byte %llu is not zero", (unsigned long long)b);
		}
		munmap(map, 2 * size);
		dgmm_gem_close(self->fd[i], handle);
	}
}

/*
 * A user can put any fence into a BO's reservation object, through its
 * dma-buf. When that fence fails, the kernel's move of the BO must still
 * copy: the BO is then where the move put it, and must hold its data, not
 * memory nobody wrote. Closing a sw_sync timeline signals its pending fences
 * with -ENOENT.
 */
TEST_F(gem, move_survives_failed_user_fence)
{
	const size_t size = 1024 * 1024;
	int timeline = open(SW_SYNC_PATH, O_RDWR);

	if (timeline < 0)
		SKIP(return, "no %s (CONFIG_SW_SYNC and debugfs)", SW_SYNC_PATH);
	close(timeline);

	for (int i = 0; i < self->n; i++) {
		struct drm_prime_handle prime = { .flags = DRM_CLOEXEC | DRM_RDWR };
		struct drm_dgmm_gem_info info;
		size_t bad = size / 4;
		__u32 handle = 0, *map;

		ASSERT_EQ(0, dgmm_gem_create(self->fd[i], size, V, V | G, 0, &handle));
		map = dgmm_gem_mmap(self->fd[i], handle, size);
		ASSERT_NE(MAP_FAILED, map);
		for (size_t w = 0; w < size / 4; w++)
			map[w] = pattern(0xfe11, w);
		munmap(map, size);

		prime.handle = handle;
		ASSERT_EQ(0, dgmm_ioctl(self->fd[i], DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime));
		timeline = open(SW_SYNC_PATH, O_RDWR);
		ASSERT_GE(timeline, 0);
		ASSERT_EQ(0, dgmm_user_fence_into(timeline, prime.fd));

		/* The copy to GTT waits for the user's fence, which then fails. */
		ASSERT_EQ(0, dgmm_gem_migrate(self->fd[i], handle, G));
		EXPECT_EQ(-ETIME, dgmm_gem_wait(self->fd[i], handle, 0));
		close(timeline);
		ASSERT_EQ(0, dgmm_gem_wait(self->fd[i], handle, -1));
		ASSERT_EQ(0, dgmm_gem_info(self->fd[i], handle, &info));
		EXPECT_EQ(G, info.domain);

		map = dgmm_gem_mmap(self->fd[i], handle, size);
		ASSERT_NE(MAP_FAILED, map);
		for (size_t w = 0; w < size / 4 && bad == size / 4; w++)
			if (LOAD(map[w]) != pattern(0xfe11, w))
				bad = w;
		EXPECT_EQ(size / 4, bad) {
			TH_LOG("word %zu lost its contents", bad);
		}
		munmap(map, size);
		close(prime.fd);
		dgmm_gem_close(self->fd[i], handle);
	}
}

/*
 * While a move into new memory is still running (on an engine throttled so
 * that it writes only at the end of the job), a CPU read of the BO waits for
 * it: through /proc/pid/mem (the vm_ops.access path ptrace uses) and through
 * the mapping (the fault path). Every move that copies: VRAM to GTT, GTT to
 * VRAM, VRAM to SYSTEM and SYSTEM to VRAM (both through a GTT hop).
 */
TEST_F(gem, cpu_reads_wait_for_moves)
{
	static const __u32 moves[][2] = { { V, G }, { G, V }, { V, S }, { S, V } };
	const size_t size = 1024 * 1024, words = size / 4;

	ASSERT_EQ(0, dgmm_engine_mbps(4, &self->engine_mbps));
	self->throttled = true;

	for (int i = 0; i < self->n; i++) {
		for (int m = 0; m < (int)ARRAY_SIZE(moves); m++) {
			for (int through_mem = 0; through_mem < 2; through_mem++) {
				__u32 seed = 0x3a17 + m * 2 + through_mem;
				__u32 handle = 0, *map, *copy;
				size_t bad;

				ASSERT_EQ(0, dgmm_gem_create(self->fd[i], size, moves[m][0], ALL,
							     DRM_DGMM_GEM_CPU_ACCESS, &handle));
				map = dgmm_gem_mmap(self->fd[i], handle, size);
				ASSERT_NE(MAP_FAILED, map);
				for (size_t w = 0; w < words; w++)
					map[w] = pattern(seed, w);
				ASSERT_EQ(0, dgmm_gem_wait(self->fd[i], handle, -1));

				ASSERT_EQ(0, dgmm_gem_migrate(self->fd[i], handle, moves[m][1]));
				/* 1 MiB at 4 MiB/s: the copy is still running. */
				EXPECT_EQ(-ETIME, dgmm_gem_wait(self->fd[i], handle, 0));
				if (through_mem) {
					copy = dgmm_proc_mem_read(map, size);
					ASSERT_NE(NULL, copy);
					bad = first_bad_word(copy, words, seed);
					free(copy);
				} else {
					bad = first_bad_word(map, words, seed);
				}
				EXPECT_EQ(words, bad) {
					TH_LOG("%x -> %x through %s: word %zu not yet copied",
					       moves[m][0], moves[m][1],
					       through_mem ? "/proc/self/mem" : "the mapping", bad);
				}
				munmap(map, size);
				dgmm_gem_close(self->fd[i], handle);
			}
		}
	}
}

#define TT_SHRINK_PATH "/sys/kernel/debug/ttm/tt_shrink"

/* Reads TTM's tt_shrink (each read swaps out one BO) until @handle is swapped out. */
static int swap_out(int fd, __u32 handle)
{
	struct drm_dgmm_gem_info info;
	char buf[32];

	for (int i = 0; i < 1000; i++) {
		int shrink = open(TT_SHRINK_PATH, O_RDONLY);

		if (shrink < 0)
			return -errno;
		if (read(shrink, buf, sizeof(buf)) < 0) {
			close(shrink);
			return -errno;
		}
		close(shrink);
		if (dgmm_gem_info(fd, handle, &info))
			return -EIO;
		if (info.state & DRM_DGMM_STATE_SWAPPED)
			return 0;
	}
	return -EAGAIN;
}

/*
 * TTM swaps BOs out under memory pressure (here: through its debugfs
 * tt_shrink). A swapped-out BO keeps its contents on every way back: moved
 * to VRAM, moved to GTT, read through a mapping made before the swap, and
 * read through /proc/pid/mem as a debugger would.
 */
TEST_F(gem, swapped_bo_keeps_contents)
{
	enum { TO_VRAM, TO_GTT, MAPPED, PROC_MEM, WAYS };
	static const char *const way[] = { "to VRAM", "to GTT", "mapped", "/proc/pid/mem" };
	const size_t size = 1024 * 1024, words = size / 4;

	if (access(TT_SHRINK_PATH, R_OK))
		SKIP(return, "no %s (debugfs)", TT_SHRINK_PATH);

	for (int i = 0; i < self->n; i++) {
		for (int k = 0; k < WAYS; k++) {
			struct drm_dgmm_gem_info info;
			__u32 handle = 0, *map, *copy;
			__u32 seed = 0x5a90 + k;
			size_t bad;

			ASSERT_EQ(0, dgmm_gem_create(self->fd[i], size, G, ALL,
						     DRM_DGMM_GEM_CPU_ACCESS, &handle));
			map = dgmm_gem_mmap(self->fd[i], handle, size);
			ASSERT_NE(MAP_FAILED, map);
			for (size_t w = 0; w < words; w++)
				map[w] = pattern(seed, w);

			ASSERT_EQ(0, swap_out(self->fd[i], handle));
			ASSERT_EQ(0, dgmm_gem_info(self->fd[i], handle, &info));
			EXPECT_EQ(S, info.domain);

			if (k == TO_VRAM || k == TO_GTT) {
				ASSERT_EQ(0, dgmm_gem_migrate(self->fd[i], handle,
							      k == TO_VRAM ? V : G));
				ASSERT_EQ(0, dgmm_gem_info(self->fd[i], handle, &info));
				EXPECT_EQ(k == TO_VRAM ? V : G, info.domain);
				EXPECT_FALSE(info.state & DRM_DGMM_STATE_SWAPPED);
			}
			if (k != PROC_MEM) {
				bad = first_bad_word(map, words, seed);
			} else {
				copy = dgmm_proc_mem_read(map, size);
				ASSERT_NE(NULL, copy);
				bad = first_bad_word(copy, words, seed);
				free(copy);
			}
			EXPECT_EQ(words, bad) {
				TH_LOG("%s: word %zu lost its contents", way[k], bad);
			}
			munmap(map, size);
			dgmm_gem_close(self->fd[i], handle);
		}
	}
}

FIXTURE(dumb) {
	int fd[DGMM_MAX_DEVICES];
	int n;
};

FIXTURE_SETUP(dumb)
{
	self->n = dgmm_open_cards(self->fd, DGMM_MAX_DEVICES);
	if (!self->n)
		SKIP(return, "no dgmm primary node (needs root)");
}

FIXTURE_TEARDOWN(dumb)
{
	for (int i = 0; i < self->n; i++)
		close(self->fd[i]);
}

TEST_F(dumb, create_map_destroy)
{
	for (int i = 0; i < self->n; i++) {
		struct drm_mode_create_dumb c = { .width = 100, .height = 37, .bpp = 32 };
		struct drm_mode_map_dumb m = { 0 };
		struct drm_mode_destroy_dumb d = { 0 };
		__u8 *map;

		ASSERT_EQ(0, dgmm_ioctl(self->fd[i], DRM_IOCTL_MODE_CREATE_DUMB, &c));
		EXPECT_EQ(400, c.pitch);
		EXPECT_EQ(16384, c.size);	/* 400 * 37 = 14800, page-aligned */

		m.handle = c.handle;
		ASSERT_EQ(0, dgmm_ioctl(self->fd[i], DRM_IOCTL_MODE_MAP_DUMB, &m));
		map = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd[i],
			   m.offset);
		ASSERT_NE(MAP_FAILED, map);
		for (size_t b = 0; b < c.size; b++)
			ASSERT_EQ(0, map[b]);

		d.handle = c.handle;
		ASSERT_EQ(0, dgmm_ioctl(self->fd[i], DRM_IOCTL_MODE_DESTROY_DUMB, &d));
		memset(map, 0x5a, c.size);
		EXPECT_EQ(0x5a, map[c.size - 1]);
		munmap(map, c.size);
	}
}

TEST_F(dumb, create_rejects)
{
	static const struct drm_mode_create_dumb bad[] = {
		{ .width = 0, .height = 16, .bpp = 32 },
		{ .width = 16, .height = 0, .bpp = 32 },
		{ .width = 16, .height = 16, .bpp = 0 },
		{ .width = 16, .height = 16, .bpp = 32, .flags = 1 },
		{ .width = 0xffffffff, .height = 0xffffffff, .bpp = 32 },
	};

	for (int i = 0; i < self->n; i++) {
		for (size_t j = 0; j < ARRAY_SIZE(bad); j++) {
			struct drm_mode_create_dumb c = bad[j];

			EXPECT_EQ(-1, dgmm_ioctl(self->fd[i], DRM_IOCTL_MODE_CREATE_DUMB, &c));
			EXPECT_EQ(EINVAL, errno) {
				TH_LOG("case %zu", j);
			}
		}
	}
}

TEST_HARNESS_MAIN
