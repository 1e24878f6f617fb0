// What a POSIX driver sees (docs/drivers.md, "The view"): the sysfs files of
// the devices the load option `devices` gives it, hugetlbfs and
// /proc/self/pagemap, and nothing else. The files are the kernel's (nothing
// under the host's /sys is read): a driver written as userspace drivers are
// (ixy and its kin) reads its device's ids and config, sets bus mastering,
// unbinds the kernel driver, and gets DMA memory from a hugetlbfs file whose
// bus address pagemap gives. In every isolation mode of the default project.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceInfo, Driver, Isolation } from '../lib/index.js';
import { buildDriver } from './helpers/build-driver.js';
import { stringAt } from './helpers/data.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { faultOf } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-posix-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Library-style, as such drivers are written; -D_FORTIFY_SOURCE=2 and
// _FILE_OFFSET_BITS=64, so that it imports what compilers emit (__open64_2,
// __pread64_chk, mmap64 ...). <nooks/kapi.h> only for dma_alloc_coherent, to
// check pagemap's answer against the kernel's own bus address.
const source = `
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <nooks/kapi.h>

#define HUGE (2u << 20)

static char path[256];
static const char *sysfs(const char *addr, const char *attr)
{
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", addr, attr);
	return path;
}

/* The first bytes of a file (NUL-terminated into out), or -errno. */
long read_file(const char *name, char *out, long size)
{
	int fd = open(name, O_RDONLY);
	long n;

	if (fd < 0)
		return -errno;
	n = read(fd, out, (size_t)size - 1);
	out[n < 0 ? 0 : n] = 0;
	close(fd);
	return n < 0 ? -errno : n;
}

long read_attr(const char *addr, const char *attr, char *out, long size)
{
	return read_file(sysfs(addr, attr), out, size);
}

/* A 16-bit register of configuration space, or -errno. */
long config16(const char *addr, long off)
{
	uint16_t v;
	int fd = open(sysfs(addr, "config"), O_RDONLY);

	if (fd < 0)
		return -errno;
	if (pread(fd, &v, 2, off) != 2)
		v = 0xdead;
	close(fd);
	return v;
}

/* As ixy does: read-modify-write the command register to set bus mastering. */
long set_bus_master(const char *addr)
{
	uint16_t cmd;
	int fd = open(sysfs(addr, "config"), O_RDWR);

	if (fd < 0)
		return -errno;
	if (pread(fd, &cmd, 2, 4) != 2)
		return -1000;
	cmd |= 1 << 2;
	if (pwrite(fd, &cmd, 2, 4) != 2)
		return -1001;
	close(fd);
	return config16(addr, 4);
}

/* PCI sizing of BAR 0: write all ones, read the mask, write the address back. */
long bar0_sizing(const char *addr, uint32_t *answers)
{
	uint32_t ones = 0xffffffff;
	int fd = open(sysfs(addr, "config"), O_RDWR);

	long ok;

	if (fd < 0)
		return -errno;
	ok = pread(fd, &answers[0], 4, 0x10) == 4 && pwrite(fd, &ones, 4, 0x10) == 4 && pread(fd, &answers[1], 4, 0x10) == 4 &&
	     pwrite(fd, &answers[0], 4, 0x10) == 4 && pread(fd, &answers[2], 4, 0x10) == 4;
	close(fd);
	return ok;
}

long write_file(const char *name, const char *text)
{
	int fd = open(name, O_WRONLY);
	long n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n < 0 ? -errno : n;
}

long unbind(const char *addr, const char *which)
{
	char line[64];

	snprintf(line, sizeof(line), "%s\\n", which);
	return write_file(sysfs(addr, "driver/unbind"), line);
}

long link_of(const char *name, char *out, long size)
{
	ssize_t n = readlink(name, out, (size_t)size - 1);

	if (n < 0)
		return -errno;
	out[n] = 0;
	return n;
}

/* open(), kept open: the descriptor, or -errno. */
long open_path(const char *name, long flags)
{
	int fd = open(name, (int)flags, 0600);

	return fd < 0 ? -errno : fd;
}

long close_fd(long fd)
{
	return close((int)fd) ? -errno : 0;
}

long unlink_path(const char *name)
{
	return unlink(name) ? -errno : 0;
}

/* Creates (and closes) /mnt/huge/n<from>, n<from+1> ... until open fails, at
 * most max: how many it created; *err the failure's errno (0: none failed). */
long huge_create(long from, long max, long *err)
{
	char name[64];
	long i;

	*err = 0;
	for (i = 0; i < max; i++) {
		snprintf(name, sizeof(name), "/mnt/huge/n%ld", from + i);
		int fd = open(name, O_CREAT | O_RDWR, 0600);
		if (fd < 0) {
			*err = errno;
			break;
		}
		close(fd);
	}
	return i;
}

long huge_remove(long n)
{
	char name[64];

	for (long i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "/mnt/huge/n%ld", i);
		if (unlink(name))
			return -errno;
	}
	return 0;
}

/* BAR 0 by mmap, as userspace drivers reach their registers: testdev's RAM
 * (0x100) written and read back through the window (trapped and emulated). */
static volatile uint32_t *kept_bar;

long bar0_ram(const char *addr, unsigned value, int keep)
{
	int fd = open(sysfs(addr, "resource0"), O_RDWR);
	volatile uint32_t *regs;
	long got;

	if (fd < 0)
		return -errno;
	regs = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (regs == MAP_FAILED)
		return -errno;
	regs[0x100 / 4] = value;
	got = regs[0x100 / 4];
	if (keep)
		kept_bar = regs;
	else
		munmap((void *)regs, 4096);
	return got;
}

long bar0_unmap(void)
{
	return munmap((void *)kept_bar, 4096);
}

/* The bus address of virt from /proc/self/pagemap, or -1 (not present), or -errno. */
long long virt_to_phys(void *virt)
{
	uint64_t entry;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return -errno;
	if (pread(fd, &entry, 8, (off_t)((uintptr_t)virt / 4096 * 8)) != 8) {
		close(fd);
		return -1000;
	}
	close(fd);
	if (!(entry >> 63))
		return -1;
	return (long long)((entry & ((1ull << 55) - 1)) * 4096 + (uintptr_t)virt % 4096);
}

/* ixy's memory_allocate_dma: a hugetlbfs file, sized, mapped, locked, closed
 * and unlinked; its address (2 MiB aligned) in out[0], its bus address in out[1]. */
void *dma;
long huge_dma(const char *name, long long *out)
{
	int fd = open(name, O_CREAT | O_RDWR, S_IRWXU);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, HUGE))
		return -2000 - errno;
	dma = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_HUGETLB, fd, 0);
	if (dma == MAP_FAILED)
		return -3000 - errno;
	if (mlock(dma, HUGE))
		return -4000 - errno;
	close(fd);
	if (unlink(name))
		return -5000 - errno;
	memset(dma, 0x5a, HUGE);
	out[0] = (long long)(uintptr_t)dma;
	out[1] = virt_to_phys(dma);
	return 0;
}

/* pagemap against the kernel's own answer: a DMA block's bus address. */
long pagemap_matches_dma(void)
{
	dma_addr_t bus;
	char *cpu = dma_alloc_coherent(NULL, 3 * 4096, &bus, GFP_KERNEL);
	long ok;

	if (!cpu)
		return -1;
	ok = virt_to_phys(cpu) == (long long)bus && virt_to_phys(cpu + 2 * 4096 + 5) == (long long)bus + 2 * 4096 + 5;
	ok = ok && virt_to_phys(malloc(64)) == -1 && virt_to_phys(&ok) == -1;
	dma_free_coherent(NULL, 3 * 4096, cpu, bus);
	return ok;
}

/* Anonymous mappings: heap pages (aligned, zeroed), hugepages of DMA memory. */
long anonymous(long long *out)
{
	char *a = mmap(NULL, 10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *h = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_LOCKED | MAP_POPULATE, -1, 0);

	if (a == MAP_FAILED || h == MAP_FAILED)
		return -errno;
	out[0] = (long long)(uintptr_t)a;
	out[1] = (long long)(uintptr_t)h;
	out[2] = virt_to_phys(a);
	out[3] = virt_to_phys(h);
	out[4] = a[9999] == 0 && h[4095] == 0;
	a[9999] = h[4095] = 1;
	return 0;
}

long unmap(long long addr, long len)
{
	return munmap((void *)(uintptr_t)addr, (size_t)len) ? -errno : 0;
}

/* Descriptors: bad ones, reads at and past the end, lseek, fstat, fcntl, flock, ioctl. */
long descriptors(const char *addr)
{
	char b[8];
	struct stat st;
	long ok = 0, bit = 1;
	int fd = open(sysfs(addr, "vendor"), O_RDONLY), cfg = open(sysfs(addr, "config"), O_RDONLY);
	int h = open("/mnt/huge/lock", O_CREAT | O_RDWR, 0600), h2 = open("/mnt/huge/lock", O_RDWR);

	ok |= (read(999, b, 1) == -1 && errno == EBADF) ? bit : 0, bit <<= 1;
	ok |= (close(999) == -1 && errno == EBADF) ? bit : 0, bit <<= 1;
	ok |= (write(fd, "x", 1) == -1 && errno == EBADF) ? bit : 0, bit <<= 1;	/* read-only */
	ok |= (pread(cfg, b, 8, 252) == 4 && pread(cfg, b, 8, 256) == 0 && pread(cfg, b, 8, 4096) == 0) ? bit : 0, bit <<= 1;
	ok |= (pread(cfg, b, 1, -1) == -1 && errno == EINVAL) ? bit : 0, bit <<= 1;
	ok |= (lseek(cfg, 0, SEEK_END) == 256 && read(cfg, b, 8) == 0 && lseek(cfg, 2, SEEK_SET) == 2) ? bit : 0, bit <<= 1;
	ok |= (fstat(cfg, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 256) ? bit : 0, bit <<= 1;
	ok |= (stat(sysfs(addr, "resource0"), &st) == 0 && st.st_size > 0) ? bit : 0, bit <<= 1;
	ok |= (stat(sysfs(addr, ""), &st) == 0 && S_ISDIR(st.st_mode)) ? bit : 0, bit <<= 1;
	ok |= (access(sysfs(addr, "config"), R_OK | W_OK) == 0 && access(sysfs(addr, "vendor"), W_OK) == -1 && errno == EACCES) ? bit : 0, bit <<= 1;
	ok |= (fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY) ? bit : 0, bit <<= 1;
	ok |= (fcntl(fd, F_SETFL, O_NONBLOCK) == 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK)) ? bit : 0, bit <<= 1;
	ok |= (ioctl(cfg, 0x5401, 0) == -1 && errno == ENOTTY) ? bit : 0, bit <<= 1;
	ok |= (flock(h, LOCK_EX | LOCK_NB) == 0 && flock(h2, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK) ? bit : 0, bit <<= 1;
	ok |= (flock(h, LOCK_UN) == 0 && flock(h2, LOCK_SH | LOCK_NB) == 0) ? bit : 0, bit <<= 1;
	ok |= (open("/mnt/huge/lock", O_CREAT | O_EXCL | O_RDWR, 0600) == -1 && errno == EEXIST) ? bit : 0, bit <<= 1;
	ok |= (open("/mnt/huge/none", O_RDWR) == -1 && errno == ENOENT) ? bit : 0, bit <<= 1;
	ok |= (open(sysfs(addr, "resource5"), O_RDWR) == -1 && errno == ENOENT) ? bit : 0, bit <<= 1;
	ok |= (open(sysfs(addr, "no_such_file"), O_RDONLY) == -1 && errno == ENOENT) ? bit : 0, bit <<= 1;
	ok |= (readlink(sysfs(addr, "config"), b, 8) == -1 && errno == EINVAL) ? bit : 0, bit <<= 1;
	ok |= (unlink(sysfs(addr, "config")) == -1 && errno == EACCES) ? bit : 0, bit <<= 1;
	close(fd);
	close(cfg);
	close(h);
	close(h2);
	unlink("/mnt/huge/lock");
	return ok;
}

volatile long *volatile nowhere = (long *)16;
long crash(void)
{
	return *nowhere;
}
`;

