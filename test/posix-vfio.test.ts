// VFIO inside the POSIX personality (docs/drivers.md, "The view"): a driver
// written as VFIO userspace drivers are (ixy's vfio path and its kin) opens
// the container and its device's group, gets the device's descriptor, reads
// its regions, maps BAR0, maps its hugepage memory for DMA at iova = vaddr and
// has the device DMA there, and waits for the device's interrupt on an
// eventfd through epoll. Maps of anything but its DMA memory are refused;
// another device's group is not in its view; a fault releases it all. In
// every isolation mode of the default project.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kernel, type DeviceInfo, type Driver, type Isolation } from '../lib/index.js';
import { irqAcks } from '../lib/testing.js';
import { buildDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { faultOf } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-posix-vfio-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Library-style; <nooks/kapi.h> only for a work item, to raise the device's
// interrupt from another thread while the driver waits in epoll_wait.
const source = `
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/vfio.h>
#include <nooks/kapi.h>

/* testdev's registers (native/dev/testdev.cc) */
enum { ID = 0x00, SCRATCH = 0x04, DMA_LO = 0x08, DMA_HI = 0x0c, DMA_LEN = 0x10, PATTERN = 0x14, CTRL = 0x18,
       STATUS = 0x1c, IRQ_ACK = 0x24, IRQ_RAISE = 0x28, FILL = 1, DONE = 1 };
#define HUGE (2u << 20)
#define CONFIG_OFFSET ((off_t)VFIO_PCI_CONFIG_REGION_INDEX << 40)

static int container = -1, group = -1, device = -1, efd = -1, ep = -1;
static volatile uint32_t *bar0;
static uint8_t *dma;

static uint32_t reg(int off) { return bar0[off / 4]; }
static void set_reg(int off, uint32_t v) { bar0[off / 4] = v; }

/* As ixy's vfio_init: the group from sysfs, the container, its IOMMU, the device; its descriptor or -(step * 1000 + errno). */
long vfio_open(const char *addr)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[128], link[128];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", addr);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -1000 - errno;
	link[n] = 0;
	container = open("/dev/vfio/vfio", O_RDWR);
	if (container < 0)
		return -2000 - errno;
	if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION || ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) != 1)
		return -3000;
	snprintf(path, sizeof(path), "/dev/vfio/%d", atoi(strrchr(link, '/') + 1));
	group = open(path, O_RDWR);
	if (group < 0)
		return -4000 - errno;
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &status) || !(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		return -5000;
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) != -1 || errno != EINVAL)	/* no group in it yet */
		return -6000;
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container))
		return -7000 - errno;
	if (ioctl(group, VFIO_GROUP_GET_DEVICE_FD, addr) != -1 || errno != EINVAL)	/* no IOMMU yet */
		return -8000;
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU))
		return -9000 - errno;
	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, addr);
	return device < 0 ? -10000 - errno : device;
}

/* Another group (not the driver's device): open's -errno. */
long open_path(const char *path)
{
	int fd = open(path, O_RDWR);

	return fd < 0 ? -errno : fd;
}

/* What the descriptors say of the device and the IOMMU, into out[0..13]. */
long describe(long long *out)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info bar = { .argsz = sizeof(bar), .index = VFIO_PCI_BAR0_REGION_INDEX };
	struct vfio_region_info bar1 = { .argsz = sizeof(bar1), .index = VFIO_PCI_BAR1_REGION_INDEX };
	struct vfio_region_info config = { .argsz = sizeof(config), .index = VFIO_PCI_CONFIG_REGION_INDEX };
	struct vfio_irq_info intx = { .argsz = sizeof(intx), .index = VFIO_PCI_INTX_IRQ_INDEX };
	struct vfio_irq_info msix = { .argsz = sizeof(msix), .index = VFIO_PCI_MSIX_IRQ_INDEX };
	struct vfio_irq_info err = { .argsz = sizeof(err), .index = VFIO_PCI_ERR_IRQ_INDEX };
	struct vfio_iommu_type1_info iommu = { .argsz = sizeof(iommu) };

	if (ioctl(device, VFIO_DEVICE_GET_INFO, &info) || ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &bar) ||
	    ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &bar1) || ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &config) ||
	    ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, &intx) || ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, &msix) ||
	    ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, &err) || ioctl(container, VFIO_IOMMU_GET_INFO, &iommu))
		return -errno;
	out[0] = info.flags, out[1] = info.num_regions, out[2] = info.num_irqs;
	out[3] = (long long)bar.size, out[4] = (long long)bar.offset, out[5] = bar.flags;
	out[6] = (long long)bar1.size;
	out[7] = (long long)config.size, out[8] = (long long)config.offset, out[9] = config.flags;
	out[10] = intx.count, out[11] = msix.count, out[12] = err.count;
	out[13] = (long long)iommu.iova_pgsizes;
	return 0;
}

/* A 16-bit register of configuration space through the config region, or -errno. */
long config16(long off)
{
	uint16_t v;

	return pread(device, &v, 2, CONFIG_OFFSET + off) == 2 ? v : -errno;
}

/* BAR0 by mmap of its region; its ID register. */
long map_bar0(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, device, (off_t)VFIO_PCI_BAR0_REGION_INDEX << 40);

	if (p == MAP_FAILED)
		return -errno;
	bar0 = p;
	return reg(ID);
}

long scratch(uint32_t v)
{
	set_reg(SCRATCH, v);
	return reg(SCRATCH);
}

/* The command register written through the config region (bus mastering, memory); it as read back. */
long set_command(long v)
{
	uint16_t cmd = (uint16_t)v;

	return pwrite(device, &cmd, 2, CONFIG_OFFSET + 4) == 2 ? config16(4) : -errno;
}

/* VFIO_DEVICE_RESET; then SCRATCH and the command register, as the device has them. */
long reset_device(void)
{
	if (ioctl(device, VFIO_DEVICE_RESET))
		return -errno;
	return (long)reg(SCRATCH) << 16 | config16(4);
}

static long map(void *vaddr, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m), .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
					      .vaddr = (uintptr_t)vaddr, .iova = iova, .size = size };

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &m) ? -errno : 0;
}

/* Hugepage memory mapped for the device at iova = vaddr, as ixy does; its address. */
long long map_dma(void)
{
	long r;

	dma = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (dma == MAP_FAILED)
		return -errno;
	r = map(dma, (uintptr_t)dma, HUGE);
	return r ? r : (long long)(uintptr_t)dma;
}

/* The same again: -EEXIST. */
long map_again(void)
{
	return map(dma, (uintptr_t)dma, HUGE);
}

/* A malloc'd buffer is no DMA memory: -errno; its address into *at. */
long map_malloc(long long *at)
{
	void *p = aligned_alloc(4096, 8192);

	*at = (long long)(uintptr_t)p;
	return map(p, (uintptr_t)p, 8192);
}

long unmap_dma(void)
{
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .iova = (uintptr_t)dma, .size = HUGE };

	return ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u) ? -errno : (long)u.size;
}

/* The device fills len bytes at iova with pattern; its STATUS. */
long fill(long long iova, long len, long pattern)
{
	set_reg(DMA_LO, (uint32_t)iova);
	set_reg(DMA_HI, (uint32_t)((uint64_t)iova >> 32));
	set_reg(DMA_LEN, (uint32_t)len);
	set_reg(PATTERN, (uint32_t)pattern);
	set_reg(CTRL, FILL);
	return reg(STATUS);
}

/* dma[off] */
long dma_byte(long off)
{
	return dma[off];
}

/* The device's interrupt on an eventfd that epoll watches. */
long irq_setup(void)
{
	struct { struct vfio_irq_set set; int32_t fd; } irq = {
		{ .argsz = sizeof(irq), .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		  .index = VFIO_PCI_MSIX_IRQ_INDEX, .start = 0, .count = 1 }, -1 };
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 42 };

	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (efd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev))
		return -1000 - errno;
	irq.fd = efd;
	return ioctl(device, VFIO_DEVICE_SET_IRQS, &irq) ? -2000 - errno : 0;
}

/* The interrupt's eventfd signalled by the line as index (INTx 0, MSI-X 2) instead: SET_IRQS's -errno. */
long irq_index(long index)
{
	struct { struct vfio_irq_set set; int32_t fd; } irq = {
		{ .argsz = sizeof(irq), .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		  .index = (uint32_t)index, .start = 0, .count = 1 }, efd };

	return ioctl(device, VFIO_DEVICE_SET_IRQS, &irq) ? -errno : 0;
}

/* INTx unmasked, as a driver does once it has cleared the interrupt's cause: SET_IRQS's -errno. */
long irq_unmask(void)
{
	struct vfio_irq_set set = { .argsz = sizeof(set), .flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
				    .index = VFIO_PCI_INTX_IRQ_INDEX, .start = 0, .count = 1 };

	return ioctl(device, VFIO_DEVICE_SET_IRQS, &set) ? -errno : 0;
}

/* Waits up to timeout ms for the interrupt: the eventfd's count (0: none came), the interrupt acknowledged. */
long wait_irq(int timeout)
{
	struct epoll_event ev[4];
	uint64_t count;
	int n = epoll_wait(ep, ev, 4, timeout);

	if (n <= 0)
		return n ? -1000 - errno : 0;
	if (n != 1 || ev[0].data.u64 != 42 || !(ev[0].events & EPOLLIN))
		return -2000;
	if (eventfd_read(efd, &count))
		return -3000 - errno;
	set_reg(IRQ_ACK, DONE);
	return (long)count;
}

/* A kernel worker raises the interrupt while this thread waits in epoll_wait. */
static struct work_struct raiser;
static void raise_irq(struct work_struct *w)
{
	(void)w;
	set_reg(IRQ_RAISE, 1);
}
long irq_from_another_thread(void)
{
	INIT_WORK(&raiser, raise_irq);
	schedule_work(&raiser);
	return wait_irq(1500);
}

/* eventfd and epoll as Linux has them; each bit one check. */
long eventfd_semantics(void)
{
	long ok = 0, bit = 1;
	uint64_t v = 3, big = ~0ull;
	int e = eventfd(0, EFD_NONBLOCK), s = eventfd(2, EFD_NONBLOCK | EFD_SEMAPHORE), p = epoll_create(1);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 7 }, got[2];
	char b[8];
	int cfg = open("/proc/self/pagemap", O_RDONLY);

	ok |= (read(e, &v, 8) == -1 && errno == EAGAIN) ? bit : 0, bit <<= 1;
	v = 3;
	ok |= (write(e, &v, 8) == 8 && eventfd_write(e, 4) == 0 && read(e, &v, 8) == 8 && v == 7) ? bit : 0, bit <<= 1;
	ok |= (read(s, &v, 8) == 8 && v == 1 && read(s, &v, 8) == 8 && v == 1 && read(s, &v, 8) == -1 && errno == EAGAIN) ? bit : 0, bit <<= 1;
	ok |= (write(e, &big, 8) == -1 && errno == EINVAL && read(e, b, 4) == -1 && errno == EINVAL) ? bit : 0, bit <<= 1;
	ok |= (eventfd(0, 0x1234) == -1 && errno == EINVAL) ? bit : 0, bit <<= 1;
	ok |= (epoll_ctl(p, EPOLL_CTL_ADD, e, &ev) == 0 && epoll_ctl(p, EPOLL_CTL_ADD, e, &ev) == -1 && errno == EEXIST) ? bit : 0, bit <<= 1;
	ok |= (epoll_wait(p, got, 2, 0) == 0) ? bit : 0, bit <<= 1;	/* nothing to read */
	ok |= (eventfd_write(e, 1) == 0 && epoll_wait(p, got, 2, 0) == 1 && got[0].data.u64 == 7 && got[0].events == EPOLLIN) ? bit : 0, bit <<= 1;
	ev.events = EPOLLOUT, ev.data.u64 = 8;
	ok |= (epoll_ctl(p, EPOLL_CTL_MOD, e, &ev) == 0 && epoll_wait(p, got, 2, 0) == 1 && got[0].data.u64 == 8 && got[0].events == EPOLLOUT) ? bit : 0, bit <<= 1;
	ok |= (epoll_ctl(p, EPOLL_CTL_DEL, e, NULL) == 0 && epoll_ctl(p, EPOLL_CTL_DEL, e, NULL) == -1 && errno == ENOENT) ? bit : 0, bit <<= 1;
	ok |= (epoll_ctl(p, EPOLL_CTL_ADD, cfg, &ev) == -1 && errno == EPERM) ? bit : 0, bit <<= 1;	/* always ready: not pollable */
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ok |= (epoll_ctl(p, EPOLL_CTL_ADD, s, &ev) == -1 && errno == EINVAL) ? bit : 0, bit <<= 1;	/* one waiter per epoll: nothing to share */
	ev.events = EPOLLIN;
	ok |= (epoll_ctl(p, EPOLL_CTL_ADD, s, &ev) == 0 && close(s) == 0 && epoll_wait(p, got, 2, 0) == 0) ? bit : 0, bit <<= 1;	/* closed: not watched */
	ok |= (epoll_wait(p, got, 2, 20) == 0) ? bit : 0, bit <<= 1;	/* a timeout */
	ok |= (epoll_wait(e, got, 2, 0) == -1 && errno == EINVAL && epoll_wait(p, got, 0, 0) == -1 && errno == EINVAL) ? bit : 0, bit <<= 1;
	close(e);
	close(p);
	close(cfg);
	return ok;
}

/* Waits with nothing to come: a blocking read of an eventfd (how 0), or epoll_wait with no timeout (how 1). */
long wait_forever(long how)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int e = eventfd(0, 0), p = epoll_create1(0);
	uint64_t v;

	if (how == 0)
		return read(e, &v, 8);
	epoll_ctl(p, EPOLL_CTL_ADD, e, &ev);
	return epoll_wait(p, &ev, 1, -1);
}

volatile long *volatile nowhere = (long *)16;
long crash(void)
{
	return *nowhere;
}
`;

let drv: string;
beforeAll(() => {
  drv = buildDriver(dir, 'vfiodrv', source, { posix: true, extraCflags: ['-D_FORTIFY_SOURCE=2', '-D_FILE_OFFSET_BITS=64'] });
}, 120_000);

const kHuge = 2 << 20;

describe.each<Isolation>(['mprotect', 'process', 'none'])('VFIO inside the POSIX personality, isolation \'%s\'', (isolation) => {
  const kernel = kernelPerBlock({ isolation, policy: { default: { maxFailures: 20 } } });
  let d: Driver;
  let dev: DeviceInfo, other: DeviceInfo;
  const s = (text: string) => d.cstring(text);
  const longs = (at: number, n: number) => Array.from({ length: n }, (_, i) => Number(d.read(at + 8 * i, 8).readBigInt64LE(0)));

  beforeAll(async () => {
    dev = kernel().addDevice('testdev');
    other = kernel().addDevice('testdev');
    d = await kernel().load(drv, { devices: [dev.address] });
  });

  it('eventfd and epoll: counters, EFD_SEMAPHORE, EAGAIN, level-triggered readiness, timeouts', () => {
    expect(Number(d.call('eventfd_semantics')).toString(2)).toBe('1'.repeat(15)); // each bit one check
  });

  /** The whole bring-up, as the driver does it after every load or restart. */
  function bringUp(): bigint {
    expect(d.call('vfio_open', s(dev.address))).toBeGreaterThanOrEqual(3);
    expect(d.call('map_bar0')).toBe(0x4e4b0001);
    const dma = BigInt(d.call('map_dma'));
    expect(dma).toBeGreaterThan(0n);
    expect(d.call('irq_setup')).toBe(0);
    return dma;
  }

  let dma: bigint;
  it('container, group and device descriptor; the regions and interrupts as vfio-pci lays them out', () => {
    dma = bringUp();
    const out = d.alloc(8 * 14);
    expect(d.call('describe', out)).toBe(0);
    const [flags, regions, irqs, barSize, barOffset, barFlags, bar1Size, cfgSize, cfgOffset, cfgFlags, intx, msix, err, pgsizes] = longs(out, 14);
    expect({ flags, regions, irqs }).toEqual({ flags: 0x3, regions: 9, irqs: 5 }); // PCI | RESET
    expect({ barSize, barOffset, barFlags, bar1Size }).toEqual({ barSize: 4096, barOffset: 0, barFlags: 0x4, bar1Size: 0 }); // MMAP
    expect({ cfgSize, cfgOffset, cfgFlags }).toEqual({ cfgSize: 256, cfgOffset: 7 * 2 ** 40, cfgFlags: 0x3 }); // READ | WRITE
    expect({ intx, msix, err }).toEqual({ intx: 1, msix: 1, err: 0 });
    expect(pgsizes).toBe(4096 + kHuge);
    expect(d.call('config16', 0)).toBe(0x4e4b);
    expect(d.call('config16', 2)).toBe(0x0001);
    expect(d.call('scratch', 0x5a5a1234)).toBe(0x5a5a1234);
  });

  it('the config region is written through the bus\'s checks; VFIO_DEVICE_RESET puts the device back to power-on', () => {
    expect(d.call('set_command', 0x6)).toBe(0x6); // memory decoding, bus mastering
    expect(d.call('scratch', 0x1234)).toBe(0x1234);
    expect(d.call('reset_device')).toBe(0); // SCRATCH and the command register cleared
    expect(d.call('set_command', 0x6)).toBe(0x6);
  });

  it('another device\'s group is not in the view: EACCES and a view-denied event', () => {
    const from = kernel().log().length;
    expect(d.call('open_path', s(`/dev/vfio/${other.index}`))).toBe(-13);
    const denied = kernel().log().slice(from).filter((l) => l.event?.kind === 'view-denied');
    expect(denied.map((l) => l.event)).toEqual([{ kind: 'view-denied', driver: d.name, op: 'open', path: `/dev/vfio/${other.index}` }]);
  });

  it('VFIO_IOMMU_MAP_DMA of its hugepage memory at iova = vaddr: the device\'s DMA lands there', () => {
    expect(d.objects()).toContainEqual({ type: 'iova', address: `0x${dma.toString(16)}`, size: kHuge, label: 'VFIO_IOMMU_MAP_DMA' });
    expect(d.call('map_again')).toBe(-17); // EEXIST
    expect(d.call('fill', dma + 8192n, 4096, 0xa5)).toBe(1); // DONE, no ERROR
    expect([8191, 8192, 8192 + 4095, 8192 + 4096].map((o) => d.call('dma_byte', o))).toEqual([0, 0xa5, 0xa5, 0]);
    expect(kernel().devices()[0].errors).toBe(0);
  });

  it('the device\'s interrupt arrives on the eventfd: epoll_wait returns it, from this thread or another', () => {
    expect(d.call('wait_irq', 0)).toBe(1); // the fill's
    expect(d.call('wait_irq', 0)).toBe(0); // nothing more
    expect(kernel().raiseIrq(dev.irq)).toBe(true); // the line signals the eventfd, from the host's thread
    expect(d.call('wait_irq', 0)).toBe(1);
    expect(d.call('irq_from_another_thread')).toBe(1); // a kernel worker raises it while the driver waits
  });

  it('INTx stays masked from each interrupt until VFIO_IRQ_SET_ACTION_UNMASK (AUTOMASKED), as a real device\'s line; MSI-X is not', () => {
    const [INTX, MSIX] = [0, 2];
    irqAcks(dev.irq); // each end of interrupt counted from here, as a real device's unmask would be (vfio-pci's)
    expect(d.call('irq_index', INTX)).toBe(0);
    expect(irqAcks(dev.irq)).toBe(1); // attached: unmasked, as vfio-pci enables INTx
    expect(kernel().raiseIrq(dev.irq)).toBe(true);
    expect(d.call('wait_irq', 0)).toBe(1); // signalled, its cause cleared...
    expect(irqAcks(dev.irq)).toBe(0); // ...and masked still: a level interrupt does not fire again before
    expect(d.call('irq_unmask')).toBe(0);
    expect(irqAcks(dev.irq)).toBe(1);
    expect(d.call('irq_index', MSIX)).toBe(0);
    expect(irqAcks(dev.irq)).toBe(1);
    expect(kernel().raiseIrq(dev.irq)).toBe(true);
    expect(irqAcks(dev.irq, { stop: true })).toBe(1); // MSI-X: the driver never unmasks it, so the line is at once
    expect(d.call('wait_irq', 0)).toBe(1);
  });

  it('a map of anything but its DMA memory is refused (EFAULT, a dma-map-refused event); the IOMMU then refuses the device', () => {
    const from = kernel().log().length;
    const at = d.alloc(8);
    expect(d.call('map_malloc', at)).toBe(-14);
    const buffer = d.read(at, 8).readBigInt64LE(0);
    const refused = kernel().log().slice(from).filter((l) => l.event?.kind === 'dma-map-refused');
    expect(refused.map((l) => l.event)).toEqual([expect.objectContaining({ driver: d.name, vaddr: Number(buffer), iova: Number(buffer), size: 8192 })]);
    const errors = kernel().devices()[0].errors;
    expect(d.call('fill', buffer, 4096, 0x11)).toBe(3); // DONE | ERROR: nothing is mapped there
    expect(kernel().devices()[0].errors).toBe(errors + 1);
    expect(d.call('wait_irq', 0)).toBe(1);
  });

  it('VFIO_IOMMU_UNMAP_DMA: the iova goes, and the device\'s DMA there with it', () => {
    expect(d.call('unmap_dma')).toBe(kHuge);
    expect(d.objects().filter((o) => o.type === 'iova')).toEqual([]);
    expect(d.call('fill', dma, 64, 0x22)).toBe(3);
    expect(d.call('dma_byte', 0)).toBe(0);
    expect(d.call('wait_irq', 0)).toBe(1);
  });

  it('a fault releases descriptors, mappings and IOMMU maps and resets the device; the driver does it all again', () => {
    dma = BigInt(d.call('map_dma'));
    expect(d.objects().filter((o) => o.type === 'iova')).toHaveLength(1);
    if (isolation === 'none') d.recover(); // nothing is trapped under 'none'
    else expect(faultOf(() => d.call('crash')).kind).toBe('segv');
    expect(d.state).toBe('running');
    expect(d.objects().filter((o) => ['file', 'mapping', 'iova', 'hugepage'].includes(o.type))).toEqual([]);
    expect(kernel().raiseIrq(dev.irq)).toBe(false); // no eventfd signalled any more, no handler
    dma = bringUp();
    expect(d.call('scratch', 7)).toBe(7);
    expect(d.call('fill', dma + 4096n, 100, 0x33)).toBe(1);
    expect([4095, 4096, 4195, 4196].map((o) => d.call('dma_byte', o))).toEqual([0, 0x33, 0x33, 0]);
    expect(d.call('wait_irq', 0)).toBe(1);
  });
});

describe.each<Isolation>(['mprotect', 'process'])('a wait counts against the time budget, isolation \'%s\'', (isolation) => {
  let kernel: Kernel;
  afterAll(async () => {
    await kernel?.shutdown();
  });

  it('a blocking eventfd read and an epoll_wait with no timeout that nothing signals end in timeout; the driver is recovered', async () => {
    kernel = await Kernel.boot({ isolation, policy: { default: { maxFailures: 20 } } });
    const d = await kernel.load(drv, { timeBudgetMs: 300 });
    for (const how of [0, 1]) {
      expect(faultOf(() => d.call('wait_forever', how)).kind).toBe('timeout');
      expect(d.state).toBe('running');
    }
    expect(d.objects().filter((o) => o.type === 'file')).toEqual([]);
  });
});
