// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * uAPI tests of device jobs (DRM_IOCTL_DGMM_SUBMIT) on every device: fills
 * and copies land where they should; binary and timeline syncobjs order
 * jobs of different files; implicit sync through the BOs orders them too;
 * every rejected field; a hung job times out with -ETIMEDOUT and leaves the
 * device usable; closing busy BOs, or killing a process with jobs in
 * flight, gives all their memory back once the jobs are done.
 */

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <linux/sync_file.h>

#include "kselftest_harness.h"
#include "dgmm_util.h"

#define S DRM_DGMM_DOMAIN_SYSTEM
#define G DRM_DGMM_DOMAIN_GTT
#define V DRM_DGMM_DOMAIN_VRAM
#define MiB (1024 * 1024)
#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define HANG_DIR "/sys/kernel/debug/dgmm_engine_hang"

static int submit(int fd, struct drm_dgmm_job_op *ops, __u32 n,
		  struct drm_dgmm_sync *in, __u32 num_in, struct drm_dgmm_sync *out, __u32 num_out)
{
	struct drm_dgmm_submit s = {
		.ops = (__u64)(uintptr_t)ops, .num_ops = n,
		.in_syncs = (__u64)(uintptr_t)in, .num_in_syncs = num_in,
		.out_syncs = (__u64)(uintptr_t)out, .num_out_syncs = num_out,
	};

	return dgmm_ioctl(fd, DRM_IOCTL_DGMM_SUBMIT, &s) ? -errno : 0;
}

static struct drm_dgmm_job_op fill_op(__u32 handle, __u64 offset, __u64 size, __u8 value)
{
	return (struct drm_dgmm_job_op){ .op = DRM_DGMM_OP_FILL, .dst_handle = handle,
					 .dst_offset = offset, .size = size, .value = value };
}

static struct drm_dgmm_job_op copy_op(__u32 dst, __u64 dst_offset, __u32 src,
				      __u64 src_offset, __u64 size)
{
	return (struct drm_dgmm_job_op){ .op = DRM_DGMM_OP_COPY, .dst_handle = dst,
					 .dst_offset = dst_offset, .src_handle = src,
					 .src_offset = src_offset, .size = size };
}

static __u32 syncobj_create(int fd)
{
	struct drm_syncobj_create c = { 0 };

	return dgmm_ioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &c) ? 0 : c.handle;
}

/* Waits for a syncobj (at @point for a timeline one); 0 or -errno. */
static int syncobj_wait(int fd, __u32 handle, __u64 point)
{
	struct drm_syncobj_timeline_wait w = {
		.handles = (__u64)(uintptr_t)&handle,
		.points = (__u64)(uintptr_t)&point,
		.count_handles = 1,
		.timeout_nsec = INT64_MAX,
		.flags = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
	};

	return dgmm_ioctl(fd, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &w) ? -errno : 0;
}

/* The status of a binary syncobj's fence: 1 signalled, <0 its error. */
static int syncobj_status(int fd, __u32 handle)
{
	struct drm_syncobj_handle h = { .handle = handle,
					.flags = DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE };
	struct sync_file_info info = { 0 };
	int err;

	if (dgmm_ioctl(fd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &h))
		return -1000 - errno;
	err = ioctl(h.fd, SYNC_IOC_FILE_INFO, &info);
	close(h.fd);
	return err ? -2000 - errno : info.status;
}

/* The first byte of @map (@size long) that is not @value, or @size. */
static size_t first_not(const __u8 *map, size_t size, __u8 value)
{
	size_t b;

	for (b = 0; b < size; b++)
		if (LOAD(map[b]) != value)
			break;
	return b;
}

FIXTURE(submit) {
	int fd[DGMM_MAX_DEVICES];
	int n;
	unsigned int engine_mbps;	/* to restore, if @throttled */
	bool throttled;
};

FIXTURE_SETUP(submit)
{
	self->n = dgmm_open_devices(self->fd, NULL, DGMM_MAX_DEVICES);
	if (!self->n)
		SKIP(return, "no dgmm render node");
}

