// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * dgmm test driver: binds QEMU ivshmem-plain functions (1af4:1110) and treats
 * each as a discrete device whose BAR2 is its VRAM.
 *
 * This is the only part of dgmm that knows about PCI and ioctls. For each
 * device it maps the BAR write-combined, sets up a dgmm_mm (TTM device with
 * VRAM and GTT managers) and registers a DRM device with a render node.
 */

#include <linux/io.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <kunit/visibility.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_ttm_helper.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>

#include <uapi/drm/dgmm_drm.h>

#include "dmabuf/dgmm_dmabuf.h"
#include "dgmm_drv.h"

static unsigned int gtt_size_mb = 256;
module_param(gtt_size_mb, uint, 0444);
MODULE_PARM_DESC(gtt_size_mb,
		 "Most system memory a device may map as GTT, in MiB (default 256, capped at RAM size)");

static unsigned int vram_visible_mb;
module_param(vram_visible_mb, uint, 0444);
MODULE_PARM_DESC(vram_visible_mb,
		 "CPU-visible part of each device's VRAM, in MiB, from its start (default 0: all of it)");

/* Probed devices, for dgmm_device_get() (KUnit). */
static LIST_HEAD(dgmm_devices);
static DEFINE_MUTEX(dgmm_devices_lock);

