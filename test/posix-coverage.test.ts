// What third-party userspace drivers use beyond posix-libc's breadth (the
// survey of issue 15: ixy and its kin, UIO and VFIO lab drivers): <err.h>
// and <error.h> messages, write and dprintf to descriptors 1 and 2, stdin at end of file, basename of the IOMMU group
// link (ixy's VFIO way), the <arpa/inet.h> conversions, strtoimax, random,
// clock_nanosleep, explicit_bzero, fread/fwrite refusing a size*n that
// overflows, poll, ppoll, select and pselect over eventfds and files, epoll's EPOLLET and
// EPOLLONESHOT; and what drivers read before they start: the device's
// numa_node, the hugepage pool's nr_hugepages and free_hugepages. Built with -O2 -D_FORTIFY_SOURCE=2, in every isolation mode
// of the default project.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceInfo, Driver, Isolation } from '../lib/index.js';
import { buildDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { faultOf } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-posix-coverage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const source = `
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <error.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <linux/mman.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <nooks/kapi.h>

#define CHECK(cond) (ok |= (cond) ? bit : 0, bit <<= 1)

/* warn, warnx and error without a status: lines on stderr, the driver goes on;
 * descriptors 1 and 2 written directly, as lab drivers do. */
long messages(void)
{
	if (write(2, "raw 2\\n", 6) != 6 || write(fileno(stdout), "raw 1\\n", 6) != 6 || dprintf(STDERR_FILENO, "dprintf %d\\n", 9) != 10)
		return -1;
	errno = ENOENT;
	warn("warned %d", 7);
	warnx("plain %s", "x");
	error(0, EACCES, "error %d", 3);
	error(0, 0, "no errno");
	return 0;
}

/* err, errx and error with a status end the driver as exit does. */
long fatal(int which)
{
	errno = EIO;
	if (which == 0)
		err(4, "fatal %s", "open");
	if (which == 1)
		errx(5, "fatal %s", "plain");
	error(6, ENODEV, "ended");
	return -1;
}

/* stdin: end of file at once, whatever reads it. */
long input(char *buf)
{
	long ok = 0, bit = 1;
	int x = 0;

	CHECK(getchar() == EOF && feof(stdin) && !ferror(stdin));
	CHECK(fgets(buf, 8, stdin) == NULL);
	CHECK(scanf("%d", &x) == EOF && x == 0);
	CHECK(fread(buf, 1, 4, stdin) == 0 && getc(stdin) == EOF);
	CHECK(fileno(stdin) == 0 && read(0, buf, 4) == 0);
	CHECK(fclose(stdin) == 0);
	return ok;
}

/* fread and fwrite of size * n past SIZE_MAX: nothing moved, EOVERFLOW (buf's size is unknown here: no _chk). */
long overflow(const char *addr, char *buf)
{
	long ok = 0, bit = 1;
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", addr);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	errno = 0;
	CHECK(fread(buf, SIZE_MAX / 2 + 2, 2, f) == 0 && errno == EOVERFLOW && ferror(f));
	clearerr(f);
	CHECK(fread(buf, 1, 6, f) == 6 && !memcmp(buf, "0x4e4b", 6));
	errno = 0;
	CHECK(fwrite(buf, SIZE_MAX, 2, f) == 0 && errno == EOVERFLOW);
	errno = 0;
	CHECK(fwrite(buf, 3, SIZE_MAX / 2, stdout) == 0 && errno == EOVERFLOW);
	fclose(f);
	return ok;
}

/* ixy's VFIO way to its group: readlink the iommu_group link, basename, sscanf. */
long iommu_group(const char *addr)
{
	char path[128], link[128];
	int group = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", addr);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = 0;
	if (sscanf(basename(link), "%d", &group) != 1)
		return -1000;
	return group;
}

long paths(void)
{
	long ok = 0, bit = 1;
	char a[] = "/sys/bus/pci/devices/", b[] = "/sys/bus/pci/devices/", c[] = "resource0";

	CHECK(!strcmp(basename(a), "devices") && !strcmp(dirname(b), "/sys/bus/pci"));
	CHECK(!strcmp(basename(c), "resource0") && !strcmp(dirname(c), "."));
	return ok;
}

long addresses(char *text)
{
	long ok = 0, bit = 1;
	struct in_addr a;
	unsigned char v6[16];

	CHECK(inet_pton(AF_INET, "10.0.0.2", &a) == 1 && a.s_addr == htonl(0x0a000002));
	CHECK(inet_pton(AF_INET, "10.0.0.256", &a) == 0 && inet_pton(AF_INET, "010.0.0.1", &a) == 0);
	CHECK(inet_aton("0x7f.1", &a) == 1 && a.s_addr == htonl(0x7f000001) && inet_addr("1.2.3.4") == htonl(0x01020304));
	CHECK(inet_addr("1.2.3.4.5") == INADDR_NONE);
	CHECK(!strcmp(inet_ntoa(a), "127.0.0.1"));
	CHECK(inet_pton(AF_INET6, "fe80::1:0:0:2", v6) == 1 && !strcmp(inet_ntop(AF_INET6, v6, text, INET6_ADDRSTRLEN), "fe80::1:0:0:2"));
	CHECK(inet_pton(AF_INET6, "::ffff:10.0.0.1", v6) == 1 && !strcmp(inet_ntop(AF_INET6, v6, text, INET6_ADDRSTRLEN), "::ffff:10.0.0.1"));
	errno = 0;
	CHECK(inet_ntop(AF_INET, &a, text, 9) == NULL && errno == ENOSPC && inet_pton(AF_UNIX, "x", v6) == -1 && errno == EAFNOSUPPORT);
	return ok;
}

long numbers(void)
{
	long ok = 0, bit = 1;
	char secret[16] = "key", *end;
	struct timespec t0, t1, d = { 0, 5000000 }, bad = { 0, 1000000000 };
	long first;

	CHECK(strtoimax("-0x10z", &end, 0) == -16 && *end == 'z' && strtoumax("18446744073709551615", NULL, 10) == UINTMAX_MAX);
	srandom(3);
	first = random();
	srand(3);
	CHECK(rand() == first);	/* glibc's rand is random */
	explicit_bzero(secret, sizeof(secret));
	CHECK(!secret[0] && !secret[2]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) >= 5000000);
	t1.tv_nsec += 5000000;
	if (t1.tv_nsec >= 1000000000L)
		t1.tv_sec++, t1.tv_nsec -= 1000000000L;
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t1, NULL) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(t0.tv_sec > t1.tv_sec || (t0.tv_sec == t1.tv_sec && t0.tv_nsec >= t1.tv_nsec));
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, NULL) == EINVAL && clock_nanosleep(12345, 0, &d, NULL) == EINVAL);
	/* the CPU clocks: the thread's EINVAL, as Linux; the process's would wait for CPU time: ENOTSUP */
	CHECK(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &d, NULL) == EINVAL && clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &d, NULL) == ENOTSUP);
	return ok;
}

/* poll and ppoll over an eventfd and a sysfs file. */
long poll_semantics(const char *addr)
{
	long ok = 0, bit = 1;
	char path[128];
	int e = eventfd(0, EFD_NONBLOCK), f, gone = eventfd(0, 0);
	struct pollfd p[3], *volatile unsized = p;	/* past its end, unknown to _FORTIFY_SOURCE */
	struct timespec brief = { 0, 20000000 };

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", addr);
	f = open(path, O_RDONLY);
	p[0] = (struct pollfd){ .fd = e, .events = POLLIN };
	CHECK(poll(p, 1, 0) == 0 && p[0].revents == 0);	/* nothing to read */
	CHECK(ppoll(p, 1, &brief, NULL) == 0);	/* a timeout */
	CHECK(eventfd_write(e, 2) == 0 && poll(p, 1, 0) == 1 && p[0].revents == POLLIN);
	p[0].events = POLLIN | POLLOUT;
	p[1] = (struct pollfd){ .fd = f, .events = POLLIN };
	p[2] = (struct pollfd){ .fd = -1, .events = POLLIN };
	CHECK(poll(p, 3, -1) == 2 && p[0].revents == (POLLIN | POLLOUT) && p[1].revents == POLLIN && p[2].revents == 0);
	close(gone);
	p[2].fd = gone;
	CHECK(poll(p + 2, 1, 0) == 1 && p[2].revents == POLLNVAL);	/* not open */
	CHECK(poll(NULL, 0, 10) == 0);	/* a sleep */
	CHECK(poll(unsized, 1025, 0) == -1 && errno == EINVAL);
	close(e);
	close(f);
	return ok;
}

/* select and pselect: the sets as poll answers for their descriptors. */
long select_semantics(const char *addr)
{
	long ok = 0, bit = 1;
	char path[128];
	int e = eventfd(0, EFD_NONBLOCK), f, gone = eventfd(0, 0), top;
	fd_set r, w;
	struct timeval none = { 0, 0 }, nap = { 0, 10000 };
	struct timespec brief = { 0, 20000000 };

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", addr);
	f = open(path, O_RDONLY);
	top = (e > f ? e : f) + 1;
	FD_ZERO(&r);
	FD_SET(e, &r);
	CHECK(select(top, &r, NULL, NULL, &none) == 0 && !FD_ISSET(e, &r));	/* nothing to read */
	FD_SET(e, &r);
	CHECK(pselect(top, &r, NULL, NULL, &brief, NULL) == 0);	/* a timeout */
	FD_SET(e, &r);
	FD_SET(f, &r);
	FD_ZERO(&w);
	FD_SET(e, &w);
	CHECK(eventfd_write(e, 1) == 0 && select(top, &r, &w, NULL, NULL) == 3 && FD_ISSET(e, &r) && FD_ISSET(f, &r) && FD_ISSET(e, &w));
	close(gone);
	FD_ZERO(&r);
	FD_SET(gone, &r);
	CHECK(select(gone + 1, &r, NULL, NULL, &none) == -1 && errno == EBADF);	/* not open */
	CHECK(select(0, NULL, NULL, NULL, &nap) == 0);	/* a sleep */
	CHECK(select(FD_SETSIZE + 1, NULL, NULL, NULL, &none) == -1 && errno == EINVAL);
	close(e);
	close(f);
	return ok;
}

/* epoll's edge-triggered and one-shot watches, beside a level-triggered one. */
long edge_semantics(void)
{
	long ok = 0, bit = 1;
	int e = eventfd(0, EFD_NONBLOCK), edge = epoll_create1(0), level = epoll_create1(0), once = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = 1 }, got[2];
	uint64_t v;

	CHECK(epoll_ctl(edge, EPOLL_CTL_ADD, e, &ev) == 0 && epoll_wait(edge, got, 2, 0) == 0);
	ev.events = EPOLLIN;
	CHECK(epoll_ctl(level, EPOLL_CTL_ADD, e, &ev) == 0);
	ev.events = EPOLLIN | EPOLLONESHOT;
	CHECK(epoll_ctl(once, EPOLL_CTL_ADD, e, &ev) == 0);
	CHECK(eventfd_write(e, 1) == 0 && epoll_wait(edge, got, 2, 0) == 1 && got[0].events == EPOLLIN);
	CHECK(epoll_wait(edge, got, 2, 0) == 0 && epoll_wait(level, got, 2, 0) == 1);	/* still readable: no new edge */
	CHECK(eventfd_write(e, 1) == 0 && epoll_wait(edge, got, 2, 0) == 1);	/* each write an edge */
	CHECK(epoll_wait(once, got, 2, 0) == 1 && epoll_wait(once, got, 2, 0) == 0 && eventfd_write(e, 1) == 0 && epoll_wait(once, got, 2, 0) == 0);
	CHECK(epoll_ctl(once, EPOLL_CTL_MOD, e, &ev) == 0 && epoll_wait(once, got, 2, 0) == 1);	/* armed again */
	CHECK(eventfd_read(e, &v) == 0 && v == 3 && epoll_wait(edge, got, 2, 0) == 0 && epoll_wait(level, got, 2, 0) == 0);
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	CHECK(epoll_ctl(level, EPOLL_CTL_MOD, e, &ev) == -1 && errno == EINVAL);
	close(e);
	close(edge);
	close(level);
	close(once);
	return ok;
}

/* A number a sysfs file holds, as drivers read it; -errno when it cannot be opened. */
long sysfs_number(const char *path, const char *mode)
{
	FILE *f = fopen(path, mode);
	long v = -1000;

	if (!f)
		return -errno;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1001;
	fclose(f);
	return v;
}

/* One 2 MiB page of hugetlbfs held by a descriptor (release_page lets it go). */
long hold_page(void)
{
	int fd = open("/mnt/huge/pool-probe", O_CREAT | O_RDWR, 0600);

	if (fd < 0 || ftruncate(fd, 2 << 20))
		return -errno;
	return fd;
}

long release_page(int fd)
{
	unlink("/mnt/huge/pool-probe");
	return close(fd);
}

/* Maps 2 MiB hugepages until there are none: how many it got, then unmaps them; -errno if not ENOMEM. */
long map_every_hugepage(void)
{
	void *pages[256];
	long n = 0, err;

	while (n < 256 && (pages[n] = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0)) != MAP_FAILED)
		n++;
	err = errno;
	for (long i = 0; i < n; i++)
		munmap(pages[i], 2 << 20);
	return err == ENOMEM ? n : -err;
}

/* The steps lab drivers take as they are written: stat of the device's
 * directory (ixy, with its trailing slash), resource0 opened O_SYNC and
 * mapped, a private anonymous MAP_HUGETLB | MAP_HUGE_2MB page found in pagemap. */
long lab_steps(const char *addr)
{
	long ok = 0, bit = 1;
	char path[128];
	struct stat st;
	int fd, pm;
	void *bar, *dma;
	uint64_t entry = 0;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/", addr);
	CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0", addr);
	fd = open(path, O_RDWR | O_SYNC);
	bar = fd < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(bar != MAP_FAILED && close(fd) == 0 && munmap(bar, 4096) == 0);
	dma = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB, -1, 0);
	pm = open("/proc/self/pagemap", O_RDONLY);
	CHECK(dma != MAP_FAILED && pm >= 0 && pread(pm, &entry, 8, (off_t)((uintptr_t)dma / 4096 * 8)) == 8 && (entry >> 63));
	close(pm);
	munmap(dma, 2 << 20);
	return ok;
}

/* What compilers make of plain C without a libc call in sight: libgcc's helpers. */
long compiler_helpers(unsigned long long bits, unsigned long long hi, long divisor)
{
	unsigned __int128 wide = ((unsigned __int128)hi << 64) | bits;
	__int128 negative = -(__int128)wide;

	return __builtin_popcountll(bits) * 1000 + (long)(wide / (unsigned long)divisor % 1000) + (long)(negative / divisor % 10) * 100000;
}

/* A kernel worker writes the eventfd while this thread waits in poll: it wakes at once. */
static struct work_struct writer;
static int woken;
static void write_later(struct work_struct *w)
{
	(void)w;
	eventfd_write(woken, 5);
}
long poll_woken(void)
{
	struct pollfd p;
	uint64_t v = 0;

	woken = eventfd(0, 0);
	p = (struct pollfd){ .fd = woken, .events = POLLIN };
	INIT_WORK(&writer, write_later);
	schedule_work(&writer);
	if (poll(&p, 1, 3000) != 1 || p.revents != POLLIN || eventfd_read(woken, &v))
		return -1;
	close(woken);
	return (long)v;
}
`;

let drv: string;
let drvCopy: string; // the same driver under another name, to load a second one beside it
beforeAll(() => {
  drv = buildDriver(dir, 'libccoverage', source, { posix: true, extraCflags: ['-O2', '-D_FORTIFY_SOURCE=2'] });
  drvCopy = join(dir, 'libccoverage2.so');
  copyFileSync(drv, drvCopy);
}, 120_000);

it('the names these calls compile to are the personality\'s, bound inside the image', () => {
  const imports = execFileSync('nm', ['-D', '--undefined-only', drv], { encoding: 'utf8' });
  expect(imports).not.toMatch(/\b(err|warn|error|__xpg_basename|inet_pton|poll|ppoll|stdin|random|strtoimax|clock_nanosleep|__popcountdi2|__divti3|__udivmodti4)\b/);
  const defined = execFileSync('nm', [drv], { encoding: 'utf8' });
  for (const name of ['err', 'errx', 'warn', 'warnx', 'error', '__xpg_basename', 'dirname', 'inet_pton', 'inet_ntop', 'inet_aton', 'poll', 'ppoll', 'select', 'pselect', '__fdelt_chk', 'getchar', '__popcountdi2', '__divti3']) {
    expect(defined).toMatch(new RegExp(` t ${name}$`, 'm'));
  }
});

describe.each<Isolation>(['mprotect', 'process', 'none'])('what third-party userspace drivers use, isolation \'%s\'', (isolation) => {
  const kernel = kernelPerBlock({ isolation, policy: { default: { maxFailures: 20 } } });
  let d: Driver;
  let nic: DeviceInfo;
  let buf: number;
  const s = (text: string) => d.cstring(text);
  const lines = (from: number) => kernel().log().slice(from).filter((l) => l.source === d.name).map((l) => l.text);

  beforeAll(async () => {
    nic = kernel().addDevice('testdev');
    d = await kernel().load(drv, { devices: [nic.address] });
    buf = d.alloc(256);
  });

  it('warn, warnx and error write one stderr line each, with strerror where glibc puts it; write and dprintf to 1 and 2 are stdout and stderr', () => {
    const from = kernel().log().length;
    expect(d.call('messages')).toBe(0);
    expect(lines(from)).toEqual(['raw 2', 'raw 1', 'dprintf 9', 'warned 7: No such file or directory', 'plain x', 'error 3: Permission denied', 'no errno']);
    const levels = kernel().log().slice(from).filter((l) => l.source === d.name).map((l) => l.level);
    expect(levels[0]).toBeLessThan(levels[1]); // stderr at err (3), stdout at info (6)
  });

  // exit is not contained under 'none' (the process would end)
  if (isolation !== 'none') {
    it('err, errx and error with a status: the message, then a contained exit', () => {
      for (const [which, status, line] of [[0, 4, 'fatal open: Input/output error'], [1, 5, 'fatal plain'], [2, 6, 'ended: No such device']] as const) {
        const from = kernel().log().length;
        expect(faultOf(() => d.call('fatal', which))).toMatchObject({ kind: 'exit', message: `${d.name}: exit(${status})` });
        expect(lines(from)).toContain(line);
        expect(d.state).toBe('running');
      }
      buf = d.alloc(256);
    });
  }

  it('stdin is at end of file: getchar, fgets, scanf, fread, getc', () => {
    expect(Number(d.call('input', buf)).toString(2)).toBe('1'.repeat(6)); // each bit one check
  });

  it('fread and fwrite refuse a size * n that overflows (EOVERFLOW, nothing moved)', () => {
    expect(Number(d.call('overflow', s(nic.address), buf)).toString(2)).toBe('1'.repeat(4));
  });

  it('basename of the iommu_group link gives the group, as ixy finds it; dirname', () => {
    expect(d.call('iommu_group', s(nic.address))).toBe(nic.index);
    expect(Number(d.call('paths')).toString(2)).toBe('11');
  });

  it('inet_pton, inet_ntop, inet_aton, inet_addr, inet_ntoa', () => {
    expect(Number(d.call('addresses', buf)).toString(2)).toBe('1'.repeat(8));
  });

  it('strtoimax, strtoumax, random as rand, explicit_bzero, clock_nanosleep relative and absolute, not on the CPU clocks', () => {
    expect(Number(d.call('numbers')).toString(2)).toBe('1'.repeat(9));
  });

  it('poll and ppoll: an eventfd by its count, a sysfs file always ready, POLLNVAL, a timeout, a sleep', () => {
    expect(Number(d.call('poll_semantics', s(nic.address))).toString(2)).toBe('1'.repeat(7));
  });

  it('select and pselect: an eventfd readable by its count and writable, a sysfs file readable, EBADF, timeouts', () => {
    expect(Number(d.call('select_semantics', s(nic.address))).toString(2)).toBe('1'.repeat(6));
  });

  it('epoll: EPOLLET reports each write once, EPOLLONESHOT once until EPOLL_CTL_MOD', () => {
    expect(Number(d.call('edge_semantics')).toString(2)).toBe('1'.repeat(10));
  });

  it('numa_node of an emulated device is -1; the hugepage pool is the DMA memory in 2 MiB pages, free ones counted', () => {
    const pool = '/sys/kernel/mm/hugepages/hugepages-2048kB';
    expect(d.call('sysfs_number', s(`/sys/bus/pci/devices/${nic.address}/numa_node`), s('r'))).toBe(-1);
    const total = Number(d.call('sysfs_number', s(`${pool}/nr_hugepages`), s('r')));
    const free = Number(d.call('sysfs_number', s(`${pool}/free_hugepages`), s('r')));
    expect(total).toBe(8); // dmaBytes by default, 16 MiB
    expect(free).toBeGreaterThan(0);
    expect(free).toBeLessThanOrEqual(total);
    const fd = Number(d.call('hold_page'));
    expect(fd).toBeGreaterThanOrEqual(3);
    expect(d.call('sysfs_number', s(`${pool}/free_hugepages`), s('r'))).toBe(free - 1);
    expect(d.call('release_page', fd)).toBe(0);
    expect(d.call('sysfs_number', s(`${pool}/free_hugepages`), s('r'))).toBe(free);
    expect(d.call('sysfs_number', s(`${pool}/nr_hugepages`), s('w'))).toBe(-13); // the pool is not the driver's to resize
    expect(d.call('sysfs_number', s(`${pool}/resv_hugepages`), s('r'))).toBe(-2);
  });

  it('the hugepage pool used up: ENOMEM, and the log says it is the DMA memory, not memLimitBytes, that ran out', () => {
    const free = Number(d.call('sysfs_number', s('/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages'), s('r')));
    const before = kernel().log().length;
    expect(d.call('map_every_hugepage')).toBe(free);
    expect(kernel().log().slice(before).map((l) => l.text)).toContainEqual(expect.stringMatching(
      /: mmap hugepages of 2097152 bytes failed: its DMA memory \(16 MiB, \d+ bytes of it free; the load option dmaBytes\) is used up$/));
  });

  it('the load option dmaBytes sizes the DMA memory: 64 MiB are 32 hugepages', async () => {
    const big = await kernel().load(drvCopy, { dmaBytes: 64 << 20 });
    try {
      expect(big.call('sysfs_number', big.cstring('/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages'), big.cstring('r'))).toBe(32);
      expect(big.call('map_every_hugepage')).toBe(32);
    } finally {
      big.unload();
    }
  });

  it('lab drivers\' steps: stat of the device directory, resource0 opened O_SYNC, a private MAP_HUGETLB | MAP_HUGE_2MB page in pagemap', () => {
    expect(Number(d.call('lab_steps', s(nic.address))).toString(2)).toBe('111');
  });

  it('the compiler\'s helpers (__popcountdi2, 128-bit division) are linked in from libgcc', () => {
    const bits = 0xf0f0_0000_0000_00ffn, hi = 5n;
    const wide = (hi << 64n) | bits;
    const neg = -wide; // C's division truncates toward zero, as BigInt's
    const divisor = 1000000007n;
    expect(d.call('compiler_helpers', bits, hi, divisor)).toBe(16 * 1000 + Number(wide / divisor % 1000n) + Number(neg / divisor % 10n) * 100000);
  });

  it('a poll that waits wakes when a kernel worker writes the eventfd', () => {
    expect(d.call('poll_woken')).toBe(5);
  });
});
