/*
 * The 82540EM through VFIO (Linux's Documentation/driver-api/vfio.rst), for a
 * device bound to vfio-pci: a type-1 IOMMU container holding the device's
 * IOMMU group, the device's config space and BAR 0 as regions of its file,
 * and DMA memory mapped into the IOMMU at a bus address of our choosing (so
 * no /proc/self/pagemap, and no root needed beyond owning the group).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "e1000l_private.h"

int vfio_bound(const char *addr)
{
	char path[128], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/driver", addr);
	n = readlink(path, target, sizeof target - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	return strcmp(strrchr(target, '/') ? strrchr(target, '/') + 1 : target, "vfio-pci") == 0;
}

/* The IOMMU group's number, from the device's iommu_group link. */
static int iommu_group(const char *addr)
{
	char path[128], target[PATH_MAX];
	ssize_t n;
	char *slash;

	snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/iommu_group", addr);
	n = readlink(path, target, sizeof target - 1);
	if (n < 0)
		e1000l_die("cannot read %s: %s", path, strerror(errno));
	target[n] = '\0';
	slash = strrchr(target, '/');
	return atoi(slash ? slash + 1 : target);
}

static struct vfio_region_info region(struct vfio_dev *v, const char *addr, unsigned index)
{
	struct vfio_region_info info = { .argsz = sizeof info, .index = index };

	if (ioctl(v->device, VFIO_DEVICE_GET_REGION_INFO, &info) < 0)
		e1000l_die("%s: VFIO_DEVICE_GET_REGION_INFO %u: %s", addr, index, strerror(errno));
	return info;
}

volatile uint8_t *vfio_open_device(const char *addr, struct vfio_dev *v, size_t bar0_size)
{
	struct vfio_group_status status = { .argsz = sizeof status };
	struct vfio_region_info config, bar0;
	char path[64];
	uint16_t cmd;
	void *p;

	v->container = open("/dev/vfio/vfio", O_RDWR);
	if (v->container < 0)
		e1000l_die("cannot open /dev/vfio/vfio (modprobe vfio-pci?): %s", strerror(errno));
	if (ioctl(v->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    !ioctl(v->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU))
		e1000l_die("/dev/vfio/vfio: no type-1 IOMMU support (modprobe vfio_iommu_type1?)");
	snprintf(path, sizeof path, "/dev/vfio/%d", iommu_group(addr));
	v->group = open(path, O_RDWR);
	if (v->group < 0)
		e1000l_die("cannot open %s: %s", path, strerror(errno));
	if (ioctl(v->group, VFIO_GROUP_GET_STATUS, &status) < 0 || !(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		e1000l_die("%s is not viable: bind every device of its IOMMU group to vfio-pci", path);
	if (ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container) < 0)
		e1000l_die("%s: VFIO_GROUP_SET_CONTAINER: %s", path, strerror(errno));
	if (ioctl(v->container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) < 0)
		e1000l_die("VFIO_SET_IOMMU: %s", strerror(errno));
	v->device = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, addr);
	if (v->device < 0)
		e1000l_die("%s: VFIO_GROUP_GET_DEVICE_FD: %s", addr, strerror(errno));

	/* bus mastering: the command register (offset 4) of the config region */
	config = region(v, addr, VFIO_PCI_CONFIG_REGION_INDEX);
	if (pread(v->device, &cmd, sizeof cmd, config.offset + 4) != sizeof cmd)
		e1000l_die("%s: cannot read the command register: %s", addr, strerror(errno));
	cmd |= (1u << 1) | (1u << 2);
	if (pwrite(v->device, &cmd, sizeof cmd, config.offset + 4) != sizeof cmd)
		e1000l_die("%s: cannot enable bus mastering: %s", addr, strerror(errno));

	bar0 = region(v, addr, VFIO_PCI_BAR0_REGION_INDEX);
	if (bar0.size < bar0_size || !(bar0.flags & VFIO_REGION_INFO_FLAG_MMAP))
		e1000l_die("%s: BAR 0 is %llu bytes%s", addr, (unsigned long long)bar0.size,
			   bar0.flags & VFIO_REGION_INFO_FLAG_MMAP ? "" : ", not mappable");
	p = mmap(NULL, bar0_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->device, bar0.offset);
	if (p == MAP_FAILED)
		e1000l_die("%s: cannot map BAR 0: %s", addr, strerror(errno));
	return p;
}

/* Low enough for any IOMMU's address width (QEMU's intel-iommu: 39 bits; a virtual address needs 47). */
#define DMA_IOVA 0x10000000ull

uint64_t vfio_map_dma(struct vfio_dev *v, void *virt, size_t size)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof map,
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)virt,
		.iova = DMA_IOVA,
		.size = size,
	};

	if (ioctl(v->container, VFIO_IOMMU_MAP_DMA, &map) < 0)
		e1000l_die("VFIO_IOMMU_MAP_DMA of %zu bytes: %s", size, strerror(errno));
	return map.iova;
}

void vfio_close_device(struct vfio_dev *v)
{
	close(v->device);
	close(v->group);
	close(v->container);
}
