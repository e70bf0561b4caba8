// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * A dgmm BO scanned out by vkms: device 0 exports it, vkms imports it
 * (a static importer: dgmm pins the BO where vkms reaches it, in GTT) and
 * shows it as the primary plane of an atomic modeset, and vkms's writeback
 * connector hands back what it composed, which must be the BO's pixels.
 * While vkms holds the BO it stays pinned in GTT and cannot be moved; once
 * vkms lets go it moves again, with its contents.
 */
#include <poll.h>
#include <drm/drm_fourcc.h>
#include <drm/drm_mode.h>

#include "kselftest_harness.h"
#include "dgmm_util.h"

/* The "type" property's values (enum drm_plane_type, not in the uAPI). */
#define PLANE_TYPE_PRIMARY 1

#define V DRM_DGMM_DOMAIN_VRAM
#define G DRM_DGMM_DOMAIN_GTT

/* The pixel of the pattern at index @i (XRGB8888: X is not compared). */
static __u32 pixel(size_t i)
{
	return dgmm_pattern(0x7b5, i) & 0xffffff;
}

/* The id of the property @name of KMS object @id, or 0. */
static __u32 prop_id(int fd, __u32 id, __u32 type, const char *name)
{
	struct drm_mode_obj_get_properties op = { .obj_id = id, .obj_type = type };
	__u32 ids[64], found = 0;
	__u64 values[64];

	if (ioctl(fd, DRM_IOCTL_MODE_OBJ_GETPROPERTIES, &op) || op.count_props > 64)
		return 0;
	op.props_ptr = (__u64)(uintptr_t)ids;
	op.prop_values_ptr = (__u64)(uintptr_t)values;
	if (ioctl(fd, DRM_IOCTL_MODE_OBJ_GETPROPERTIES, &op))
		return 0;
	for (__u32 i = 0; i < op.count_props && !found; i++) {
		struct drm_mode_get_property p = { .prop_id = ids[i] };

		if (!ioctl(fd, DRM_IOCTL_MODE_GETPROPERTY, &p) && !strcmp(p.name, name))
			found = ids[i];
	}
	return found;
}

/* The value of property @name of KMS object @id (0 if it has none). */
static __u64 prop_value(int fd, __u32 id, __u32 type, const char *name)
{
	struct drm_mode_obj_get_properties op = { .obj_id = id, .obj_type = type };
	__u32 want = prop_id(fd, id, type, name), ids[64];
	__u64 values[64];

	if (!want || ioctl(fd, DRM_IOCTL_MODE_OBJ_GETPROPERTIES, &op) || op.count_props > 64)
		return 0;
	op.props_ptr = (__u64)(uintptr_t)ids;
	op.prop_values_ptr = (__u64)(uintptr_t)values;
	if (ioctl(fd, DRM_IOCTL_MODE_OBJ_GETPROPERTIES, &op))
		return 0;
	for (__u32 i = 0; i < op.count_props; i++)
		if (ids[i] == want)
			return values[i];
	return 0;
}

/*
 * What the modeset needs of vkms's one pipeline. The CRTC drives only the
 * writeback connector: vkms's encoders cannot be clones, so the virtual
 * connector only lends its mode.
 */
struct pipe {
	__u32 crtc, conn, wb_conn, plane;
	struct drm_mode_modeinfo mode;
};