FIXTURE_TEARDOWN(submit)
{
	for (int i = 0; i < self->n; i++)
		close(self->fd[i]);
	if (self->throttled)
		EXPECT_EQ(0, dgmm_engine_mbps(self->engine_mbps, NULL));
}

/*
 * Fill part of a VRAM BO, copy it into the middle of a GTT BO, in one job:
 * exactly those bytes change; the out-sync signals when they have.
 */
TEST_F(submit, fill_and_copy)
{
	const size_t size = MiB;

	for (int i = 0; i < self->n; i++) {
		__u32 a = 0, b = 0, done = syncobj_create(self->fd[i]);
		struct drm_dgmm_sync out = { .handle = done };
		struct drm_dgmm_job_op ops[2];
		__u8 *ma, *mb;

		ASSERT_NE(0, done);
		ASSERT_EQ(0, dgmm_gem_create(self->fd[i], size, V, V | G, DRM_DGMM_GEM_CPU_ACCESS,
					     &a));
		ASSERT_EQ(0, dgmm_gem_create(self->fd[i], size, G, G, 0, &b));
		ops[0] = fill_op(a, 4096, 8192, 0x5a);
		ops[1] = copy_op(b, 65536, a, 0, 16384);
		ASSERT_EQ(0, submit(self->fd[i], ops, 2, NULL, 0, &out, 1));
		ASSERT_EQ(0, syncobj_wait(self->fd[i], done, 0));
		EXPECT_EQ(1, syncobj_status(self->fd[i], done));

		ma = dgmm_gem_mmap(self->fd[i], a, size);
		mb = dgmm_gem_mmap(self->fd[i], b, size);
		ASSERT_NE(MAP_FAILED, ma);
		ASSERT_NE(MAP_FAILED, mb);
		EXPECT_EQ(4096, first_not(ma, size, 0));
		EXPECT_EQ(8192, first_not(ma + 4096, size - 4096, 0x5a));
		EXPECT_EQ(size - 12288, first_not(ma + 12288, size - 12288, 0));
		EXPECT_EQ(65536 + 4096, first_not(mb, size, 0));
		EXPECT_EQ(8192, first_not(mb + 65536 + 4096, 8192, 0x5a));
		EXPECT_EQ(size - 65536 - 12288, first_not(mb + 65536 + 12288,
							  size - 65536 - 12288, 0));
		munmap(ma, size);
		munmap(mb, size);
		dgmm_gem_close(self->fd[i], a);
		dgmm_gem_close(self->fd[i], b);
	}
}

/* Moves syncobj @handle of file @from into file @to; its handle there, or 0. */
static __u32 syncobj_transfer(int from, __u32 handle, int to)
{
	struct drm_syncobj_handle h = { .handle = handle };

	if (dgmm_ioctl(from, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &h))
		return 0;
	h.handle = 0;
	if (dgmm_ioctl(to, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &h))
		h.handle = 0;
	close(h.fd);
	return h.handle;
}

/*
 * A slow job on device 1, signalling @gate at @point (0: binary). Device 1's
 * engine is not device 0's: a job of device 0 is held back by it only
 * through a dependency, never by the order of one engine's queue.
 */
static int slow_gate(int fd1, __u32 gate, __u64 point, __u32 *bo)
{
	struct drm_dgmm_sync out = { .handle = gate, .point = point };
	struct drm_dgmm_job_op op;
	int err;

	err = dgmm_gem_create(fd1, MiB, G, G, 0, bo);
	if (err)
		return err;
	op = fill_op(*bo, 0, MiB, 0x99);	/* 1 MiB at 4 MiB/s */
	return submit(fd1, &op, 1, NULL, 0, &out, 1);
}

/*
 * A job that waits for a binary syncobj, or a timeline point, of a slow
 * job on another device finishes after it.
 */
