// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * dgmm's trace events, read back through tracefs: an eviction shows the
 * victim's create, the verdict, the eviction placement, the move with its
 * fence and the copy job that fence belongs to (queued, run, done, in that
 * order); migrations, faults, device jobs, swapout and destruction each
 * show up with their reason; a BO shared with another device and with vgem
 * shows its attach, maps, move_notify, invalidation, pins and detach. Runs
 * as root on the last dgmm device.
 */
#define _GNU_SOURCE	/* memmem() */
#include <sys/mount.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "dgmm_util.h"

#define MiB (1024ull * 1024)
#define V DRM_DGMM_DOMAIN_VRAM
#define G DRM_DGMM_DOMAIN_GTT
#define S DRM_DGMM_DOMAIN_SYSTEM
#define TT_SHRINK_PATH "/sys/kernel/debug/ttm/tt_shrink"

static const char *const tracefs_dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };

/* The tracefs directory with dgmm's events, mounting tracefs if need be. */
static const char *tracefs_find(void)
{
	char path[128];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(tracefs_dirs); i++) {
		snprintf(path, sizeof(path), "%s/events/dgmm", tracefs_dirs[i]);
		if (!access(path, F_OK))
			return tracefs_dirs[i];
	}
	if (mount("tracefs", tracefs_dirs[0], "tracefs", 0, NULL))
		return NULL;
	snprintf(path, sizeof(path), "%s/events/dgmm", tracefs_dirs[0]);
	return access(path, F_OK) ? NULL : tracefs_dirs[0];
}

static int trace_write(const char *dir, const char *file, const char *value)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return dgmm_write_file(path, value);
}

/* The whole trace buffer, NUL-terminated, malloc'ed. */
static char *trace_read(const char *dir)
{
	size_t len = 0, cap = 1 << 20;
	char path[256], *buf = malloc(cap);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/trace", dir);
	fd = open(path, O_RDONLY);
	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (cap - len < 4096) {
			char *bigger = realloc(buf, cap * 2);

			if (!bigger)
				break;
			buf = bigger;
			cap *= 2;
		}
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

/*
 * One event of the trace: its name, its line number, and its fields as
 * "key=value" pairs (the part after "name: ").
 */
struct event {
	char name[32];
	unsigned int line;
	char fields[512];
};

/* The value of @key in @e as a string ("" if absent). */
static const char *field(const struct event *e, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);
	const char *p = e->fields;

	out[0] = '\0';
	while ((p = strstr(p, key))) {
		if ((p == e->fields || p[-1] == ' ') && p[klen] == '=') {
			size_t n = strcspn(p + klen + 1, " ");

			if (n >= len)
				n = len - 1;
			memcpy(out, p + klen + 1, n);
			out[n] = '\0';
			return out;
		}
		p += klen;
	}
	return out;
}

static unsigned long long field_u(const struct event *e, const char *key)
{
	char v[64];

	return strtoull(field(e, key, v, sizeof(v)), NULL, 0);
}

static bool field_is(const struct event *e, const char *key, const char *want)
{
	char v[64];

	return !strcmp(field(e, key, v, sizeof(v)), want);
}

/* Parses every dgmm event of @text into a malloc'ed array. */
static struct event *parse(const char *text, unsigned int *count)
{
	unsigned int n = 0, cap = 1024, line = 0;
	struct event *ev = malloc(cap * sizeof(*ev));
	const char *p = text;

	while (ev && *p) {
		const char *end = strchr(p, '\n'), *name;
		size_t len = end ? (size_t)(end - p) : strlen(p);

		line++;
		name = memmem(p, len, ": dgmm_", 7);
		if (name && p[0] != '#') {
			const char *colon = memchr(name + 2, ':', len - (name + 2 - p));

			if (colon) {
				struct event *e;

				if (n == cap) {
					struct event *bigger = realloc(ev, 2 * cap * sizeof(*ev));

					if (!bigger)
						break;
					ev = bigger;
					cap *= 2;
				}
				e = &ev[n++];
				snprintf(e->name, sizeof(e->name), "%.*s",
					 (int)(colon - name - 2), name + 2);
				snprintf(e->fields, sizeof(e->fields), "%.*s",
					 (int)(len - (colon + 2 - p)), colon + 2);
				e->line = line;
			}
		}
		p += len + (end ? 1 : 0);
	}
	*count = n;
	return ev;
}