// Whether a device's DMA lands where pagemap says: a driver of both worlds
// probes the testdev as a Linux PCI driver (for its registers: emulated BARs
// cannot be mmap()ed yet), takes hugetlbfs memory, translates it through
// pagemap, and has the device fill a page of it at that bus address.
const dmaSource = `
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <nooks/kapi.h>

enum { DMA_LO = 0x08, DMA_HI = 0x0c, DMA_LEN = 0x10, PATTERN = 0x14, CTRL = 0x18, STATUS = 0x1c, FILL = 1, DONE = 1 };
static void __iomem *regs;

static int probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	regs = pci_iomap(pdev, 0, 0);
	return regs ? 0 : -ENOMEM;
}

static const struct pci_device_id ids[] = { PCI_DEVICE(0x4e4b, 0x0001), { 0, 0 } };
static struct pci_driver driver = { .name = "dmacheck", .id_table = ids, .probe = probe };

static int init(void)
{
	return pci_register_driver(&driver);
}
module_init(init);

NOOKS_EXPORT long dma_lands(void)
{
	int fd = open("/dev/hugepages/dma", O_CREAT | O_RDWR, 0600), pm = open("/proc/self/pagemap", O_RDONLY);
	uint8_t *mem = mmap(NULL, 2u << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_HUGETLB, fd, 0);
	uint64_t entry, bus;

	if (!regs || fd < 0 || pm < 0 || mem == MAP_FAILED || pread(pm, &entry, 8, (off_t)((uintptr_t)mem / 4096 * 8)) != 8 || !(entry >> 63))
		return -1;
	bus = (entry & ((1ull << 55) - 1)) * 4096 + 8192;
	iowrite32((uint32_t)bus, regs + DMA_LO);
	iowrite32((uint32_t)(bus >> 32), regs + DMA_HI);
	iowrite32(4096, regs + DMA_LEN);
	iowrite32(0xa5, regs + PATTERN);
	iowrite32(FILL, regs + CTRL);
	return ioread32(regs + STATUS) == DONE && mem[8191] == 0 && mem[8192] == 0xa5 && mem[8192 + 4095] == 0xa5 && mem[8192 + 4096] == 0;
}
`;