static const struct drm_ioctl_desc dgmm_ioctls[] = {
	DRM_IOCTL_DEF_DRV(DGMM_DEVICE_QUERY, dgmm_device_query_ioctl, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(DGMM_GEM_CREATE, dgmm_gem_create_ioctl, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(DGMM_GEM_MMAP_OFFSET, dgmm_gem_mmap_offset_ioctl, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(DGMM_GEM_INFO, dgmm_gem_info_ioctl, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(DGMM_GEM_WAIT, dgmm_gem_wait_ioctl, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(DGMM_GEM_MIGRATE, dgmm_gem_migrate_ioctl, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(DGMM_SUBMIT, dgmm_submit_ioctl, DRM_RENDER_ALLOW),
};

/* DEFINE_DRM_GEM_FOPS() and /proc/<pid>/fdinfo (dgmm_show_fdinfo()). */
static const struct file_operations dgmm_fops = {
	.owner = THIS_MODULE,
	DRM_GEM_FOPS,
	.show_fdinfo = drm_show_fdinfo,
};

static void dgmm_debugfs_init(struct drm_minor *minor)
{
	struct dgmm_device *ddev = to_dgmm_device(minor->dev);

	dgmm_mm_debugfs_init(&ddev->mm, minor->debugfs_root);
	dgmm_engine_debugfs_init(&ddev->engine, minor->debugfs_root);
}

/*
 * Inside drm_dev_enter(): drm_ioctl() checks for unplug only as the ioctl
 * starts, and an import that attached after dgmm_mm_unplug() had passed
 * would keep its attachment, and the exporter's mapping for this device,
 * until its file closes. drm_dev_unplug() waits for the import instead.
 */
static struct drm_gem_object *dgmm_gem_prime_import(struct drm_device *drm,
						    struct dma_buf *dmabuf)
{
	struct drm_gem_object *obj;
	int idx;

	if (!drm_dev_enter(drm, &idx))
		return ERR_PTR(-ENODEV);
	obj = dgmm_dmabuf_import(&to_dgmm_device(drm)->mm, dmabuf);
	drm_dev_exit(idx);
	return obj;
}

static const struct drm_driver dgmm_drm_driver = {
	.driver_features = DRIVER_GEM | DRIVER_RENDER | DRIVER_SYNCOBJ |
			   DRIVER_SYNCOBJ_TIMELINE,
	.open = dgmm_file_open,
	.postclose = dgmm_file_postclose,
	.ioctls = dgmm_ioctls,
	.num_ioctls = ARRAY_SIZE(dgmm_ioctls),
	.fops = &dgmm_fops,
	.gem_prime_import = dgmm_gem_prime_import,
	.dumb_create = dgmm_dumb_create,
	.dumb_map_offset = drm_gem_ttm_dumb_map_offset,
	.debugfs_init = dgmm_debugfs_init,
	.show_fdinfo = dgmm_show_fdinfo,
	.name = DGMM_DRIVER_NAME,
	.desc = "TTM memory manager for a simulated discrete device",
	.major = 0,
	.minor = 1,
};

static void dgmm_mm_release(struct drm_device *drm, void *arg)
{
	/* Jobs of closed files hold BOs: they go before the memory manager. */
	dgmm_engine_drain(&to_dgmm_device(drm)->engine);
	dgmm_mm_fini(arg);
}

static void dgmm_engine_release(struct drm_device *drm, void *arg)
{
	dgmm_engine_fini(arg);
}

static u64 dgmm_gtt_size(void)
{
	u64 ram = (u64)totalram_pages() << PAGE_SHIFT;
	u64 size = (u64)gtt_size_mb << 20;

	return min(size, ram);
}

static int dgmm_map_vram(struct dgmm_device *ddev, struct pci_dev *pdev)
{
	struct device *dev = &pdev->dev;
	int err;

	if (!(pci_resource_flags(pdev, DGMM_VRAM_BAR) & IORESOURCE_MEM) ||
	    pci_resource_len(pdev, DGMM_VRAM_BAR) < PAGE_SIZE) {
		drm_err(&ddev->drm, "BAR%d is not a memory BAR\n", DGMM_VRAM_BAR);
		return -ENODEV;
	}
	ddev->vram_bar_start = pci_resource_start(pdev, DGMM_VRAM_BAR);
	ddev->vram_bar_size = pci_resource_len(pdev, DGMM_VRAM_BAR);

	err = pcim_request_region(pdev, DGMM_VRAM_BAR, DGMM_DRIVER_NAME);
	if (err)
		return err;

	/* As real drivers map their VRAM BAR: write-combined, PAT and MTRR. */
	devm_arch_io_reserve_memtype_wc(dev, ddev->vram_bar_start, ddev->vram_bar_size);
	devm_arch_phys_wc_add(dev, ddev->vram_bar_start, ddev->vram_bar_size);
	ddev->vram = devm_ioremap_wc(dev, ddev->vram_bar_start, ddev->vram_bar_size);
	if (!ddev->vram)
		return -ENOMEM;
	return 0;
}

static int dgmm_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct dgmm_mm_config cfg;
	struct dgmm_device *ddev;
	int err;

	ddev = devm_drm_dev_alloc(&pdev->dev, &dgmm_drm_driver,
				  struct dgmm_device, drm);
	if (IS_ERR(ddev))
		return PTR_ERR(ddev);
	INIT_LIST_HEAD(&ddev->link);

	err = pcim_enable_device(pdev);
	if (err)
		return err;
	pci_set_master(pdev);

	err = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (err)
		return err;
	/*
	 * The engine takes a DMA segment of any length (as GPUs do): exporters
	 * such as the system dma-heap map in segments of up to a MiB, and DMA
	 * debugging holds them to the 64 KiB a PCI device claims by default.
	 */
	dma_set_max_seg_size(&pdev->dev, UINT_MAX);

	err = dgmm_map_vram(ddev, pdev);
	if (err)
		return err;

	/* drmm actions run in reverse: the mm goes before the engine it uses. */
	err = dgmm_engine_init(&ddev->engine, &pdev->dev, ddev->vram_bar_start,
			       ddev->vram, ddev->vram_bar_size);
	if (err)
		return err;
	err = drmm_add_action_or_reset(&ddev->drm, dgmm_engine_release, &ddev->engine);
	if (err)
		return err;

	cfg = (struct dgmm_mm_config) {
		.drm = &ddev->drm,
		.engine = &ddev->engine.base,
		.vram_io_start = ddev->vram_bar_start,
		.vram = ddev->vram,
		.vram_size = ddev->vram_bar_size,
		.vram_visible_size = vram_visible_mb ?
			min_t(u64, (u64)vram_visible_mb << 20, ddev->vram_bar_size) :
			ddev->vram_bar_size,
		.gtt_size = dgmm_gtt_size(),
	};
	err = dgmm_mm_init(&ddev->mm, &cfg);
	if (err)
		return err;
	err = drmm_add_action_or_reset(&ddev->drm, dgmm_mm_release, &ddev->mm);
	if (err)
		return err;

	pci_set_drvdata(pdev, ddev);
	err = drm_dev_register(&ddev->drm, 0);
	if (err)
		return err;

	mutex_lock(&dgmm_devices_lock);
	list_add_tail(&ddev->link, &dgmm_devices);
	mutex_unlock(&dgmm_devices_lock);

	drm_info(&ddev->drm, "VRAM BAR%d %pa, %llu MiB, CPU-visible %llu MiB; GTT %llu MiB\n",
		 DGMM_VRAM_BAR, &ddev->vram_bar_start, (u64)ddev->vram_bar_size >> 20,
		 cfg.vram_visible_size >> 20, cfg.gtt_size >> 20);
	return 0;
}

static void dgmm_pci_remove(struct pci_dev *pdev)
{
	struct dgmm_device *ddev = pci_get_drvdata(pdev);

	mutex_lock(&dgmm_devices_lock);
	list_del_init(&ddev->link);
	mutex_unlock(&dgmm_devices_lock);

	/*
	 * Open files keep the drm_device, and with it the mm, until last
	 * close. From here on their ioctls fail with -ENODEV, their mappings
	 * fault in a dummy page, and the engine no longer touches VRAM,
	 * whose mapping goes when this returns. Its jobs end (failed), and
	 * then no page stays DMA-mapped for a device that is gone.
	 */
	drm_dev_unplug(&ddev->drm);
	unmap_mapping_range(ddev->drm.anon_inode->i_mapping, 0, 0, 1);
	dgmm_engine_drain(&ddev->engine);
	dgmm_mm_unplug(&ddev->mm);
}

#if IS_ENABLED(CONFIG_KUNIT)
/**
 * dgmm_device_get - take a reference on the index-th probed device
 * @index: 0 for the first device bound, 1 for the second, ...
 *
 * Return: the device, or NULL if fewer devices are bound. Release it with
 * dgmm_device_put().
 */
struct dgmm_device *dgmm_device_get(unsigned int index)
{
	struct dgmm_device *ddev, *found = NULL;

	mutex_lock(&dgmm_devices_lock);
	list_for_each_entry(ddev, &dgmm_devices, link) {
		if (index-- == 0) {
			drm_dev_get(&ddev->drm);
			found = ddev;
			break;
		}
	}
	mutex_unlock(&dgmm_devices_lock);
	return found;
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_device_get);

/**
 * dgmm_device_put - drop a reference taken by dgmm_device_get()
 * @ddev: the device
 */
void dgmm_device_put(struct dgmm_device *ddev)
{
	drm_dev_put(&ddev->drm);
}
EXPORT_SYMBOL_IF_KUNIT(dgmm_device_put);
#endif

static const struct pci_device_id dgmm_pci_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_REDHAT_QUMRANET, 0x1110) },	/* ivshmem */
	{ }
};
MODULE_DEVICE_TABLE(pci, dgmm_pci_ids);

static struct pci_driver dgmm_pci_driver = {
	.name = DGMM_DRIVER_NAME,
	.id_table = dgmm_pci_ids,
	.probe = dgmm_pci_probe,
	.remove = dgmm_pci_remove,
};

static int __init dgmm_init(void)
{
	int err;

	dgmm_engine_fault_injection_init();
	err = pci_register_driver(&dgmm_pci_driver);
	if (err)
		dgmm_engine_fault_injection_fini();
	return err;
}
module_init(dgmm_init);

static void __exit dgmm_exit(void)
{
	pci_unregister_driver(&dgmm_pci_driver);
	dgmm_engine_wait_homes();
	dgmm_engine_fault_injection_fini();
}
module_exit(dgmm_exit);

MODULE_DESCRIPTION("dgmm: TTM memory manager for a simulated discrete device");
MODULE_LICENSE("Dual MIT/GPL");
