// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * dgmm-fence-hold: holds fences of dgmm's copy engine, taken out through a
 * BO's dma-buf as sync_files, while the module is unloaded; run by the
 * guest's lifecycle checks (scripts/guest/run-tests.sh), beside an rmmod.
 *
 * 1. Fence A is a device job's: a fill of a BO on a throttled engine, still
 *    running when its sync_file is exported.
 * 2. Fence B is a job the scheduler killed before it ran (with sw_sync): a
 *    child process queues a fill behind a user's fence, and exits; its
 *    file's entity is torn down with the job still queued.
 * 3. Everything else is closed; "held" is printed. The caller now runs
 *    rmmod dgmm, which unbinds the devices and must then wait.
 * 4. Once the module is going (/sys/module/dgmm/initstate) and its devices
 *    are gone, each fence is asked for its names and status, and released
 *    a second later, B last: the module must still be there (going) while
 *    either is held, its exit waiting for them.
 *
 * Exit status 0 when every check held; each failure is printed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/sync_file.h>

#include "dgmm_util.h"

#define MiB (1024ull * 1024)
#define INITSTATE "/sys/module/dgmm/initstate"

static int failures;

#define CHECK(cond, ...) do {					\
	if (!(cond)) {						\
		failures++;					\
		printf("dgmm-fence-hold: FAIL: " __VA_ARGS__);	\
		printf("\n");					\
	}							\
} while (0)