TEST_F(submit, in_syncs_are_waited_for)
{
	if (self->n < 2)
		SKIP(return, "needs two devices");
	ASSERT_EQ(0, dgmm_engine_mbps(4, &self->engine_mbps));
	self->throttled = true;

	for (__u64 point = 0; point < 2; point++) {
		__u32 gate1 = syncobj_create(self->fd[1]), gate0;
		__u32 done = syncobj_create(self->fd[0]);
		struct drm_dgmm_sync in = { .point = point }, out = { .handle = done };
		struct drm_dgmm_job_op op;
		__u32 a = 0, c = 0;

		ASSERT_NE(0, gate1);
		ASSERT_NE(0, done);
		ASSERT_EQ(0, slow_gate(self->fd[1], gate1, point, &c));
		gate0 = syncobj_transfer(self->fd[1], gate1, self->fd[0]);
		ASSERT_NE(0, gate0);
		in.handle = gate0;

		ASSERT_EQ(0, dgmm_gem_create(self->fd[0], 64 * 1024, G, G, 0, &a));
		ASSERT_EQ(0, dgmm_gem_wait(self->fd[0], a, -1));
		op = fill_op(a, 0, 4096, 1);
		ASSERT_EQ(0, submit(self->fd[0], &op, 1, &in, 1, &out, 1));
		ASSERT_EQ(0, syncobj_wait(self->fd[0], done, 0));
		/* Done before its in-sync had signalled, the gate would still be busy. */
		EXPECT_EQ(0, dgmm_gem_wait(self->fd[1], c, 0)) {
			TH_LOG("%s: the job did not wait for its in-sync",
			       point ? "timeline" : "binary");
		}
		EXPECT_EQ(0, dgmm_gem_wait(self->fd[1], c, -1));
		dgmm_gem_close(self->fd[0], a);
		dgmm_gem_close(self->fd[1], c);
	}
}

/*
 * Implicit sync between two files of device 0, one BO shared through PRIME:
 * the first file fills it, after a slow job on device 1 (an in-sync); the
 * second copies it out, with no syncobj at all. The copy must wait for the
 * fill, through the BO's reservation object.
 */
TEST_F(submit, implicit_sync_orders_jobs)
{
	struct drm_prime_handle prime = { .flags = DRM_CLOEXEC | DRM_RDWR };
	int other[DGMM_MAX_DEVICES], n;
	__u32 a = 0, b = 0, a2 = 0, c = 0, gate1, gate0, done;
	struct drm_dgmm_sync in = { 0 }, out = { 0 };
	struct drm_dgmm_job_op op;
	__u8 *mb;

	if (self->n < 2)
		SKIP(return, "needs two devices");
	ASSERT_EQ(0, dgmm_engine_mbps(4, &self->engine_mbps));
	self->throttled = true;
	n = dgmm_open_devices(other, NULL, DGMM_MAX_DEVICES);
	ASSERT_GT(n, 0);

	ASSERT_EQ(0, dgmm_gem_create(self->fd[0], MiB, V, V | G, 0, &a));
	ASSERT_EQ(0, dgmm_gem_create(other[0], MiB, G, G, 0, &b));
	prime.handle = a;
	ASSERT_EQ(0, dgmm_ioctl(self->fd[0], DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime));
	ASSERT_EQ(0, dgmm_ioctl(other[0], DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime));
	a2 = prime.handle;
	close(prime.fd);
	ASSERT_EQ(0, dgmm_gem_wait(self->fd[0], a, -1));
	ASSERT_EQ(0, dgmm_gem_wait(other[0], b, -1));

	gate1 = syncobj_create(self->fd[1]);
	ASSERT_NE(0, gate1);
	ASSERT_EQ(0, slow_gate(self->fd[1], gate1, 0, &c));
	gate0 = syncobj_transfer(self->fd[1], gate1, self->fd[0]);
	ASSERT_NE(0, gate0);
	in.handle = gate0;
	op = fill_op(a, 0, MiB, 0xc3);
	ASSERT_EQ(0, submit(self->fd[0], &op, 1, &in, 1, NULL, 0));

	done = syncobj_create(other[0]);
	ASSERT_NE(0, done);
	out.handle = done;
	op = copy_op(b, 0, a2, 0, MiB);
	ASSERT_EQ(0, submit(other[0], &op, 1, NULL, 0, &out, 1));
	ASSERT_EQ(0, syncobj_wait(other[0], done, 0));

	mb = dgmm_gem_mmap(other[0], b, MiB);
	ASSERT_NE(MAP_FAILED, mb);
	EXPECT_EQ(MiB, first_not(mb, MiB, 0xc3)) {
		TH_LOG("the copy did not wait for the fill");
	}
	munmap(mb, MiB);
	dgmm_gem_close(other[0], b);
	dgmm_gem_close(other[0], a2);
	dgmm_gem_close(self->fd[0], a);
	dgmm_gem_close(self->fd[1], c);
	for (int k = 0; k < n; k++)
		close(other[k]);
}

