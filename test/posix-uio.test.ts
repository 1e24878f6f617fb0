// UIO inside the POSIX personality (docs/drivers.md, "The view"): a driver
// written as the Linux UIO HOWTO's and uio_pci_generic's users are finds its
// node under its device's sysfs directory, reads its name, opens /dev/uio<N>,
// maps BAR0 through sysfs resource0, makes the emulated e1000 interrupt (ICS
// with IMS set) and waits for it with read(), poll and epoll, re-enabling it
// with write(1), or as uio_pci_generic's users do (it has no irqcontrol),
// by clearing INTx disable in the command register through sysfs config.
// readdir lists the view's directories (exactly the held devices, their
// files, uio, /sys/class/uio, /dev/vfio) with Linux's d_type.
// Another N is outside its view; VFIO and the node do not share the line. In
// every isolation mode of the default project.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceInfo, Driver, Isolation } from '../lib/index.js';
import { irqAcks } from '../lib/testing.js';
import { buildDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { faultOf } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-posix-uio-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Library-style; <nooks/kapi.h> only for a work item, to make the device
// interrupt from another thread while the driver waits in read().
const source = `
#define _GNU_SOURCE	/* readdir64 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/vfio.h>
#include <nooks/kapi.h>

/* the 82540EM's interrupt registers */
enum { ICR = 0xc0, ICS = 0xc8, IMS = 0xd0, RXDMT0 = 0x10 };

static int uio = -1, uio_nb = -1;
static volatile uint32_t *bar0;

/* As the HOWTO: the N of the device's uio<N> directory, found under its sysfs directory; -1 if none. */
long find_uio(const char *addr)
{
	char path[128];
	struct stat st;

	for (int n = 0; n < 64; n++) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/uio/uio%d", addr, n);
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			return n;
	}
	return -1;
}

/* A sysfs text file into out (NUL-terminated): its length, or -errno. */
long read_text(const char *path, char *out, long size)
{
	int fd = open(path, O_RDONLY);
	long n;

	if (fd < 0)
		return -errno;
	n = read(fd, out, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	out[n] = 0;
	return n;
}

long read_link(const char *path, char *out, long size)
{
	long n = readlink(path, out, size - 1);

	if (n < 0)
		return -errno;
	out[n] = 0;
	return n;
}

/* The HOWTO's way to the node: readdir of the device's uio directory; N of its uio<N>, or -errno. */
long find_uio_readdir(const char *addr)
{
	char path[128];
	struct dirent *e;
	long n = -ENOENT;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/uio", addr);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((e = readdir(dir)))
		if (strncmp(e->d_name, "uio", 3) == 0 && e->d_type == DT_DIR)
			n = atol(e->d_name + 3);
	closedir(dir);
	return n;
}

/* A directory's listing, "name:d_type" per line, into out; its length, or -errno. */
long list(const char *path, char *out, long size)
{
	DIR *dir = opendir(path);
	struct dirent *e;
	long n = 0;

	if (!dir)
		return -errno;
	errno = 0;
	while ((e = readdir(dir)) && n < size)
		n += snprintf(out + n, size - n, "%s:%d\\n", e->d_name, e->d_type);
	if (errno)
		return -errno;
	return closedir(dir) ? -errno : n;
}

/* fdopendir, dirfd, rewinddir, readdir64, openat from a directory's descriptor; each bit one check. */
long dir_calls(const char *devdir)
{
	long ok = 0, bit = 1, first = 0, again = 0;
	int fd = open(devdir, O_RDONLY | O_DIRECTORY), cfg;
	struct dirent64 *e;
	uint16_t vendor = 0;
	DIR *dir;
	char b[4];

	ok |= fd >= 3 ? bit : 0, bit <<= 1;
	ok |= (read(fd, b, 4) == -1 && errno == EISDIR) ? bit : 0, bit <<= 1;
	ok |= (open(devdir, O_RDWR) == -1 && errno == EISDIR) ? bit : 0, bit <<= 1;
	cfg = openat(fd, "config", O_RDONLY);
	ok |= (cfg >= 3 && pread(cfg, &vendor, 2, 0) == 2 && vendor == 0x8086) ? bit : 0, bit <<= 1;
	ok |= (fdopendir(cfg) == NULL && errno == ENOTDIR && openat(cfg, "vendor", O_RDONLY) == -1 && errno == ENOTDIR) ? bit : 0, bit <<= 1;
	dir = fdopendir(fd);
	ok |= (dir && dirfd(dir) == fd) ? bit : 0, bit <<= 1;
	while ((e = readdir64(dir)))
		first++;
	rewinddir(dir);
	while (readdir(dir))
		again++;
	ok |= (first > 10 && again == first) ? bit : 0, bit <<= 1;
	ok |= (closedir(dir) == 0 && close(fd) == -1 && errno == EBADF) ? bit : 0, bit <<= 1;	/* closedir closes it */
	ok |= (opendir("/sys/bus/pci/devices/../drivers") == NULL && errno == EACCES) ? bit : 0, bit <<= 1;	/* not listed: outside */
	close(cfg);
	return ok;
}

long open_path(const char *path)
{
	int fd = open(path, O_RDWR);

	return fd < 0 ? -errno : fd;
}

/* /dev/uio<n> twice (blocking, and O_NONBLOCK), BAR0 through resource0, the interrupt enabled in IMS. */
long uio_setup(const char *addr, long n)
{
	char path[128];
	int res;
	void *p;

	snprintf(path, sizeof(path), "/dev/uio%ld", n);
	uio = open(path, O_RDWR);
	uio_nb = open(path, O_RDWR | O_NONBLOCK);
	if (uio < 0 || uio_nb < 0)
		return -1000 - errno;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0", addr);
	res = open(path, O_RDWR);
	if (res < 0)
		return -2000 - errno;
	p = mmap(NULL, 128 * 1024, PROT_READ | PROT_WRITE, MAP_SHARED, res, 0);
	close(res);
	if (p == MAP_FAILED)
		return -3000 - errno;
	bar0 = p;
	bar0[IMS / 4] = RXDMT0;
	return 0;
}

/* The device interrupts: a cause set by hand. */
void interrupt(void)
{
	bar0[ICS / 4] = RXDMT0;
}

/* read() of the count: blocking (nb 0) or not; the cause cleared as a driver's handler does. */
long uio_read(long nb)
{
	int32_t count;

	if (read(nb ? uio_nb : uio, &count, 4) != 4)
		return -errno;
	(void)bar0[ICR / 4];
	return count;
}

/* write() of 1 (unmask) or 0 (mask): 4, or -errno. */
long uio_enable(long on)
{
	int32_t v = (int32_t)on;

	return write(uio, &v, 4) == 4 ? 4 : -errno;
}

/* n bytes of the device's config at off, read (write 0) or written (1), as a driver does through sysfs: 0, or -errno. */
static long config_io(const char *addr, void *buf, long n, long off, long write)
{
	char path[128];
	int fd;
	long r = 0;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", addr);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return -errno;
	if ((write ? pwrite(fd, buf, n, off) : pread(fd, buf, n, off)) != n)
		r = -errno;
	close(fd);
	return r;
}

/* uio_pci_generic's way, DPDK's: INTx disable in the command register (sysfs config) cleared (on) or set; 0, or -errno. */
long intx_enable(const char *addr, long on)
{
	uint16_t cmd;
	long r = config_io(addr, &cmd, 2, 4, 0);

	cmd = on ? cmd & ~0x400 : cmd | 0x400;
	return r ? r : config_io(addr, &cmd, 2, 4, 1);
}

/* The command register: its value, or -errno. */
long command_read(const char *addr)
{
	uint16_t cmd;
	long r = config_io(addr, &cmd, 2, 4, 0);

	return r ? r : cmd;
}

/* A driver turning on bus mastering: read, set bit 2, write back (INTx disable as read); 0, or -errno. */
long bus_master_on(const char *addr)
{
	uint16_t cmd;
	long r = config_io(addr, &cmd, 2, 4, 0);

	cmd |= 0x4;
	return r ? r : config_io(addr, &cmd, 2, 4, 1);
}

/* The UIO HOWTO's unmask: the command register's upper byte (offset 5) written with INTx disable clear; 0, or -errno. */
long intx_unmask_byte(const char *addr)
{
	uint8_t high;
	long r = config_io(addr, &high, 1, 5, 0);

	high &= (uint8_t)~0x4;
	return r ? r : config_io(addr, &high, 1, 5, 1);
}

/* Reads and writes of anything but 4 bytes: EINVAL each (bit 0 the read, bit 1 the write). */
long wrong_sizes(void)
{
	int64_t v = 1;

	return (read(uio_nb, &v, 2) == -1 && errno == EINVAL) | (write(uio, &v, 8) == -1 && errno == EINVAL) << 1;
}

/* What poll (timeout 0) says of the blocking descriptor: its revents. */
long uio_poll(void)
{
	struct pollfd p = { .fd = uio, .events = POLLIN | POLLOUT };

	return poll(&p, 1, 0) < 0 ? -errno : p.revents;
}

/* epoll_wait (timeout 0) on the descriptor, level- or edge-triggered: the events, 0 when none. */
long uio_epoll(long edge)
{
	static int ep[2] = { -1, -1 };
	struct epoll_event ev = { .events = EPOLLIN | (edge ? EPOLLET : 0), .data.u64 = 7 }, got;
	int n;

	if (ep[edge] < 0) {
		ep[edge] = epoll_create1(0);
		if (epoll_ctl(ep[edge], EPOLL_CTL_ADD, uio, &ev))
			return -errno;
	}
	n = epoll_wait(ep[edge], &got, 1, 0);
	return n < 0 ? -errno : n == 0 ? 0 : got.data.u64 == 7 ? (long)got.events : -1;
}

/* A kernel worker makes the device interrupt while this thread waits in read(). */
static struct work_struct raiser;
static void raise_from_worker(struct work_struct *w)
{
	(void)w;
	interrupt();
}
long interrupt_from_another_thread(void)
{
	INIT_WORK(&raiser, raise_from_worker);
	schedule_work(&raiser);
	return uio_read(0);
}

static int vfio_fds[4] = { -1, -1, -1, -1 };

/* The VFIO descriptors vfio_irq kept: closed, and the line with them. */
void vfio_release(void)
{
	for (int i = 0; i < 4; i++)
		close(vfio_fds[i]);
}

/* VFIO on the same device: SET_IRQS's -errno (0: it took the line, kept with the descriptors when keep). */
long vfio_irq(const char *addr, long group_n, long keep)
{
	struct { struct vfio_irq_set set; int32_t fd; } irq = {
		{ .argsz = sizeof(irq), .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		  .index = VFIO_PCI_INTX_IRQ_INDEX, .start = 0, .count = 1 }, -1 };
	char path[64];
	int container = open("/dev/vfio/vfio", O_RDWR), group, device;

	snprintf(path, sizeof(path), "/dev/vfio/%ld", group_n);
	group = open(path, O_RDWR);
	if (container < 0 || group < 0 || ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU))
		return -1000 - errno;
	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, addr);
	irq.fd = eventfd(0, EFD_NONBLOCK);
	if (device < 0 || irq.fd < 0)
		return -2000 - errno;
	long r = ioctl(device, VFIO_DEVICE_SET_IRQS, &irq) ? -errno : 0;
	vfio_fds[0] = device, vfio_fds[1] = group, vfio_fds[2] = container, vfio_fds[3] = irq.fd;
	if (!keep)
		vfio_release();
	return r;
}

long close_fd(long fd)
{
	return close((int)fd) ? -errno : 0;
}

long uio_close(void)
{
	return close(uio) | close(uio_nb);
}

volatile long *volatile nowhere = (long *)16;
long crash(void)
{
	return *nowhere;
}
`;

let drv: string;
beforeAll(() => {
  drv = buildDriver(dir, 'uiodrv', source, { posix: true, extraCflags: ['-D_FORTIFY_SOURCE=2'] });
}, 120_000);

describe.each<Isolation>(['mprotect', 'process', 'none'])('UIO inside the POSIX personality, isolation \'%s\'', (isolation) => {
  const kernel = kernelPerBlock({ isolation, policy: { default: { maxFailures: 20 } } });
  let d: Driver;
  let nic: DeviceInfo, other: DeviceInfo;
  const s = (text: string) => d.cstring(text);
  const text = (call: string, path: string): string => {
    const out = d.alloc(128);
    const n = Number(d.call(call, s(path), out, 128));
    return n < 0 ? `-${-n}` : d.read(out, n).toString();
  };

  beforeAll(async () => {
    other = kernel().addDevice('e1000', { peer: '127.0.0.1:9' });
    nic = kernel().addDevice('e1000', { peer: '127.0.0.1:9' });
    d = await kernel().load(drv, { devices: [nic.address] });
  });

  it('finds uio<N> (N = the bus index) under its device\'s sysfs directory and in /sys/class/uio, as uio_pci_generic names it', () => {
    expect(d.call('find_uio', s(nic.address))).toBe(nic.index);
    expect(d.call('find_uio', s(other.address))).toBe(-1); // not its device: EACCES for each
    for (const base of [`/sys/class/uio/uio${nic.index}`, `/sys/bus/pci/devices/${nic.address}/uio/uio${nic.index}`]) {
      expect(text('read_text', `${base}/name`)).toBe('uio_pci_generic\n');
      expect(text('read_text', `${base}/version`)).toBe('0.01.0\n');
      expect(text('read_link', `${base}/device`)).toBe(`../../../${nic.address}`);
    }
    expect(text('read_link', `/sys/class/uio/uio${nic.index}`)).toBe(`../../bus/pci/devices/${nic.address}/uio/uio${nic.index}`);
    expect(text('read_text', `/sys/class/uio/uio${nic.index}/device/vendor`)).toBe('0x8086\n'); // through the link
    expect(text('read_text', `/sys/bus/pci/devices/${nic.address}/uio/uio${nic.index}/device/vendor`)).toBe('0x8086\n');
  });

  const listing = (path: string): Map<string, number> | number => {
    const out = d.alloc(4096);
    const n = Number(d.call('list', s(path), out, 4096));
    if (n < 0) return n;
    return new Map(d.read(out, n).toString().trim().split('\n').map((l) => [l.slice(0, l.lastIndexOf(':')), Number(l.slice(l.lastIndexOf(':') + 1))]));
  };
  const [DT_CHR, DT_DIR, DT_REG, DT_LNK] = [2, 4, 8, 10];

  it('readdir lists the view\'s directories as Linux does: exactly the held devices, their files, uio, /sys/class/uio, /dev/vfio', () => {
    expect(d.call('find_uio_readdir', s(nic.address))).toBe(nic.index);
    expect(listing('/sys/bus/pci/devices')).toEqual(new Map([['.', DT_DIR], ['..', DT_DIR], [nic.address, DT_LNK]]));
    const files = listing(`/sys/bus/pci/devices/${nic.address}`) as Map<string, number>;
    expect([...files.keys()].sort()).toEqual(['.', '..', 'class', 'config', 'device', 'driver', 'enable', 'iommu_group', 'irq', 'numa_node',
      'resource', 'resource0', 'subsystem_device', 'subsystem_vendor', 'uio', 'vendor'].sort()); // one BAR: resource0 only
    expect([files.get('config'), files.get('driver'), files.get('iommu_group'), files.get('uio')]).toEqual([DT_REG, DT_LNK, DT_LNK, DT_DIR]);
    expect(listing(`/sys/bus/pci/devices/${nic.address}/uio`)).toEqual(new Map([['.', DT_DIR], ['..', DT_DIR], [`uio${nic.index}`, DT_DIR]]));
    const node = new Map([['.', DT_DIR], ['..', DT_DIR], ['name', DT_REG], ['version', DT_REG], ['device', DT_LNK]]);
    expect(listing(`/sys/bus/pci/devices/${nic.address}/uio/uio${nic.index}`)).toEqual(node);
    expect(listing('/sys/class/uio')).toEqual(new Map([['.', DT_DIR], ['..', DT_DIR], [`uio${nic.index}`, DT_LNK]]));
    expect(listing(`/sys/class/uio/uio${nic.index}`)).toEqual(node);
    expect(listing(`/sys/class/uio/uio${nic.index}/device`)).toEqual(files);
    expect(listing(`/sys/bus/pci/devices/${nic.address}/uio/uio${nic.index}/device`)).toEqual(files);
    expect(listing('/dev/vfio')).toEqual(new Map([['.', DT_DIR], ['..', DT_DIR], ['vfio', DT_CHR], [String(nic.index), DT_CHR]]));
    expect(listing(`/sys/bus/pci/devices/${nic.address}/config`)).toBe(-20); // ENOTDIR
    expect(d.call('dir_calls', s(`/sys/bus/pci/devices/${nic.address}`)).toString(2)).toBe('1'.repeat(9)); // each bit one check
  });

  it('another device\'s node or class entry is outside the view: EACCES and a view-denied event', () => {
    const from = kernel().log().length;
    expect(d.call('open_path', s(`/dev/uio${other.index}`))).toBe(-13);
    expect(text('read_text', `/sys/class/uio/uio${other.index}/name`)).toBe('-13');
    expect(listing(`/sys/bus/pci/devices/${other.address}`)).toBe(-13);
    expect(listing('/sys/bus')).toBe(-13);
    const denied = kernel().log().slice(from).filter((l) => l.event?.kind === 'view-denied');
    expect(denied.map((l) => [l.event?.op, l.event?.path])).toEqual([['open', `/dev/uio${other.index}`],
      ['open', `/sys/class/uio/uio${other.index}/name`], ['open', `/sys/bus/pci/devices/${other.address}`], ['open', '/sys/bus']]);
  });

  /** The bring-up, as the driver does it after every load or restart. */
  const bringUp = () => expect(d.call('uio_setup', s(nic.address), nic.index)).toBe(0);

  it('read() returns the interrupt count once per interrupt; the interrupt stays masked until write(1)', () => {
    bringUp();
    expect(d.call('uio_read', 1)).toBe(-11); // EAGAIN: none yet
    expect(d.call('uio_poll')).toBe(0);
    d.call('interrupt');
    expect(d.call('uio_poll')).toBe(1); // POLLIN
    expect(d.call('uio_read', 0)).toBe(1);
    expect(d.call('uio_read', 1)).toBe(1); // the other open file has not seen it
    expect(d.call('uio_read', 1)).toBe(-11);
    d.call('interrupt'); // masked since it fired: held back
    expect(d.call('uio_read', 1)).toBe(-11);
    expect(d.call('uio_enable', 1)).toBe(4); // unmasked: the held-back interrupt comes
    expect(d.call('uio_read', 0)).toBe(2);
    expect(d.call('uio_enable', 1)).toBe(4);
    expect(d.call('uio_enable', 0)).toBe(4); // masked by hand: nothing counts
    d.call('interrupt');
    expect(d.call('uio_poll')).toBe(0);
    expect(d.call('uio_enable', 1)).toBe(4);
    expect(d.call('uio_read', 0)).toBe(3);
    expect(d.call('wrong_sizes')).toBe(3);
    expect(d.call('uio_read', 1)).toBe(3); // the non-blocking file catches up
  });

  it('a blocking read() waits for the next interrupt, made from another thread', () => {
    expect(d.call('uio_enable', 1)).toBe(4);
    expect(d.call('interrupt_from_another_thread')).toBe(4);
  });

  it('epoll sees the node readable while an interrupt is unread, level- and edge-triggered', () => {
    expect(d.call('uio_epoll', 0)).toBe(0);
    expect(d.call('uio_epoll', 1)).toBe(0);
    expect(d.call('uio_enable', 1)).toBe(4);
    expect(kernel().raiseIrq(nic.irq)).toBe(true); // the line itself, from the host's thread
    expect(d.call('uio_epoll', 0)).toBe(1); // EPOLLIN
    expect(d.call('uio_epoll', 0)).toBe(1); // level: still
    expect(d.call('uio_epoll', 1)).toBe(1);
    expect(d.call('uio_epoll', 1)).toBe(0); // edge: once
    expect(d.call('uio_read', 0)).toBe(5);
    expect(d.call('uio_epoll', 0)).toBe(0);
  });

  it('clearing INTx disable in the command register through config unmasks, as uio_pci_generic (no irqcontrol) has it; setting it masks', () => {
    expect(d.call('uio_enable', 1)).toBe(4);
    d.call('interrupt');
    const first = Number(d.call('uio_read', 0));
    expect(d.call('uio_read', 1)).toBe(first); // both open files have seen every one before it
    d.call('interrupt'); // masked since it fired: held back
    expect(d.call('uio_read', 1)).toBe(-11);
    expect(d.call('intx_enable', s(nic.address), 1)).toBe(0); // unmasked: the held-back interrupt comes
    expect(d.call('uio_read', 0)).toBe(first + 1);
    expect(d.call('intx_enable', s(nic.address), 1)).toBe(0);
    expect(d.call('intx_enable', s(nic.address), 0)).toBe(0); // masked by hand: nothing counts
    d.call('interrupt');
    expect(d.call('uio_poll')).toBe(0);
    expect(d.call('intx_enable', s(nic.address), 1)).toBe(0);
    expect(d.call('uio_read', 0)).toBe(first + 2);
    expect(d.call('uio_read', 1)).toBe(first + 2);
  });

  it('INTx disable is the mask, as Linux\'s uio_pci_generic sets it: set when the interrupt fires, kept by a read-modify-write, cleared by the HOWTO\'s byte write', () => {
    expect(d.call('uio_enable', 1)).toBe(4);
    expect(Number(d.call('command_read', s(nic.address))) & 0x400).toBe(0); // unmasked: clear
    d.call('interrupt');
    const first = Number(d.call('uio_read', 0));
    expect(d.call('uio_read', 1)).toBe(first);
    expect(Number(d.call('command_read', s(nic.address))) & 0x400).toBe(0x400); // fired: masked, the bit set
    expect(d.call('bus_master_on', s(nic.address))).toBe(0); // writes back the bit as read
    d.call('interrupt'); // still masked: held back
    expect(d.call('uio_read', 1)).toBe(-11);
    expect(d.call('intx_unmask_byte', s(nic.address))).toBe(0); // unmasked: the held-back interrupt comes
    expect(d.call('uio_read', 0)).toBe(first + 1);
    expect(d.call('uio_read', 1)).toBe(first + 1);
    expect(d.call('uio_enable', 1)).toBe(4);
    expect(Number(d.call('command_read', s(nic.address))) & 0x404).toBe(0x4); // write(1) cleared it; bus master kept
    expect(d.call('uio_enable', 0)).toBe(4);
    expect(Number(d.call('command_read', s(nic.address))) & 0x400).toBe(0x400); // write(0) set it
    expect(d.call('uio_enable', 1)).toBe(4);
  });

  it('a real device\'s line stays masked from each interrupt until the driver unmasks it, the cause cleared first (no storm); the next open unmasks it', () => {
    irqAcks(nic.irq); // each end of interrupt counted from here, as a real device's unmask would be (INTx disable cleared)
    d.call('interrupt');
    const first = Number(d.call('uio_read', 0)); // and its cause cleared (ICR read)
    expect(d.call('uio_read', 1)).toBe(first);
    expect(irqAcks(nic.irq)).toBe(0); // masked still: a level interrupt does not fire again before
    expect(d.call('uio_enable', 1)).toBe(4);
    expect(irqAcks(nic.irq)).toBe(1);
    d.call('interrupt');
    expect(d.call('uio_read', 0)).toBe(first + 1);
    expect(d.call('uio_read', 1)).toBe(first + 1);
    expect(irqAcks(nic.irq)).toBe(0);
    expect(d.call('intx_enable', s(nic.address), 1)).toBe(0); // uio_pci_generic's users' way
    expect(irqAcks(nic.irq)).toBe(1);
    d.call('interrupt'); // left masked, as a failed driver leaves it...
    expect(d.call('uio_close')).toBe(0);
    bringUp(); // ...which the next open (its restart's) unmasks
    expect(irqAcks(nic.irq, { stop: true })).toBe(1);
  });

  it('VFIO cannot take the interrupt while the node is open (EBUSY), nor the node while VFIO has it', () => {
    expect(d.call('vfio_irq', s(nic.address), nic.index, 0)).toBe(-16);
    expect(d.call('uio_close')).toBe(0);
    expect(d.call('vfio_irq', s(nic.address), nic.index, 1)).toBe(0);
    expect(d.call('open_path', s(`/dev/uio${nic.index}`))).toBe(-16);
    d.call('vfio_release');
    const fd = Number(d.call('open_path', s(`/dev/uio${nic.index}`)));
    expect(fd).toBeGreaterThanOrEqual(3);
    expect(d.call('close_fd', fd)).toBe(0);
  });

  it('a fault releases the node with the rest: the line signals nothing; the driver brought up again counts afresh', () => {
    bringUp();
    if (isolation === 'none') d.recover(); // nothing is trapped under 'none'
    else expect(faultOf(() => d.call('crash')).kind).toBe('segv');
    expect(d.state).toBe('running');
    expect(d.objects().filter((o) => o.type === 'file')).toEqual([]);
    expect(kernel().raiseIrq(nic.irq)).toBe(false); // no node signalled any more, no handler
    bringUp();
    d.call('interrupt');
    expect(d.call('uio_read', 0)).toBe(1);
  });
});