static void die(const char *what)
{
	printf("dgmm-fence-hold: FAIL: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int export_buf(int fd, __u32 handle)
{
	int buf = dgmm_prime_export(fd, handle);

	if (buf < 0)
		die("export");	/* errno is the ioctl's */
	return buf;
}

/* The BO's fences a reader waits for (its writers'), as a sync_file. */
static int export_sync_file(int buf)
{
	struct dma_buf_export_sync_file sync = { .flags = DMA_BUF_SYNC_READ };

	if (ioctl(buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &sync))
		die("DMA_BUF_IOCTL_EXPORT_SYNC_FILE");
	return sync.fd;
}

static bool signalled_within(int sync_file, int ms)
{
	struct pollfd p = { .fd = sync_file, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* Has the driver no device left (its directory goes with it)? */
static bool no_device_bound(void)
{
	DIR *d = opendir("/sys/bus/pci/drivers/dgmm");
	bool none = true;

	for (struct dirent *e; d && (e = readdir(d));)
		if (!strncmp(e->d_name, "0000:", 5))
			none = false;
	if (d)
		closedir(d);
	return none;
}

/* The module's state, or "" once it is gone. */
static const char *module_state(void)
{
	static char state[32];
	FILE *f = fopen(INITSTATE, "r");

	state[0] = '\0';
	if (f) {
		if (!fgets(state, sizeof(state), f))
			state[0] = '\0';
		fclose(f);
	}
	state[strcspn(state, "\n")] = '\0';
	return state;
}

/*
 * Asks @sync_file for its fences, the way `sync_file` users do, and checks
 * that the copy engine's one among them still names its driver and
 * timeline, and has signalled with @want_status (1, or an error).
 */
static void check_fences(const char *which, int sync_file, int want_status)
{
	struct sync_fence_info fences[4];
	struct sync_file_info info = { 0 };
	int found = 0;

	if (ioctl(sync_file, SYNC_IOC_FILE_INFO, &info))
		die("SYNC_IOC_FILE_INFO");
	CHECK(info.num_fences >= 1 && info.num_fences <= 4, "%s: %u fences", which,
	      info.num_fences);
	if (info.num_fences < 1 || info.num_fences > 4)
		return;
	memset(fences, 0, sizeof(fences));
	info.sync_fence_info = (__u64)(uintptr_t)fences;
	if (ioctl(sync_file, SYNC_IOC_FILE_INFO, &info))
		die("SYNC_IOC_FILE_INFO");
	for (unsigned int i = 0; i < info.num_fences; i++) {
		printf("dgmm-fence-hold: %s: fence %u: driver %s, timeline %s, status %d\n",
		       which, i, fences[i].driver_name, fences[i].obj_name, fences[i].status);
		if (strcmp(fences[i].driver_name, "drm_sched"))
			continue;
		found++;
		CHECK(!strcmp(fences[i].obj_name, "dgmm-copy"), "%s: timeline \"%s\"", which,
		      fences[i].obj_name);
		CHECK(fences[i].status == want_status, "%s: status %d, not %d", which,
		      fences[i].status, want_status);
	}
	CHECK(found == 1, "%s: %d fences of the copy engine", which, found);
}

/* Fence A: a fill still running on the throttled engine. */
static int running_job_fence(int fd)
{
	unsigned int old_mbps = 0;
	__u32 bo = 0;
	int buf, sync_file;

	if (dgmm_gem_create(fd, MiB, DRM_DGMM_DOMAIN_VRAM,
			    DRM_DGMM_DOMAIN_VRAM | DRM_DGMM_DOMAIN_GTT, 0, &bo))
		die("create");
	if (dgmm_gem_wait(fd, bo, -1))
		die("wait for the clear");
	buf = export_buf(fd, bo);
	if (dgmm_engine_mbps(4, &old_mbps))
		die("engine_mbps");
	if (dgmm_submit_fill(fd, bo, 0, MiB, 0x5a))
		die("submit");
	sync_file = export_sync_file(buf);
	CHECK(!signalled_within(sync_file, 0), "A: the fill was over before it was exported");
	CHECK(signalled_within(sync_file, 20000), "A: the fill did not end in 20 s");
	dgmm_engine_mbps(old_mbps, NULL);
	close(buf);
	dgmm_gem_close(fd, bo);
	return sync_file;
}

/* Fence B: a job the scheduler kills before it runs; -1 without sw_sync. */
static int killed_job_fence(int fd)
{
	int timeline = open(SW_SYNC_PATH, O_RDWR), buf, go[2], sync_file, status;
	__u32 bo = 0;
	char c;
	pid_t child;

	if (timeline < 0) {
		printf("dgmm-fence-hold: no %s: no killed job's fence\n", SW_SYNC_PATH);
		return -1;
	}
	if (dgmm_gem_create(fd, MiB, DRM_DGMM_DOMAIN_GTT, DRM_DGMM_DOMAIN_GTT, 0, &bo))
		die("create");
	buf = export_buf(fd, bo);
	errno = -dgmm_user_fence_into(timeline, buf);
	if (errno)
		die("a sw_sync fence into the dma-buf");

	if (pipe(go))
		die("pipe");
	child = fork();
	if (child < 0)
		die("fork");
	if (!child) {
		/* Its own file, so that its exit tears down its own entity. */
		int own = -1;
		__u32 handle = 0;

		close(go[0]);
		if (dgmm_open_devices(&own, NULL, 1) != 1 || dgmm_prime_import(own, buf, &handle) ||
		    dgmm_submit_fill(own, handle, 0, MiB, 0xa5))
			_exit(1);
		if (write(go[1], "q", 1) != 1)
			_exit(1);
		_exit(0);	/* with the job queued behind the user's fence */
	}
	close(go[1]);
	if (read(go[0], &c, 1) != 1)
		die("the child did not queue its job");
	close(go[0]);
	sync_file = export_sync_file(buf);
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status))
		die("child");
	/* The user's fence signals (with an error); the killed job's then does. */
	close(timeline);
	CHECK(signalled_within(sync_file, 20000), "B: the killed job did not end in 20 s");
	close(buf);
	dgmm_gem_close(fd, bo);
	return sync_file;
}

int main(void)
{
	struct timespec pause = { .tv_nsec = 100 * 1000 * 1000 };
	int fd = -1, a, b, i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (dgmm_open_devices(&fd, NULL, 1) != 1)
		die("no dgmm device");
	a = running_job_fence(fd);
	b = killed_job_fence(fd);
	close(fd);
	printf("dgmm-fence-hold: held\n");

	for (i = 0; i < 600 && (strcmp(module_state(), "going") || !no_device_bound()); i++)
		nanosleep(&pause, NULL);
	CHECK(!strcmp(module_state(), "going") && no_device_bound(),
	      "the module did not unbind its devices in 60 s");

	check_fences("A", a, 1);
	sleep(1);
	CHECK(!strcmp(module_state(), "going"), "the module went while a job's fence was held");
	close(a);
	if (b >= 0) {
		check_fences("B", b, -ESRCH);
		sleep(1);
		CHECK(!strcmp(module_state(), "going"),
		      "the module went while a killed job's fence was held");
		close(b);
	}
	printf("dgmm-fence-hold: %s\n", failures ? "failed" : "ok");
	return failures ? 1 : 0;
}
