/* What the driver's files share and its users do not see. */
#ifndef E1000L_PRIVATE_H
#define E1000L_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

/* A fatal setup error: the message on stderr, then exit(1). */
void e1000l_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* A device reached through VFIO (vfio.c): its container, group and device files. */
struct vfio_dev {
	int container, group, device;
};

/* Whether the device at `addr` is bound to vfio-pci (then it is driven through VFIO, not sysfs). */
int vfio_bound(const char *addr);

/* Opens the device through its IOMMU group, turns on bus mastering, maps `bar0_size` bytes of BAR 0. */
volatile uint8_t *vfio_open_device(const char *addr, struct vfio_dev *v, size_t bar0_size);

/* Maps `size` bytes at `virt` into the IOMMU for the device's DMA; returns their bus address. */
uint64_t vfio_map_dma(struct vfio_dev *v, void *virt, size_t size);

/* Closes the device, group and container (the IOMMU mappings go with the container). */
void vfio_close_device(struct vfio_dev *v);

#endif
