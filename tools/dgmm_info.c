// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * dgmm-info: list the dgmm devices and their memory regions.
 *
 * For each render node bound to dgmm: the PCI device, its VRAM BAR (from
 * sysfs) and, from DRM_IOCTL_DGMM_DEVICE_QUERY, the size, CPU-visible size and
 * use of each region. Exits 1 if no device is found or a query fails.
 */

#include <libgen.h>
#include <limits.h>

#include "../selftests/uapi/dgmm_util.h"

static void print_bar(int minor)
{
	unsigned long long start = 0, end = 0, flags = 0;
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t len;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/drm/renderD%d/device", minor);
	len = readlink(path, link, sizeof(link) - 1);
	link[len > 0 ? len : 0] = '\0';

	snprintf(path, sizeof(path), "/sys/class/drm/renderD%d/device/resource", minor);
	f = fopen(path, "r");
	for (int i = 0; f && i <= 2; i++) {
		if (fscanf(f, "%llx %llx %llx", &start, &end, &flags) != 3) {
			start = 0;
			end = 0;
		}
	}
	if (f)
		fclose(f);

	printf("renderD%d: PCI %s\n", minor, len > 0 ? basename(link) : "?");
	if (end)
		printf("  VRAM BAR2: 0x%llx-0x%llx (%llu MiB)\n", start, end,
		       (end - start + 1) >> 20);
}

int main(void)
{
	int fds[DGMM_MAX_DEVICES], minors[DGMM_MAX_DEVICES];
	int n, ret = 0;

	n = dgmm_open_devices(fds, minors, DGMM_MAX_DEVICES);
	if (!n) {
		fprintf(stderr, "dgmm-info: no dgmm render node found\n");
		return 1;
	}
	printf("%d dgmm device%s\n", n, n == 1 ? "" : "s");

	for (int i = 0; i < n; i++) {
		struct drm_dgmm_query_regions *r = dgmm_query_regions(fds[i]);

		print_bar(minors[i]);
		if (!r) {
			fprintf(stderr, "  region query failed: %s\n", strerror(errno));
			ret = 1;
			continue;
		}
		for (__u32 j = 0; j < r->num_regions; j++) {
			const struct drm_dgmm_region_info *info = &r->regions[j];

			printf("  %-6s size %6llu MiB  visible %6llu MiB  used %llu KiB\n",
			       dgmm_region_name(info->region),
			       (unsigned long long)info->size >> 20,
			       (unsigned long long)info->cpu_visible_size >> 20,
			       (unsigned long long)info->used >> 10);
		}
		free(r);
		close(fds[i]);
	}
	return ret;
}