/* Every field the ioctl checks, one at a time. */
TEST_F(submit, rejects)
{
	for (int i = 0; i < self->n; i++) {
		int fd = self->fd[i];
		__u32 a = 0, s = 0, sys = 0, empty = syncobj_create(fd);
		struct drm_dgmm_sync sync = { .handle = empty };
		struct drm_dgmm_submit args = { 0 };
		struct drm_dgmm_job_op op;

		ASSERT_NE(0, empty);
		ASSERT_EQ(0, dgmm_gem_create(fd, 64 * 1024, V, V | G, 0, &a));
		ASSERT_EQ(0, dgmm_gem_create(fd, 64 * 1024, G, G, 0, &s));
		ASSERT_EQ(0, dgmm_gem_create(fd, 64 * 1024, S, S, 0, &sys));

		op = fill_op(a, 0, 4096, 1);
		args = (struct drm_dgmm_submit){ .ops = (__u64)(uintptr_t)&op, .num_ops = 1,
						 .flags = 1 };
		EXPECT_EQ(-1, dgmm_ioctl(fd, DRM_IOCTL_DGMM_SUBMIT, &args));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(-EINVAL, submit(fd, &op, 0, NULL, 0, NULL, 0));
		EXPECT_EQ(-EINVAL, submit(fd, &op, DRM_DGMM_SUBMIT_MAX_OPS + 1, NULL, 0, NULL, 0));
		EXPECT_EQ(-EINVAL, submit(fd, &op, 1, &sync, DRM_DGMM_SUBMIT_MAX_SYNCS + 1,
					  NULL, 0));
		EXPECT_EQ(-EINVAL, submit(fd, &op, 1, NULL, 0, &sync,
					  DRM_DGMM_SUBMIT_MAX_SYNCS + 1));
		EXPECT_EQ(-EFAULT, submit(fd, (void *)8, 1, NULL, 0, NULL, 0));

		op = fill_op(a, 0, 4096, 1);
		op.op = 7;
		EXPECT_EQ(-EINVAL, submit(fd, &op, 1, NULL, 0, NULL, 0));
		op = fill_op(a, 0, 0, 1);
		EXPECT_EQ(-EINVAL, submit(fd, &op, 1, NULL, 0, NULL, 0));
		op = fill_op(a, 0, 100, 1);
		EXPECT_EQ(-EINVAL, submit(fd, &op, 1, NULL, 0, NULL, 0));
		op = fill_op(a, 100, 4096, 1);
		EXPECT_EQ(-EINVAL, submit(fd, &op, 1, NULL, 0, NULL, 0));
		op = fill_op(a, 64 * 1024, 4096, 1);
		EXPECT_EQ(-EINVAL, submit(fd, &op, 1, NULL, 0, NULL, 0));
		op = fill_op(a, 60 * 1024, 8192, 1);
		EXPECT_EQ(-EINVAL, submit(fd, &op, 1, NULL, 0, NULL, 0));
		op = fill_op(a, 0, 4096, 1);
		op.value = 256;
		EXPECT_EQ(-EINVAL, submit(fd, &op, 1, NULL, 0, NULL, 0));
		op = fill_op(a, 0, 4096, 1);
		op.src_handle = s;
		EXPECT_EQ(-EINVAL, submit(fd, &op, 1, NULL, 0, NULL, 0));
		op = fill_op(a, 0, 4096, 1);
		op.src_offset = 4096;
		EXPECT_EQ(-EINVAL, submit(fd, &op, 1, NULL, 0, NULL, 0));
		op = copy_op(a, 0, s, 0, 4096);
		op.value = 1;
		EXPECT_EQ(-EINVAL, submit(fd, &op, 1, NULL, 0, NULL, 0));
		op = copy_op(a, 0, s, 100, 4096);
		EXPECT_EQ(-EINVAL, submit(fd, &op, 1, NULL, 0, NULL, 0));
		op = copy_op(a, 0, s, 64 * 1024, 4096);
		EXPECT_EQ(-EINVAL, submit(fd, &op, 1, NULL, 0, NULL, 0));
		op = copy_op(a, 4096, a, 0, 8192);	/* overlapping */
		EXPECT_EQ(-EINVAL, submit(fd, &op, 1, NULL, 0, NULL, 0));
		op = fill_op(sys, 0, 4096, 1);		/* SYSTEM only */
		EXPECT_EQ(-EINVAL, submit(fd, &op, 1, NULL, 0, NULL, 0));
		op = fill_op(0x7fff, 0, 4096, 1);
		EXPECT_EQ(-ENOENT, submit(fd, &op, 1, NULL, 0, NULL, 0));
		op = copy_op(a, 0, 0x7fff, 0, 4096);
		EXPECT_EQ(-ENOENT, submit(fd, &op, 1, NULL, 0, NULL, 0));

		op = fill_op(a, 0, 4096, 1);
		sync.flags = 1;
		EXPECT_EQ(-EINVAL, submit(fd, &op, 1, &sync, 1, NULL, 0));
		EXPECT_EQ(-EINVAL, submit(fd, &op, 1, NULL, 0, &sync, 1));
		sync.flags = 0;
		/* A binary syncobj that has no fence: nothing to wait for. */
		EXPECT_EQ(-EINVAL, submit(fd, &op, 1, &sync, 1, NULL, 0));
		sync.handle = 0x7fff;
		EXPECT_EQ(-ENOENT, submit(fd, &op, 1, &sync, 1, NULL, 0));
		EXPECT_EQ(-ENOENT, submit(fd, &op, 1, NULL, 0, &sync, 1));

		/* And the same job, valid, works. */
		sync.handle = empty;
		EXPECT_EQ(0, submit(fd, &op, 1, NULL, 0, &sync, 1));
		EXPECT_EQ(0, syncobj_wait(fd, empty, 0));
		dgmm_gem_close(fd, a);
		dgmm_gem_close(fd, s);
		dgmm_gem_close(fd, sys);
	}
}