static int find_pipe(int fd, struct pipe *p)
{
	__u32 crtcs[8], conns[8], planes[16];
	struct drm_mode_card_res res = {
		.crtc_id_ptr = (__u64)(uintptr_t)crtcs, .count_crtcs = 8,
		.connector_id_ptr = (__u64)(uintptr_t)conns, .count_connectors = 8,
	};
	struct drm_mode_get_plane_res pres = {
		.plane_id_ptr = (__u64)(uintptr_t)planes, .count_planes = 16,
	};

	memset(p, 0, sizeof(*p));
	if (ioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) || !res.count_crtcs ||
	    res.count_crtcs > 8 || res.count_connectors > 8)
		return -1;
	p->crtc = crtcs[0];
	for (__u32 i = 0; i < res.count_connectors; i++) {
		struct drm_mode_modeinfo modes[64];
		struct drm_mode_get_connector c = { .connector_id = conns[i] };

		if (ioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &c))
			return -1;
		if (c.connector_type == DRM_MODE_CONNECTOR_WRITEBACK) {
			p->wb_conn = conns[i];
		} else if (c.count_modes && c.count_modes <= 64) {
			c.modes_ptr = (__u64)(uintptr_t)modes;
			c.count_props = 0;
			c.count_encoders = 0;
			if (ioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &c) || !c.count_modes)
				return -1;
			p->conn = conns[i];
			p->mode = modes[0];
			for (__u32 m = 0; m < c.count_modes; m++)
				if (modes[m].type & DRM_MODE_TYPE_PREFERRED)
					p->mode = modes[m];
		}
	}
	if (ioctl(fd, DRM_IOCTL_MODE_GETPLANERESOURCES, &pres) || pres.count_planes > 16)
		return -1;
	for (__u32 i = 0; i < pres.count_planes && !p->plane; i++)
		if (prop_value(fd, planes[i], DRM_MODE_OBJECT_PLANE, "type") ==
		    PLANE_TYPE_PRIMARY)
			p->plane = planes[i];
	return p->conn && p->plane ? 0 : -1;
}

/* An atomic request under construction. */
struct req {
	__u32 objs[8], counts[8], props[32];
	__u64 values[32];
	__u32 n_objs, n_props;
};

static void add(struct req *r, int fd, __u32 obj, __u32 type, const char *name, __u64 value)
{
	if (!r->n_objs || r->objs[r->n_objs - 1] != obj) {
		r->objs[r->n_objs] = obj;
		r->counts[r->n_objs++] = 0;
	}
	r->props[r->n_props] = prop_id(fd, obj, type, name);
	r->values[r->n_props++] = value;
	r->counts[r->n_objs - 1]++;
}

static int commit(int fd, struct req *r)
{
	struct drm_mode_atomic a = {
		.flags = DRM_MODE_ATOMIC_ALLOW_MODESET,
		.count_objs = r->n_objs,
		.objs_ptr = (__u64)(uintptr_t)r->objs,
		.count_props_ptr = (__u64)(uintptr_t)r->counts,
		.props_ptr = (__u64)(uintptr_t)r->props,
		.prop_values_ptr = (__u64)(uintptr_t)r->values,
	};

	for (__u32 i = 0; i < r->n_props; i++)
		if (!r->props[i])
			return -ENOENT;
	return ioctl(fd, DRM_IOCTL_MODE_ATOMIC, &a) ? -errno : 0;
}

static int add_fb(int fd, __u32 handle, __u32 w, __u32 h, __u32 pitch, __u32 *fb)
{
	struct drm_mode_fb_cmd2 f = {
		.width = w, .height = h, .pixel_format = DRM_FORMAT_XRGB8888,
		.handles = { handle }, .pitches = { pitch },
	};

	if (ioctl(fd, DRM_IOCTL_MODE_ADDFB2, &f))
		return -errno;
	*fb = f.fb_id;
	return 0;
}

static __u32 gem_info_field(int fd, __u32 handle, int pins)
{
	struct drm_dgmm_gem_info info;

	if (dgmm_gem_info(fd, handle, &info))
		return ~0u;
	return pins ? info.pin_count : info.domain;
}

FIXTURE(vkms) {
	int dgmm, kms;
	struct pipe pipe;
};

FIXTURE_SETUP(vkms)
{
	struct drm_set_client_cap caps[] = {
		{ DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1 }, { DRM_CLIENT_CAP_ATOMIC, 1 },
		{ DRM_CLIENT_CAP_WRITEBACK_CONNECTORS, 1 },
	};
	int fds[DGMM_MAX_DEVICES], n;

	self->dgmm = -1;
	self->kms = dgmm_open_card("vkms");
	if (self->kms < 0)
		SKIP(return, "no vkms card (vkms not loaded, or Debian's kernel)");
	n = dgmm_open_devices(fds, NULL, DGMM_MAX_DEVICES);
	if (n <= 0)
		SKIP(return, "no dgmm render node");
	for (int i = 1; i < n; i++)
		close(fds[i]);
	self->dgmm = fds[0];
	for (unsigned int i = 0; i < ARRAY_SIZE(caps); i++)
		ASSERT_EQ(0, ioctl(self->kms, DRM_IOCTL_SET_CLIENT_CAP, &caps[i]));
	ASSERT_EQ(0, find_pipe(self->kms, &self->pipe));
	if (!self->pipe.wb_conn)
		SKIP(return, "vkms has no writeback connector (enable_writeback=0)");
}