/* The first event named @name, after line @after, whose fields match. */
static const struct event *find(const struct event *ev, unsigned int n, const char *name,
				unsigned int after, const char *k1, const char *v1,
				const char *k2, const char *v2)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (ev[i].line <= after || strcmp(ev[i].name, name))
			continue;
		if (k1 && !field_is(&ev[i], k1, v1))
			continue;
		if (k2 && !field_is(&ev[i], k2, v2))
			continue;
		return &ev[i];
	}
	return NULL;
}

/* What a test traced, and where. */
struct trace_run {
	int fd;
	const char *tracefs;
	char dev[64];	/* PCI name, as the events print it */
	char *text;
	struct event *ev;
	unsigned int n;
};

/*
 * find() in what a test traced, on its own device only: BO ids are per
 * device, and the other device may be busy too.
 */
static const struct event *find_in(const struct trace_run *t, const char *name,
				   unsigned int after, const char *k1, const char *v1,
				   const char *k2, const char *v2)
{
	const struct event *e;

	while ((e = find(t->ev, t->n, name, after, k1, v1, k2, v2))) {
		if (field_is(e, "dev", t->dev))
			return e;
		after = e->line;
	}
	return NULL;
}

FIXTURE(trace) {
	struct trace_run run;
};

FIXTURE_SETUP(trace)
{
	int fds[DGMM_MAX_DEVICES], minors[DGMM_MAX_DEVICES], n, i;
	char link[128], target[256];
	ssize_t len;

	self->run.fd = -1;
	self->run.text = NULL;
	self->run.ev = NULL;
	n = dgmm_open_devices(fds, minors, DGMM_MAX_DEVICES);
	if (n <= 0)
		SKIP(return, "no dgmm render node");
	for (i = 0; i < n - 1; i++)
		close(fds[i]);
	self->run.fd = fds[n - 1];
	snprintf(link, sizeof(link), "/sys/class/drm/renderD%d/device", minors[n - 1]);
	len = readlink(link, target, sizeof(target) - 1);
	ASSERT_GT(len, 0);
	target[len] = '\0';
	snprintf(self->run.dev, sizeof(self->run.dev), "%s", strrchr(target, '/') + 1);

	/* BOs an earlier test closed while busy go once idle: let them. */
	dgmm_vram_settle(self->run.fd);
	self->run.tracefs = tracefs_find();
	if (!self->run.tracefs)
		SKIP(return, "no tracefs with dgmm's events");
	ASSERT_EQ(0, trace_write(self->run.tracefs, "tracing_on", "0"));
	ASSERT_EQ(0, trace_write(self->run.tracefs, "buffer_size_kb", "8192"));
	ASSERT_EQ(0, trace_write(self->run.tracefs, "trace", ""));
	ASSERT_EQ(0, trace_write(self->run.tracefs, "events/dgmm/enable", "1"));
	ASSERT_EQ(0, trace_write(self->run.tracefs, "tracing_on", "1"));
}

FIXTURE_TEARDOWN(trace)
{
	if (self->run.tracefs) {
		trace_write(self->run.tracefs, "tracing_on", "0");
		trace_write(self->run.tracefs, "events/dgmm/enable", "0");
		trace_write(self->run.tracefs, "trace", "");
	}
	free(self->run.text);
	free(self->run.ev);
	if (self->run.fd >= 0)
		close(self->run.fd);
}

/* Stops tracing and parses what was recorded. */
static void collect(struct __test_metadata *_metadata, struct trace_run *self)
{
	ASSERT_EQ(0, trace_write(self->tracefs, "tracing_on", "0"));
	free(self->text);
	free(self->ev);
	self->text = trace_read(self->tracefs);
	ASSERT_NE(NULL, self->text);
	self->ev = parse(self->text, &self->n);
	ASSERT_NE(NULL, self->ev);
	TH_LOG("%u dgmm events", self->n);
}