/* Writes @value to the fault attribute file @name. */
static int hang_attr(const char *name, const char *value)
{
	char path[128];

	snprintf(path, sizeof(path), HANG_DIR "/%s", name);
	return dgmm_write_file(path, value);
}

/*
 * A user's job that hangs on the engine (fault injection) is stopped by the
 * job timeout: its fence signals -ETIMEDOUT, and the next job runs.
 */
TEST_F(submit, hung_job_times_out)
{
	if (access(HANG_DIR, F_OK))
		SKIP(return, "no %s (CONFIG_FAULT_INJECTION_DEBUG_FS)", HANG_DIR);

	for (int i = 0; i < self->n; i++) {
		__u32 a = 0, hung = syncobj_create(self->fd[i]), next = syncobj_create(self->fd[i]);
		struct drm_dgmm_sync out = { .handle = hung };
		struct drm_dgmm_job_op op;
		__u8 *map;

		ASSERT_EQ(0, dgmm_gem_create(self->fd[i], 64 * 1024, V, V | G,
					     DRM_DGMM_GEM_CPU_ACCESS, &a));
		ASSERT_EQ(0, dgmm_gem_wait(self->fd[i], a, -1));
		ASSERT_EQ(0, hang_attr("verbose", "0"));
		ASSERT_EQ(0, hang_attr("probability", "100"));
		ASSERT_EQ(0, hang_attr("times", "1"));
		op = fill_op(a, 0, 4096, 0x11);
		ASSERT_EQ(0, submit(self->fd[i], &op, 1, NULL, 0, &out, 1));
		op = fill_op(a, 4096, 4096, 0x22);
		out.handle = next;
		ASSERT_EQ(0, submit(self->fd[i], &op, 1, NULL, 0, &out, 1));
		ASSERT_EQ(0, syncobj_wait(self->fd[i], next, 0));
		EXPECT_EQ(0, hang_attr("probability", "0"));

		EXPECT_EQ(-ETIMEDOUT, syncobj_status(self->fd[i], hung));
		EXPECT_EQ(1, syncobj_status(self->fd[i], next));
		map = dgmm_gem_mmap(self->fd[i], a, 64 * 1024);
		ASSERT_NE(MAP_FAILED, map);
		/* The stopped job wrote nothing; the next one did its work. */
		EXPECT_EQ(4096, first_not(map, 4096, 0));
		EXPECT_EQ(4096, first_not(map + 4096, 4096, 0x22));
		munmap(map, 64 * 1024);
		dgmm_gem_close(self->fd[i], a);
	}
}

