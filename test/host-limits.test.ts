// What a driver can make the host allocate or spin on, bounded
// (native/kapi/host_limits.h; docs/drivers.md, docs/devices.md): trapped BAR
// windows (mmap of resource<N>) and pci_iomap's windows, 16 MiB of each per
// driver; VFIO DMA maps, 65535 per driver (ENOSPC, as Linux's type-1 IOMMU);
// a futex word or mutex that is not 4-byte aligned (EINVAL, a bad call)
// rather than a wait that spins. Each limit reached is refused with its error
// and logged once (a host-limit event); another driver is unaffected.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceInfo, Driver } from '../lib/index.js';
import { buildDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { faultOf } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-host-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const source = `
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/vfio.h>
#include <nooks/kapi.h>
#include <nooks/posix_calls.h>

static int bar_fd = -1, container = -1, group = -1;
static void *last_bar;
static uint8_t *dma;
static uint64_t next_iova = 1ull << 40;
static long failed;	/* the errno of the last call's failure */
static char words[16] __attribute__((aligned(16)));

/* Up to n mappings of BAR0 (4 KiB), none unmapped: how many succeeded (failed: the errno that stopped them). */
long bar_maps(const char *addr, long n)
{
	char path[128];
	long k;

	if (bar_fd < 0) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0", addr);
		if ((bar_fd = open(path, O_RDWR)) < 0)
			return -errno;
	}
	for (k = 0; k < n; k++) {
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, bar_fd, 0);

		if (p == MAP_FAILED)
			return failed = errno, k;
		last_bar = p;
	}
	return k;
}

long bar_unmap_last(void) { return munmap(last_bar, 4096) ? -errno : 0; }

/* Up to n pci_iomaps of one byte of BAR0, none unmapped: how many succeeded. */
long iomaps(long n)
{
	struct pci_dev *pdev = pci_get_held(NULL);
	long k;

	for (k = 0; k < n; k++)
		if (!pci_iomap(pdev, 0, 1))
			break;
	return k;
}

long vfio_open(const char *addr)
{
	char path[128], link[128];
	ssize_t n;
	int device;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", addr);
	if ((n = readlink(path, link, sizeof(link) - 1)) < 0)
		return -errno;
	link[n] = 0;
	container = open("/dev/vfio/vfio", O_RDWR);
	snprintf(path, sizeof(path), "/dev/vfio/%d", atoi(strrchr(link, '/') + 1));
	group = open(path, O_RDWR);
	if (container < 0 || group < 0 || ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU))
		return -errno;
	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, addr);
	return device < 0 ? -errno : device;
}

/* One 4 KiB page of hugepage DMA memory mapped at up to n more IOVAs: how many maps succeeded (failed: the errno). */
long dma_maps(long n)
{
	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m), .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE, .size = 4096 };
	long k;

	if (!dma && (dma = mmap(NULL, 2u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0)) == MAP_FAILED)
		return -errno;
	m.vaddr = (uintptr_t)dma;
	for (k = 0; k < n; k++) {
		m.iova = next_iova;
		if (ioctl(container, VFIO_IOMMU_MAP_DMA, &m))
			return failed = errno, k;
		next_iova += 4096;
	}
	return k;
}

/* Unmaps the last DMA map: the bytes unmapped, or -errno. */
long dma_unmap_last(void)
{
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .iova = next_iova - 4096, .size = 4096 };

	if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u))
		return -errno;
	next_iova -= 4096;
	return (long)u.size;
}

/* VFIO_IOMMU_MAP_DMA of size bytes of the DMA page's hugepage at iova: 0 or -errno. */
long dma_map_at(unsigned long iova, unsigned long size)
{
	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m), .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
					      .vaddr = (uintptr_t)dma, .iova = iova, .size = size };

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &m) ? -errno : 0;
}

/* VFIO_IOMMU_UNMAP_DMA of [iova, iova + size): the bytes unmapped, or -errno. */
long dma_unmap(unsigned long iova, unsigned long size)
{
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .iova = iova, .size = size };

	return ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u) ? -errno : (long)u.size;
}

long last_errno(void) { return failed; }

/* A futex wait of up to ms milliseconds on the word at words + off: its result. */
long futex_wait_at(long off, long ms)
{
	struct timespec ts;
	unsigned int *w = (unsigned int *)(words + off);

	clock_gettime(CLOCK_MONOTONIC, &ts);
	*w = 0;
	return nooks_posix_futex_wait(w, 0, CLOCK_MONOTONIC, (long long)ts.tv_sec * 1000000000 + ts.tv_nsec + ms * 1000000LL);
}

/* mutex_lock and mutex_unlock of a mutex at words + off (zeroed, as DEFINE_MUTEX makes it). */
void mutex_at(long off)
{
	struct mutex *m = (struct mutex *)(words + off);

	memset(m, 0, sizeof(*m));
	mutex_lock(m);
	mutex_unlock(m);
}
`;

// testdev's BAR0 is 4 KiB: a window takes it and a guard page, 8 KiB of the driver's 16 MiB.
const kWindowsPerDriver = (16 << 20) / 8192;
const kDmaMaps = 65535;
const ENOMEM = 12;
const EINVAL = 22;
const ENOSPC = 28;

let drvA: string, drvB: string;
beforeAll(() => {
  const options = { posix: true, extraCflags: ['-D_FILE_OFFSET_BITS=64'] };
  drvA = buildDriver(dir, 'limits-a', source, options);
  drvB = buildDriver(dir, 'limits-b', source, options);
}, 120_000);

describe('host resources a driver can make the kernel hold, bounded per driver (isolation mprotect)', () => {
  const kernel = kernelPerBlock({ isolation: 'mprotect', policy: { default: { maxFailures: 20 } } });
  let a: Driver, b: Driver;
  let devA: DeviceInfo, devB: DeviceInfo;
  const limitEvents = (from: number, resource: string) =>
    kernel().log().slice(from).filter((l) => l.event?.kind === 'host-limit' && l.event.resource === resource);

  beforeAll(async () => {
    devA = kernel().addDevice('testdev');
    devB = kernel().addDevice('testdev');
    a = await kernel().load(drvA, { devices: [devA.address], timeBudgetMs: 30_000 });
    b = await kernel().load(drvB, { devices: [devB.address], timeBudgetMs: 30_000 });
  });

  it('trapped BAR windows: 16 MiB per driver, then ENOMEM (logged once); a window unmapped is reused; another driver maps its own', () => {
    const from = kernel().log().length;
    expect(a.call('bar_maps', a.cstring(devA.address), kWindowsPerDriver + 50)).toBe(kWindowsPerDriver);
    expect(a.call('last_errno')).toBe(ENOMEM);
    expect(a.call('bar_maps', a.cstring(devA.address), 1)).toBe(0);
    const events = limitEvents(from, 'bar-bytes');
    expect(events).toHaveLength(1);
    expect(events[0].event).toMatchObject({ driver: 'limits-a', limit: 16 << 20 });
    expect(b.call('bar_maps', b.cstring(devB.address), 1)).toBe(1);
    expect(a.call('bar_unmap_last')).toBe(0);
    expect(a.call('bar_maps', a.cstring(devA.address), 2)).toBe(1);
  });

  it('pci_iomap: 16 MiB of windows per driver, then NULL (logged once); another driver maps its own', () => {
    const from = kernel().log().length;
    expect(a.call('iomaps', kWindowsPerDriver + 50)).toBe(kWindowsPerDriver);
    expect(a.call('iomaps', 1)).toBe(0);
    expect(limitEvents(from, 'iomap-bytes')).toHaveLength(1);
    expect(b.call('iomaps', 1)).toBe(1);
  });

  it('VFIO DMA maps: 65535 per driver, then ENOSPC (logged once), as Linux\'s type-1 IOMMU; another driver maps its own', () => {
    expect(a.call('vfio_open', a.cstring(devA.address))).toBeGreaterThanOrEqual(3);
    expect(b.call('vfio_open', b.cstring(devB.address))).toBeGreaterThanOrEqual(3);
    const from = kernel().log().length;
    expect(a.call('dma_maps', kDmaMaps + 10)).toBe(kDmaMaps);
    expect(a.call('last_errno')).toBe(ENOSPC);
    expect(a.call('dma_maps', 1)).toBe(0);
    expect(limitEvents(from, 'dma-maps')).toHaveLength(1);
    expect(b.call('dma_maps', 1)).toBe(1);
    expect(a.call('dma_unmap_last')).toBe(4096); // one unmapped: room for one more
    expect(a.call('dma_maps', 2)).toBe(1);
  });

  it('VFIO_IOMMU_UNMAP_DMA looks only at the maps at its range\'s ends: a range that cuts a map is EINVAL, one that covers maps unmaps them', () => {
    const at = 1 << 30;
    expect(b.call('dma_map_at', at, 8192)).toBe(0);
    expect(b.call('dma_map_at', at + 8192, 4096)).toBe(0);
    expect(b.call('dma_unmap', at + 4096, 8192)).toBe(-EINVAL); // cuts the first map's end
    expect(b.call('dma_unmap', at, 4096)).toBe(-EINVAL); // cuts the first map's start
    expect(b.call('dma_unmap', at - 4096, 4096)).toBe(0); // nothing there
    expect(b.call('dma_unmap', at - 4096, 20480)).toBe(12288);
  });

  it('a futex wait on a word not 4-byte aligned is refused at once (EINVAL, as Linux\'s futex), not a wait that spins', () => {
    expect(a.call('futex_wait_at', 0, 1)).toBe(-110); // aligned: waits out its deadline (ETIMEDOUT)
    expect(a.call('futex_wait_at', 1, 10_000)).toBe(-EINVAL);
  });

  it('mutex_lock of a mutex not 4-byte aligned is a bad call (its wait would spin)', () => {
    const f = faultOf(() => b.call('mutex_at', 2));
    expect(f.kind).toBe('bad-call');
    expect(f.message).toMatch(/mutex_lock.*not aligned/);
  });
});