/* The id of the BO whose create event is the last one of @size. */
static const struct event *created(struct trace_run *self, __u64 size)
{
	const struct event *last = NULL;
	char s[32];
	unsigned int i;

	snprintf(s, sizeof(s), "%llu", (unsigned long long)size);
	for (i = 0; i < self->n; i++)
		if (!strcmp(self->ev[i].name, "dgmm_bo_create") &&
		    field_is(&self->ev[i], "size", s) && field_is(&self->ev[i], "dev", self->dev))
			last = &self->ev[i];
	return last;
}

/*
 * An eviction, event by event: the victim's create, TTM asking whether it
 * may give way (yes), where it goes (GTT first), its move with the copy's
 * fence, and that copy's job queued, run and done without error.
 */
TEST_F(trace, eviction_is_traced)
{
	__u64 vram = dgmm_region(self->run.fd, DRM_DGMM_REGION_VRAM).size;
	__u64 victim_size = 24 * MiB + 4096, big;
	const struct event *c, *e, *q, *r, *d;
	__u32 victim = 0, bo = 0;
	char id[32], fence[64];

	ASSERT_GT(vram, 2 * victim_size);
	ASSERT_EQ(0, dgmm_gem_create(self->run.fd, victim_size, V, V | G, 0, &victim));
	ASSERT_EQ(0, dgmm_gem_wait(self->run.fd, victim, -1));
	/* Bigger than what is free: the victim (the only BO here) must go. */
	big = vram - dgmm_region_used(self->run.fd, DRM_DGMM_REGION_VRAM) + victim_size / 2;
	big = (big + 4095) & ~4095ull;
	ASSERT_EQ(0, dgmm_gem_create(self->run.fd, big, V, V | G, 0, &bo));
	ASSERT_EQ(0, dgmm_gem_wait(self->run.fd, victim, -1));
	ASSERT_EQ(0, dgmm_gem_wait(self->run.fd, bo, -1));
	collect(_metadata, &self->run);

	c = created(&self->run, victim_size);
	ASSERT_NE(NULL, c);
	EXPECT_TRUE(field_is(c, "preferred", "0x4"));
	EXPECT_TRUE(field_is(c, "allowed", "0x6"));
	EXPECT_TRUE(field_is(c, "kernel", "0"));
	field(c, "bo", id, sizeof(id));

	e = find_in(&self->run, "dgmm_evict_valuable", c->line, "bo", id, "verdict", "yes");
	ASSERT_NE(NULL, e);
	EXPECT_TRUE(field_is(e, "for", "vram"));
	e = find_in(&self->run, "dgmm_evict_flags", c->line, "bo", id, "from", "vram");
	ASSERT_NE(NULL, e);
	EXPECT_TRUE(field_is(e, "first", "gtt"));

	e = find_in(&self->run, "dgmm_bo_move", c->line, "bo", id, "reason", "evict");
	ASSERT_NE(NULL, e);
	EXPECT_TRUE(field_is(e, "dev", self->run.dev));
	EXPECT_TRUE(field_is(e, "from", "vram"));
	EXPECT_TRUE(field_is(e, "to", "gtt"));
	EXPECT_EQ(victim_size, field_u(e, "size"));
	EXPECT_EQ(victim_size, field_u(e, "copied"));
	field(e, "fence", fence, sizeof(fence));
	ASSERT_NE(NULL, strchr(fence, ':'));
	EXPECT_NE(0, strtoull(fence, NULL, 10));
	TH_LOG("eviction of bo %s: %s", id, e->fields);

	q = find_in(&self->run, "dgmm_job_queue", 0, "fence", fence, NULL, NULL);
	r = find_in(&self->run, "dgmm_job_run", 0, "fence", fence, NULL, NULL);
	d = find_in(&self->run, "dgmm_job_done", 0, "fence", fence, NULL, NULL);
	ASSERT_NE(NULL, q);
	ASSERT_NE(NULL, r);
	ASSERT_NE(NULL, d);
	EXPECT_LT(q->line, r->line);
	EXPECT_LT(r->line, d->line);
	EXPECT_TRUE(field_is(q, "user", "0"));
	EXPECT_EQ(victim_size, field_u(q, "bytes"));
	EXPECT_TRUE(field_is(d, "error", "0"));

	/* The new BO's first placement: a validation into VRAM. */
	c = created(&self->run, big);
	ASSERT_NE(NULL, c);
	field(c, "bo", id, sizeof(id));
	e = find_in(&self->run, "dgmm_bo_move", 0, "bo", id, "reason", "validate");
	ASSERT_NE(NULL, e);
	EXPECT_TRUE(field_is(e, "to", "vram"));
	EXPECT_LT(e->line, c->line);	/* placed before it is announced */

	EXPECT_EQ(0, dgmm_gem_close(self->run.fd, bo));
	EXPECT_EQ(0, dgmm_gem_close(self->run.fd, victim));
}