FIXTURE_TEARDOWN(vkms)
{
	if (self->dgmm >= 0)
		close(self->dgmm);
	if (self->kms >= 0)
		close(self->kms);
}

TEST_F(vkms, scans_out_a_dgmm_bo)
{
	const struct pipe *p = &self->pipe;
	__u32 w = p->mode.hdisplay, h = p->mode.vdisplay, pitch = w * 4;
	size_t size = ((size_t)pitch * h + 4095) & ~(size_t)4095, bad = 0;
	struct drm_mode_create_dumb dumb = { .width = w, .height = h, .bpp = 32 };
	struct drm_mode_map_dumb map_dumb = { 0 };
	struct drm_mode_create_blob blob = {
		.data = (__u64)(uintptr_t)&p->mode, .length = sizeof(p->mode),
	};
	struct drm_prime_handle prime = { .flags = DRM_CLOEXEC | DRM_RDWR };
	struct drm_gem_close close_handle = { 0 };
	__u32 bo = 0, fb = 0, wb_fb = 0, *pix, *out;
	struct req on = { 0 }, off = { 0 };
	struct pollfd pfd;
	int out_fence = -1;

	ASSERT_EQ(0, dgmm_gem_create(self->dgmm, size, V, V | G, DRM_DGMM_GEM_CPU_ACCESS, &bo));
	pix = dgmm_gem_mmap(self->dgmm, bo, size);
	ASSERT_NE(MAP_FAILED, pix);
	for (size_t i = 0; i < (size_t)w * h; i++)
		pix[i] = pixel(i) | 0xff000000u;
	munmap(pix, size);
	EXPECT_EQ(V, gem_info_field(self->dgmm, bo, 0));

	/* vkms imports it (and dgmm pins it where vkms reaches it). */
	prime.handle = bo;
	ASSERT_EQ(0, dgmm_ioctl(self->dgmm, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime));
	ASSERT_EQ(0, dgmm_ioctl(self->kms, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime));
	close(prime.fd);
	ASSERT_EQ(0, add_fb(self->kms, prime.handle, w, h, pitch, &fb));
	EXPECT_EQ(G, gem_info_field(self->dgmm, bo, 0));
	EXPECT_GE(gem_info_field(self->dgmm, bo, 1), 1);

	ASSERT_EQ(0, ioctl(self->kms, DRM_IOCTL_MODE_CREATE_DUMB, &dumb));
	ASSERT_EQ(0, add_fb(self->kms, dumb.handle, w, h, dumb.pitch, &wb_fb));
	ASSERT_EQ(0, ioctl(self->kms, DRM_IOCTL_MODE_CREATEPROPBLOB, &blob));

	add(&on, self->kms, p->crtc, DRM_MODE_OBJECT_CRTC, "MODE_ID", blob.blob_id);
	add(&on, self->kms, p->crtc, DRM_MODE_OBJECT_CRTC, "ACTIVE", 1);
	add(&on, self->kms, p->plane, DRM_MODE_OBJECT_PLANE, "FB_ID", fb);
	add(&on, self->kms, p->plane, DRM_MODE_OBJECT_PLANE, "CRTC_ID", p->crtc);
	add(&on, self->kms, p->plane, DRM_MODE_OBJECT_PLANE, "SRC_X", 0);
	add(&on, self->kms, p->plane, DRM_MODE_OBJECT_PLANE, "SRC_Y", 0);
	add(&on, self->kms, p->plane, DRM_MODE_OBJECT_PLANE, "SRC_W", (__u64)w << 16);
	add(&on, self->kms, p->plane, DRM_MODE_OBJECT_PLANE, "SRC_H", (__u64)h << 16);
	add(&on, self->kms, p->plane, DRM_MODE_OBJECT_PLANE, "CRTC_X", 0);
	add(&on, self->kms, p->plane, DRM_MODE_OBJECT_PLANE, "CRTC_Y", 0);
	add(&on, self->kms, p->plane, DRM_MODE_OBJECT_PLANE, "CRTC_W", w);
	add(&on, self->kms, p->plane, DRM_MODE_OBJECT_PLANE, "CRTC_H", h);
	add(&on, self->kms, p->wb_conn, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID", p->crtc);
	add(&on, self->kms, p->wb_conn, DRM_MODE_OBJECT_CONNECTOR, "WRITEBACK_FB_ID", wb_fb);
	add(&on, self->kms, p->wb_conn, DRM_MODE_OBJECT_CONNECTOR, "WRITEBACK_OUT_FENCE_PTR",
	    (__u64)(uintptr_t)&out_fence);
	ASSERT_EQ(0, commit(self->kms, &on));

	/* What vkms composed from the dgmm BO, written back. */
	ASSERT_GE(out_fence, 0);
	pfd = (struct pollfd){ .fd = out_fence, .events = POLLIN };
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	close(out_fence);
	map_dumb.handle = dumb.handle;
	ASSERT_EQ(0, ioctl(self->kms, DRM_IOCTL_MODE_MAP_DUMB, &map_dumb));
	out = mmap(NULL, dumb.size, PROT_READ, MAP_SHARED, self->kms, map_dumb.offset);
	ASSERT_NE(MAP_FAILED, out);
	for (bad = 0; bad < (size_t)w * h; bad++)
		if ((out[(bad / w) * (dumb.pitch / 4) + bad % w] & 0xffffff) != pixel(bad))
			break;
	EXPECT_EQ((size_t)w * h, bad) {
		TH_LOG("pixel %zu of %ux%u differs from the BO's", bad, w, h);
	}
	munmap(out, dumb.size);

	/* Pinned in GTT while vkms holds it: it cannot move. */
	EXPECT_EQ(G, gem_info_field(self->dgmm, bo, 0));
	EXPECT_GE(gem_info_field(self->dgmm, bo, 1), 1);
	EXPECT_EQ(-EBUSY, dgmm_gem_migrate(self->dgmm, bo, V));

	/* vkms lets go: off, its framebuffer and its handle gone. */
	add(&off, self->kms, p->plane, DRM_MODE_OBJECT_PLANE, "FB_ID", 0);
	add(&off, self->kms, p->plane, DRM_MODE_OBJECT_PLANE, "CRTC_ID", 0);
	add(&off, self->kms, p->wb_conn, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID", 0);
	add(&off, self->kms, p->crtc, DRM_MODE_OBJECT_CRTC, "ACTIVE", 0);
	add(&off, self->kms, p->crtc, DRM_MODE_OBJECT_CRTC, "MODE_ID", 0);
	EXPECT_EQ(0, commit(self->kms, &off));
	EXPECT_EQ(0, ioctl(self->kms, DRM_IOCTL_MODE_RMFB, &fb));
	EXPECT_EQ(0, ioctl(self->kms, DRM_IOCTL_MODE_RMFB, &wb_fb));
	close_handle.handle = prime.handle;
	EXPECT_EQ(0, ioctl(self->kms, DRM_IOCTL_GEM_CLOSE, &close_handle));

	/* Evictable again, with its pixels. */
	EXPECT_EQ(0, gem_info_field(self->dgmm, bo, 1));
	EXPECT_EQ(0, dgmm_gem_migrate(self->dgmm, bo, V));
	EXPECT_EQ(V, gem_info_field(self->dgmm, bo, 0));
	pix = dgmm_gem_mmap(self->dgmm, bo, size);
	ASSERT_NE(MAP_FAILED, pix);
	for (bad = 0; bad < (size_t)w * h; bad++)
		if ((pix[bad] & 0xffffff) != pixel(bad))
			break;
	EXPECT_EQ((size_t)w * h, bad);
	munmap(pix, size);
	dgmm_gem_close(self->dgmm, bo);
}

TEST_HARNESS_MAIN