let drv: string, dmaDrv: string;
beforeAll(() => {
  drv = buildDriver(dir, 'viewdrv', source, { posix: true, extraCflags: ['-D_FORTIFY_SOURCE=2', '-D_FILE_OFFSET_BITS=64'] });
  dmaDrv = buildDriver(dir, 'dmacheck', dmaSource, { posix: true });
}, 120_000);

describe.each<Isolation>(['mprotect', 'process', 'none'])("a POSIX driver's view of its devices, isolation '%s'", (isolation) => {
  const kernel = kernelPerBlock({ isolation, policy: { default: { maxFailures: 20 } } });
  let d: Driver;
  let nic: DeviceInfo, other: DeviceInfo;
  let buf: number;
  const s = (text: string) => d.cstring(text);
  const attr = (address: string, name: string): string | number => {
    const n = Number(d.call('read_attr', s(address), s(name), buf, 512));
    return n < 0 ? n : stringAt(d, buf, 512);
  };

  beforeAll(async () => {
    nic = kernel().addDevice('testdev');
    other = kernel().addDevice('testdev');
    d = await kernel().load(drv, { devices: [nic.address], env: { NIC: nic.address } });
    buf = d.alloc(512);
  });

  it('every device has a PCI address; the driver holds the one it was given', () => {
    expect([nic.address, other.address]).toEqual(['0000:00:02.0', '0000:00:03.0']);
    expect(kernel().devices().map((x) => [x.address, x.driver])).toEqual([[nic.address, d.name], [other.address, null]]);
    expect(d.objects()).toContainEqual(expect.objectContaining({ type: 'device', label: nic.address }));
  });

  it('the load option devices: an address not on the bus is ENODEV, a device another driver holds EBUSY', async () => {
    await expect(kernel().load('null', { devices: ['0000:00:09.0'] })).rejects.toMatchObject({
      code: 'ENODEV', message: expect.stringContaining('load option devices: no device 0000:00:09.0 on the kernel\'s bus'),
    });
    await expect(kernel().load('null', { devices: [other.address, nic.address] })).rejects.toMatchObject({
      code: 'EBUSY', message: expect.stringContaining(`load option devices: ${nic.address} (testdev0) is bound to ${d.name}`),
    });
    expect(kernel().devices().map((x) => x.driver)).toEqual([d.name, null]); // the refused load let go of what it held
  });

  it('sysfs attributes, as Linux prints them', () => {
    expect(attr(nic.address, 'vendor')).toBe('0x4e4b\n');
    expect(attr(nic.address, 'device')).toBe('0x0001\n');
    expect(attr(nic.address, 'class')).toBe('0xff0000\n');
    expect(attr(nic.address, 'subsystem_vendor')).toBe('0x4e4b\n');
    expect(attr(nic.address, 'irq')).toBe(`${nic.irq}\n`);
    const resource = String(attr(nic.address, 'resource')).split('\n');
    expect(resource).toHaveLength(8); // six BARs, the ROM, the final newline
    const bar0 = 0xc0000000 + nic.index * 0x1000000; // emulated BARs: 16 MiB of bus addresses per device
    expect(resource[0]).toBe(`0x${bar0.toString(16).padStart(16, '0')} 0x${(bar0 + 0xfff).toString(16).padStart(16, '0')} 0x0000000000040200`);
    expect(resource.slice(1, 7)).toEqual(Array(6).fill('0x0000000000000000 0x0000000000000000 0x0000000000000000'));
    d.call('link_of', s(`/sys/bus/pci/devices/${nic.address}/iommu_group`), buf, 512);
    expect(stringAt(d, buf, 512)).toMatch(/^\.\.\/\.\.\/\.\.\/\.\.\/kernel()\/iommu_groups\/\d+$/);
    d.call('link_of', s(`/sys/bus/pci/devices/${nic.address}/driver`), buf, 512);
    expect(stringAt(d, buf, 512)).toBe('../../../../bus/pci/drivers/nooks');
  });

  it('configuration space: ids, bus mastering through the bus\'s checks, BAR sizing that never moves the BAR', () => {
    expect(d.call('config16', s(nic.address), 0)).toBe(0x4e4b);
    expect(d.call('config16', s(nic.address), 2)).toBe(0x0001);
    expect(d.call('config16', s(nic.address), 4)).toBe(0);
    expect(d.call('set_bus_master', s(nic.address))).toBe(0x4);
    const answers = d.alloc(12);
    expect(d.call('bar0_sizing', s(nic.address), answers)).toBe(1);
    const [bar, mask, after] = [0, 4, 8].map((o) => d.read(answers + o, 4).readUInt32LE(0));
    expect(mask).toBe(0xfffff000); // 4 KiB, 32-bit memory
    expect(after).toBe(bar);
    expect(bar & 0xfff).toBe(0);
    expect(Number(d.call('config16', s(nic.address), 0x3c)) & 0xff).toBe(nic.irq & 0xff);
    const enable = `/sys/bus/pci/devices/${nic.address}/enable`;
    expect(attr(nic.address, 'enable')).toBe('0\n');
    expect(d.call('write_file', s(enable), s('1\n'))).toBe(2);
    expect([attr(nic.address, 'enable'), d.call('config16', s(nic.address), 4)]).toEqual(['1\n', 0x7]);
    expect(d.call('write_file', s(enable), s('0'))).toBe(1);
    expect(d.call('write_file', s(enable), s('2'))).toBe(-22);
    expect(d.call('config16', s(nic.address), 4)).toBe(0x4);
  });

  it('writing its own address to driver/unbind is accepted and ignored; another is not bound there', () => {
    expect(d.call('unbind', s(nic.address), s(nic.address))).toBe(13);
    expect(kernel().devices()[0].driver).toBe(d.name);
    expect(d.call('unbind', s(nic.address), s(other.address))).toBe(-19); // ENODEV
    expect(d.call('write_file', s('/sys/bus/pci/drivers/e1000/unbind'), s(nic.address))).toBe(12);
  });

  it('another device\'s files and any other path: EACCES and a log line naming the path', () => {
    const from = kernel().log().length;
    expect(attr(other.address, 'vendor')).toBe(-13);
    expect(d.call('read_file', s('/etc/passwd'), buf, 512)).toBe(-13);
    expect(d.call('read_file', s('/sys/bus/pci/devices/../../../../etc/passwd'), buf, 512)).toBe(-13);
    expect(d.call('open_path', s(`/dev/uio${other.index}`), 2)).toBe(-13); // another device's UIO node
    const denied = kernel().log().slice(from).filter((l) => l.source === d.name && l.event?.kind === 'view-denied');
    expect(denied.map((l) => l.event)).toEqual([
      { kind: 'view-denied', driver: d.name, op: 'open', path: `/sys/bus/pci/devices/${other.address}/vendor` },
      { kind: 'view-denied', driver: d.name, op: 'open', path: '/etc/passwd' },
      { kind: 'view-denied', driver: d.name, op: 'open', path: '/etc/passwd' }, // the ../ path, normalised
      { kind: 'view-denied', driver: d.name, op: 'open', path: `/dev/uio${other.index}` },
    ]);
    for (const l of denied) expect(l.text).toContain(l.event!.path as string); // the line names the path for people
  });

  it('an emulated BAR by mmap of resource0: loads and stores reach the model; the mapping is tracked until munmap', () => {
    expect(d.call('bar0_ram', s(nic.address), 0x12345678, 0)).toBe(0x12345678);
    expect(d.objects().filter((o) => o.type === 'mapping' && o.label.includes('resource0'))).toEqual([]);
    expect(d.call('bar0_ram', s(nic.address), 0x0badcafe, 1)).toBe(0x0badcafe);
    expect(d.objects().filter((o) => o.type === 'mapping' && o.label.includes('resource0'))).toHaveLength(1);
    expect(d.call('bar0_unmap')).toBe(0);
    expect(d.objects().filter((o) => o.type === 'mapping' && o.label.includes('resource0'))).toEqual([]);
  });

  it('hugetlbfs + pagemap, as ixy allocates DMA memory: 2 MiB aligned, the bus address of the driver\'s DMA memory', () => {
    const out = d.alloc(16);
    expect(d.call('huge_dma', s('/mnt/huge/ixy-0'), out)).toBe(0);
    const virt = d.read(out, 8).readBigUInt64LE(0), phys = d.read(out + 8, 8).readBigInt64LE(0);
    expect(virt % (2n << 20n)).toBe(0n);
    expect(phys).toBeGreaterThanOrEqual(1n << 32n); // the domain's DMA window
    expect(phys % (2n << 20n)).toBe(0n);
    const huge = d.objects().filter((o) => o.type === 'hugepage' || o.type === 'mapping');
    expect(huge).toEqual([
      { type: 'mapping', address: `0x${virt.toString(16)}`, size: 2 << 20, label: 'mmap /mnt/huge/ixy-0' },
      { type: 'hugepage', address: `0x${virt.toString(16)}`, size: 2 << 20, label: '/mnt/huge/ixy-0' },
    ]); // in the tracker's release order
    expect(d.call('pagemap_matches_dma')).toBe(1);
  });

  it('anonymous mappings: heap pages, MAP_HUGETLB from DMA memory; munmap', () => {
    const out = d.alloc(40);
    expect(d.call('anonymous', out)).toBe(0);
    const [a, h, pa, ph, zero] = [0, 8, 16, 24, 32].map((o) => d.read(out + o, 8).readBigInt64LE(0));
    expect([a % 4096n, h % (2n << 20n), pa, zero]).toEqual([0n, 0n, -1n, 1n]);
    expect(ph).toBeGreaterThanOrEqual(1n << 32n);
    const mapped = d.objects().filter((o) => o.type === 'mapping' && o.label.startsWith('mmap anonymous') || o.label === 'mmap hugepages');
    expect(mapped.map((o) => o.size).sort((x, y) => x - y)).toEqual([12288, 2 << 20]);
    expect(d.call('unmap', a + 4096n, 4096)).toBe(-22); // a part of one
    expect(d.call('unmap', a, -4096)).toBe(-22); // a range that wraps around the address space
    expect(d.call('unmap', a, -1)).toBe(-22); // ...its length rounded up to a page, too
    expect(d.call('unmap', a, 10000)).toBe(0);
    expect(d.call('unmap', h, 2 << 20)).toBe(0);
    expect(d.objects().filter((o) => o.label === 'mmap anonymous' || o.label === 'mmap hugepages')).toEqual([]);
  });

  it('descriptors: EBADF, reading at and past the end, lseek, fstat, stat, access, fcntl, flock, ioctl ENOTTY', () => {
    expect(Number(d.call('descriptors', s(nic.address))).toString(2)).toBe('1'.repeat(21)); // each bit one check
  });

  it('hugetlbfs names are bounded as Linux bounds them: NAME_MAX (ENAMETOOLONG), 1024 files a driver (ENOSPC, logged)', () => {
    const create = 0o102; // O_CREAT | O_RDWR
    const longest = `/mnt/huge/${'a'.repeat(255)}`;
    const fd = Number(d.call('open_path', s(longest), create));
    expect(fd).toBeGreaterThanOrEqual(3);
    expect([d.call('close_fd', fd), d.call('unlink_path', s(longest))]).toEqual([0, 0]);
    expect(d.call('open_path', s(`${longest}b`), create)).toBe(-36); // ENAMETOOLONG
    const err = d.alloc(8);
    const from = kernel().log().length;
    expect(d.call('huge_create', 0, 2000, err)).toBe(1024);
    expect(d.read(err, 8).readBigInt64LE(0)).toBe(28n); // ENOSPC
    expect(kernel().log().slice(from).filter((l) => l.source === d.name).map((l) => l.text))
      .toContainEqual(expect.stringContaining('open /mnt/huge/n1024: 1024 hugetlbfs files already (ENOSPC)'));
    expect(d.call('unlink_path', s('/mnt/huge/n0'))).toBe(0);
    expect(d.call('huge_create', 0, 1, err)).toBe(1); // a name freed is a file to be had again
    expect(d.call('huge_remove', 1024)).toBe(0);
  });

  it('descriptors and mappings are tracked; a fault releases them, resets the device, and the driver is as loaded', () => {
    const fd = Number(d.call('open_path', s(`/sys/bus/pci/devices/${nic.address}/config`), 2));
    expect(fd).toBeGreaterThanOrEqual(3);
    expect(d.objects()).toContainEqual({ type: 'file', address: `0x${fd.toString(16)}`, size: 0, label: `/sys/bus/pci/devices/${nic.address}/config` });
    expect(d.call('set_bus_master', s(nic.address))).toBe(0x4);
    expect(d.objects().some((o) => o.type === 'hugepage')).toBe(true);
    if (isolation === 'none') d.recover(); // nothing is trapped under 'none'
    else expect(faultOf(() => d.call('crash')).kind).toBe('segv');
    expect(d.state).toBe('running');
    expect(d.objects().filter((o) => ['file', 'mapping', 'hugepage'].includes(o.type))).toEqual([]);
    expect(d.objects()).toContainEqual(expect.objectContaining({ type: 'device', label: nic.address }));
    expect(d.call('close_fd', fd)).toBe(-9); // EBADF: the descriptor went with the failure
    expect(d.call('config16', s(nic.address), 4)).toBe(0); // the device is reset: bus mastering off
    expect(d.call('open_path', s('/mnt/huge/ixy-0'), 2)).toBe(-2); // hugetlbfs is empty again
    buf = d.alloc(512);
    expect(attr(nic.address, 'vendor')).toBe('0x4e4b\n');
  });

  it('a device\'s DMA to the bus address pagemap gives lands in the hugetlbfs memory', async () => {
    const check = await kernel().load(dmaDrv);
    expect(kernel().devices().map((x) => x.driver)).toEqual([d.name, check.name]); // it probed the device d does not hold
    expect(check.call('dma_lands')).toBe(1);
    expect(kernel().devices()[1].errors).toBe(0);
    check.unload();
  });
});