/* Polls the trace, for up to 5 s, for an event @name whose fields match. */
static bool traced(struct trace_run *self, const char *name, const char *k1, const char *v1,
		   const char *k2, const char *v2)
{
	for (int i = 0; i < 250; i++) {
		char *text = trace_read(self->tracefs);
		unsigned int n;
		struct event *ev = text ? parse(text, &n) : NULL;
		bool found = ev && find(ev, n, name, 0, k1, v1, k2, v2);

		free(ev);
		free(text);
		if (found)
			return true;
		usleep(20000);
	}
	return false;
}

/* Polls the trace for @bo's destroy event (TTM frees an idle BO at once). */
static bool destroyed(struct __test_metadata *_metadata, struct trace_run *self,
		      const char *id)
{
	return traced(self, "dgmm_bo_destroy", "bo", id, "dev", self->dev);
}

/*
 * Every other reason a BO moves: an explicit migration, a CPU fault into
 * the visible window, a device job that needs the BO reachable, TTM's
 * swapout; and the BO's destruction.
 */
TEST_F(trace, move_reasons_are_traced)
{
	struct drm_dgmm_region_info vram = dgmm_region(self->run.fd, DRM_DGMM_REGION_VRAM);
	const __u64 size = 2 * MiB;
	const struct event *c, *e;
	char mig[32], flt[32], job[32], swp[32];
	__u32 a = 0, b = 0, d = 0, s = 0;
	__u8 *map = NULL, *sm;
	bool swapped = false;

	/* Migrate: VRAM -> GTT on request. */
	ASSERT_EQ(0, dgmm_gem_create(self->run.fd, size, V, V | G, 0, &a));
	ASSERT_EQ(0, dgmm_gem_migrate(self->run.fd, a, G));
	/* Fault: a BO above the visible window, touched through a mapping. */
	ASSERT_EQ(0, dgmm_gem_create(self->run.fd, size + 4096, V, V | G, 0, &b));
	if (vram.cpu_visible_size < vram.size) {
		map = dgmm_gem_mmap(self->run.fd, b, size + 4096);
		ASSERT_NE(MAP_FAILED, map);
		map[0] = 1;
	}
	/* A device job on a BO in SYSTEM: validated into GTT. */
	ASSERT_EQ(0, dgmm_gem_create(self->run.fd, size + 8192, G, G | S, 0, &d));
	ASSERT_EQ(0, dgmm_gem_migrate(self->run.fd, d, S));
	ASSERT_EQ(0, dgmm_submit_fill(self->run.fd, d, 0, size, 0x5a));
	ASSERT_EQ(0, dgmm_gem_wait(self->run.fd, d, -1));
	/* Swap: a BO with pages, in SYSTEM, swapped out by TTM's debugfs. */
	ASSERT_EQ(0, dgmm_gem_create(self->run.fd, size + 12288, S, S, 0, &s));
	sm = dgmm_gem_mmap(self->run.fd, s, size + 12288);
	ASSERT_NE(MAP_FAILED, sm);
	memset(sm, 0x77, size + 12288);
	munmap(sm, size + 12288);
	if (!access(TT_SHRINK_PATH, R_OK)) {
		for (int i = 0; i < 1000 && !swapped; i++) {
			struct drm_dgmm_gem_info info;
			char buf[64];
			int fd = open(TT_SHRINK_PATH, O_RDONLY);

			ASSERT_GE(fd, 0);
			ASSERT_GE(read(fd, buf, sizeof(buf)), 0);
			close(fd);
			ASSERT_EQ(0, dgmm_gem_info(self->run.fd, s, &info));
			swapped = info.state & DRM_DGMM_STATE_SWAPPED;
		}
	}
	collect(_metadata, &self->run);

	c = created(&self->run, size);
	ASSERT_NE(NULL, c);
	field(c, "bo", mig, sizeof(mig));
	e = find_in(&self->run, "dgmm_bo_move", c->line, "bo", mig, "reason", "migrate");
	ASSERT_NE(NULL, e);
	EXPECT_TRUE(field_is(e, "from", "vram"));
	EXPECT_TRUE(field_is(e, "to", "gtt"));

	if (map) {
		c = created(&self->run, size + 4096);
		ASSERT_NE(NULL, c);
		field(c, "bo", flt, sizeof(flt));
		e = find_in(&self->run, "dgmm_bo_move", c->line, "bo", flt, "reason", "fault");
		ASSERT_NE(NULL, e);
		EXPECT_TRUE(field_is(e, "from", "vram"));
		EXPECT_TRUE(field_is(e, "to", "vram"));
		munmap(map, size + 4096);
	} else {
		TH_LOG("all of VRAM is CPU-visible: no fault moves the BO");
	}

	c = created(&self->run, size + 8192);
	ASSERT_NE(NULL, c);
	field(c, "bo", job, sizeof(job));
	e = find_in(&self->run, "dgmm_bo_move", c->line, "bo", job, "reason", "validate");
	ASSERT_NE(NULL, e);
	EXPECT_TRUE(field_is(e, "from", "system"));
	EXPECT_TRUE(field_is(e, "to", "gtt"));
	e = find_in(&self->run, "dgmm_job_queue", e->line, "user", "1", NULL, NULL);
	EXPECT_NE(NULL, e);

	if (swapped) {
		c = created(&self->run, size + 12288);
		ASSERT_NE(NULL, c);
		field(c, "bo", swp, sizeof(swp));
		e = find_in(&self->run, "dgmm_bo_move", c->line, "bo", swp, "reason", "swap");
		ASSERT_NE(NULL, e);
		EXPECT_TRUE(field_is(e, "to", "swap"));
	} else {
		TH_LOG("no %s or the BO was not swapped out: swap not checked", TT_SHRINK_PATH);
		EXPECT_NE(0, access(TT_SHRINK_PATH, R_OK));
	}

	/* Destruction, traced once the BO is idle and its last handle gone. */
	ASSERT_EQ(0, trace_write(self->run.tracefs, "tracing_on", "1"));
	ASSERT_EQ(0, dgmm_gem_wait(self->run.fd, a, -1));
	ASSERT_EQ(0, dgmm_gem_close(self->run.fd, a));
	EXPECT_TRUE(destroyed(_metadata, &self->run, mig));
	EXPECT_EQ(0, dgmm_gem_close(self->run.fd, b));
	EXPECT_EQ(0, dgmm_gem_close(self->run.fd, d));
	EXPECT_EQ(0, dgmm_gem_close(self->run.fd, s));
}