/* Waits up to 20 s for the device's VRAM and GTT use to drop to @vram, @gtt. */
static bool usage_returns(int fd, __u64 vram, __u64 gtt)
{
	for (int t = 0; t < 200; t++) {
		if (dgmm_region_used(fd, DRM_DGMM_REGION_VRAM) <= vram &&
		    dgmm_region_used(fd, DRM_DGMM_REGION_GTT) <= gtt)
			return true;
		usleep(100 * 1000);
	}
	return false;
}

/*
 * Delayed destruction. A file closes with a slow job in flight on BOs it
 * has already closed; then a process is killed with a slow job in flight:
 * once the jobs are done, VRAM and GTT use are back where they were.
 */
TEST_F(submit, busy_bos_are_freed_later)
{
	const size_t size = 2 * MiB;

	ASSERT_EQ(0, dgmm_engine_mbps(2, &self->engine_mbps));
	self->throttled = true;
	for (int i = 0; i < self->n; i++) {
		__u64 vram = dgmm_region_used(self->fd[i], DRM_DGMM_REGION_VRAM);
		__u64 gtt = dgmm_region_used(self->fd[i], DRM_DGMM_REGION_GTT);
		int own[DGMM_MAX_DEVICES], n, status;
		struct drm_dgmm_job_op op;
		__u32 a = 0, b = 0;
		pid_t pid;

		/* A file of its own, closed with the job (1 s) still running. */
		n = dgmm_open_devices(own, NULL, DGMM_MAX_DEVICES);
		ASSERT_GT(n, i);
		ASSERT_EQ(0, dgmm_gem_create(own[i], size, V, V | G, 0, &a));
		ASSERT_EQ(0, dgmm_gem_create(own[i], size, G, G, 0, &b));
		op = copy_op(b, 0, a, 0, size);
		ASSERT_EQ(0, submit(own[i], &op, 1, NULL, 0, NULL, 0));
		EXPECT_EQ(-ETIME, dgmm_gem_wait(own[i], b, 0));
		dgmm_gem_close(own[i], a);
		dgmm_gem_close(own[i], b);
		for (int k = 0; k < n; k++)
			close(own[k]);
		EXPECT_TRUE(usage_returns(self->fd[i], vram, gtt));

		/* A process killed with its job in flight. */
		pid = fork();
		ASSERT_GE(pid, 0);
		if (pid == 0) {
			n = dgmm_open_devices(own, NULL, DGMM_MAX_DEVICES);
			if (n <= i || dgmm_gem_create(own[i], size, V, V | G, 0, &a) ||
			    dgmm_gem_create(own[i], size, G, G, 0, &b))
				_exit(1);
			op = copy_op(b, 0, a, 0, size);
			if (submit(own[i], &op, 1, NULL, 0, NULL, 0))
				_exit(2);
			for (;;)
				pause();
		}
		usleep(300 * 1000);
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFSIGNALED(status));
		EXPECT_TRUE(usage_returns(self->fd[i], vram, gtt));
	}
}

TEST_HARNESS_MAIN