/* The first event named @name after line @after on device @dev, for BO @bo. */
static const struct event *find_bo(const struct trace_run *t, const char *name,
				   unsigned int after, const char *dev, const char *bo)
{
	return find(t->ev, t->n, name, after, "dev", dev, "bo", bo);
}

static __u32 domain_of(int fd, __u32 handle)
{
	struct drm_dgmm_gem_info info;

	return dgmm_gem_info(fd, handle, &info) ? 0 : info.domain;
}

/*
 * Sharing, event by event. Device 0 exports a BO in VRAM and the last
 * device imports it: the exporter's attach names the importer and whether
 * it reaches VRAM peer-to-peer (behind the switch of DGMM_PLATFORM=
 * iommu-switch, not on the root bus); the importer's first job maps it
 * (the exporter's map, where the importer reaches it, then the importer's
 * import_map); a move on the exporter is announced (move_notify, to all),
 * the importer's invalidate drops its mapping (the exporter's unmap, then
 * import_unmap), and its next job maps it again. vgem, a static importer,
 * pins it in GTT and unpins it. Closing ends with the exporter's detach.
 * On a kernel without move_notify the importer pins it instead, and it
 * does not move again.
 */
TEST_F(trace, sharing_is_traced)
{
	const char *platform = getenv("DGMM_PLATFORM");
	const struct event *at, *m, *im, *mn, *inv, *um, *ium, *pin, *e;
	int fds[DGMM_MAX_DEVICES], n, a, vgem, buf;
	char adev[64], xid[32], yid[32], p2p[4], there[8];
	const __u64 size = 2 * MiB;
	bool dynamic;
	__u32 x = 0, y = 0;

	n = dgmm_open_devices(fds, NULL, DGMM_MAX_DEVICES);
	for (int i = 1; i < n; i++)
		close(fds[i]);
	if (n < 2) {
		if (n == 1)
			close(fds[0]);
		SKIP(return, "sharing needs two dgmm devices");
	}
	a = fds[0];
	ASSERT_EQ(0, dgmm_pci_name(a, adev, sizeof(adev)));
	dynamic = dgmm_debugfs_stat(a, "dmabuf_move_notify") == 1;

	/* CPU-visible VRAM: a peer reaches only what the BAR shows. */
	ASSERT_EQ(0, dgmm_gem_create(a, size, V, V | G, DRM_DGMM_GEM_CPU_ACCESS, &x));
	ASSERT_EQ(0, dgmm_submit_fill(a, x, 0, size, 0x21));
	ASSERT_EQ(0, dgmm_gem_wait(a, x, -1));
	ASSERT_EQ(V, domain_of(a, x));
	buf = dgmm_prime_export(a, x);
	ASSERT_GE(buf, 0);
	ASSERT_EQ(0, dgmm_prime_import(self->run.fd, buf, &y));
	ASSERT_EQ(0, dgmm_submit_fill(self->run.fd, y, 0, size, 0x22));
	ASSERT_EQ(0, dgmm_gem_wait(self->run.fd, y, -1));
	snprintf(there, sizeof(there), "%s", domain_of(a, x) == V ? "vram" : "gtt");
	if (dynamic) {
		ASSERT_EQ(0, dgmm_gem_migrate(a, x, domain_of(a, x) == V ? G : V));
		ASSERT_EQ(0, dgmm_submit_fill(self->run.fd, y, 0, size, 0x23));
		ASSERT_EQ(0, dgmm_gem_wait(self->run.fd, y, -1));
	} else {
		/* Pinned for the importer, where it reaches it. */
		EXPECT_EQ(-EBUSY, dgmm_gem_migrate(a, x, V));
	}
	vgem = dgmm_open_card("vgem");
	if (vgem >= 0) {
		struct drm_gem_close cl = { 0 };

		ASSERT_EQ(0, dgmm_prime_import(vgem, buf, &cl.handle));
		EXPECT_EQ(0, dgmm_ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &cl));
		close(vgem);
	}
	EXPECT_EQ(0, dgmm_gem_close(self->run.fd, y));
	close(buf);
	EXPECT_EQ(0, dgmm_gem_close(a, x));
	close(a);
	/* The import goes once its last job is freed, and TTM lets it go. */
	EXPECT_TRUE(traced(&self->run, "dgmm_dmabuf_detach", "dev", adev, "importer",
			   self->run.dev));
	collect(_metadata, &self->run);

	/* Attach: the importer, and peer-to-peer as the topology allows. */
	at = find(self->run.ev, self->run.n, "dgmm_dmabuf_attach", 0, "dev", adev,
		  "importer", self->run.dev);
	ASSERT_NE(NULL, at);
	TH_LOG("attach: %s", at->fields);
	field(at, "bo", xid, sizeof(xid));
	field(at, "p2p", p2p, sizeof(p2p));
	if (platform)
		EXPECT_STREQ(strcmp(platform, "iommu-switch") ? "0" : "1", p2p);
	EXPECT_TRUE(field_is(at, "in", "vram"));
	EXPECT_TRUE(field_is(at, "pin_count", "0"));

	/* The first job: the exporter maps it where the importer reaches it. */
	m = find_bo(&self->run, "dgmm_dmabuf_map", at->line, adev, xid);
	ASSERT_NE(NULL, m);
	EXPECT_TRUE(field_is(m, "importer", self->run.dev));
	EXPECT_TRUE(field_is(m, "p2p", p2p));
	EXPECT_TRUE(field_is(m, "in", there));
	EXPECT_STREQ(!strcmp(p2p, "1") ? "vram" : "gtt", there);
	im = find_in(&self->run, "dgmm_dmabuf_import_map", m->line, "exporter", "dgmm",
		     NULL, NULL);
	ASSERT_NE(NULL, im);
	field(im, "bo", yid, sizeof(yid));
	EXPECT_TRUE(field_is(im, "in", "gtt"));

	if (!dynamic) {
		/* The importer pins (in GTT, out of P2P's reach): nothing moves after. */
		pin = find(self->run.ev, self->run.n, "dgmm_dmabuf_pin", at->line, "dev", adev,
			   "importer", self->run.dev);
		ASSERT_NE(NULL, pin);
		EXPECT_TRUE(field_is(pin, "pin_count", "1"));
		EXPECT_TRUE(field_is(pin, "in", "gtt"));
		EXPECT_EQ(NULL, find_bo(&self->run, "dgmm_dmabuf_move_notify", pin->line, adev,
					xid));
	} else {
		mn = find_bo(&self->run, "dgmm_dmabuf_move_notify", im->line, adev, xid);
		ASSERT_NE(NULL, mn);
		EXPECT_TRUE(field_is(mn, "importer", "all"));
		inv = find_in(&self->run, "dgmm_dmabuf_invalidate", mn->line, "bo", yid,
			      NULL, NULL);
		ASSERT_NE(NULL, inv);
		EXPECT_TRUE(field_is(inv, "exporter", "dgmm"));
		um = find_bo(&self->run, "dgmm_dmabuf_unmap", inv->line, adev, xid);
		ASSERT_NE(NULL, um);
		EXPECT_TRUE(field_is(um, "importer", self->run.dev));
		/* Dropped inside move_notify, before the move is done. */
		e = find(self->run.ev, self->run.n, "dgmm_bo_move", mn->line, "bo", xid,
			 "reason", "migrate");
		ASSERT_NE(NULL, e);
		EXPECT_TRUE(field_is(e, "dev", adev));
		EXPECT_LT(um->line, e->line);
		ium = find_in(&self->run, "dgmm_dmabuf_import_unmap", um->line, "bo", yid,
			      NULL, NULL);
		ASSERT_NE(NULL, ium);
		/* The next job maps it again. */
		m = find_bo(&self->run, "dgmm_dmabuf_map", ium->line, adev, xid);
		ASSERT_NE(NULL, m);
		EXPECT_TRUE(field_is(m, "importer", self->run.dev));
		im = find_in(&self->run, "dgmm_dmabuf_import_map", m->line, "bo", yid,
			     NULL, NULL);
		ASSERT_NE(NULL, im);
		/* A dynamic importer never pins. */
		EXPECT_EQ(NULL, find(self->run.ev, self->run.n, "dgmm_dmabuf_pin", 0, "dev",
				     adev, "importer", self->run.dev));
	}

	if (vgem >= 0) {
		/* A static importer: pinned in GTT while it holds the BO. */
		pin = find(self->run.ev, self->run.n, "dgmm_dmabuf_pin", im->line, "dev", adev,
			   "importer", "vgem");
		ASSERT_NE(NULL, pin);
		EXPECT_TRUE(field_is(pin, "bo", xid));
		EXPECT_TRUE(field_is(pin, "p2p", "0"));
		EXPECT_TRUE(field_is(pin, "in", "gtt"));
		e = find(self->run.ev, self->run.n, "dgmm_dmabuf_map", pin->line, "dev", adev,
			 "importer", "vgem");
		ASSERT_NE(NULL, e);
		e = find(self->run.ev, self->run.n, "dgmm_dmabuf_unpin", e->line, "dev", adev,
			 "importer", "vgem");
		ASSERT_NE(NULL, e);
		EXPECT_TRUE(field_is(e, "pin_count", dynamic ? "0" : "1"));
		e = find(self->run.ev, self->run.n, "dgmm_dmabuf_detach", e->line, "dev", adev,
			 "importer", "vgem");
		ASSERT_NE(NULL, e);
	}

	/* The importer's BO goes: the exporter's detach. */
	e = find(self->run.ev, self->run.n, "dgmm_dmabuf_detach", im->line, "dev", adev,
		 "importer", self->run.dev);
	ASSERT_NE(NULL, e);
	EXPECT_TRUE(field_is(e, "bo", xid));
}

TEST_HARNESS_MAIN
