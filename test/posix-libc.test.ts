// What third-party userspace drivers use beyond files and printf
// (docs/drivers.md, the POSIX personality): FILE streams over the view's
// files (sysfs attributes read with fgets/fscanf and written with fprintf, as
// ixy and its kin do), the scanf family, strtod, strtok & co., qsort, rand, pthread
// locks, getpagesize. The driver is built with -O2 -D_FORTIFY_SOURCE=2
// -D_FILE_OFFSET_BITS=64, so that it imports the names compilers emit
// (fopen64, __isoc99_fscanf, __fprintf_chk ...). In every isolation mode of
// the default project.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceInfo, Driver, Isolation } from '../lib/index.js';
import { buildDriver } from './helpers/build-driver.js';
import { stringAt } from './helpers/data.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { faultOf } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-posix-libc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const source = `
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <nooks/kapi.h>

static char path[256];
static const char *sysfs(const char *addr, const char *attr)
{
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", addr, attr);
	return path;
}

/* The first line of an attribute, by fgets (into out), or -errno. */
long attr_line(const char *addr, const char *attr, char *out, int size)
{
	FILE *f = fopen(sysfs(addr, attr), "r");

	if (!f)
		return -errno;
	if (!fgets(out, size, f))
		out[0] = 0;
	fclose(f);
	return (long)strlen(out);
}

/* An id the common way: fscanf "0x%x" from vendor or device. */
long attr_hex(const char *addr, const char *attr)
{
	FILE *f = fopen(sysfs(addr, attr), "r");
	unsigned int v = 0;
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "0x%x", &v);
	fclose(f);
	return n == 1 ? (long)v : -1000 - n;
}

/* fgets and fread into a buffer of known size with a count that is not
 * constant: _FORTIFY_SOURCE makes them __fgets_chk and __fread_chk. */
long fortified_reads(const char *addr, int n)
{
	FILE *f = fopen(sysfs(addr, "vendor"), "r");
	char line[8], raw[8];
	long r;

	if (!f)
		return -errno;
	r = fgets(line, n, f) ? (long)strlen(line) : -1;
	rewind(f);
	r = r * 100 + (long)fread(raw, 1, (size_t)n, f);
	fclose(f);
	return r;
}

/* The lines of 'resource' (start, end, flags of each), by fscanf until EOF: the count. */
long resource_lines(const char *addr, unsigned long long *out)
{
	FILE *f = fopen(sysfs(addr, "resource"), "re");
	unsigned long long start, end, flags;
	long n = 0;

	if (!f)
		return -errno;
	while (fscanf(f, "%llx %llx %llx", &start, &end, &flags) == 3) {
		if (n < 7) {
			out[3 * n] = start;
			out[3 * n + 1] = end;
			out[3 * n + 2] = flags;
		}
		n++;
	}
	n = feof(f) && !ferror(f) ? n : -1;
	fclose(f);
	return n;
}

/* getline over 'resource': lines * 1000 + the length of the last. */
long resource_getline(const char *addr)
{
	FILE *f = fopen(sysfs(addr, "resource"), "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len, last = 0;
	long lines = 0;

	if (!f)
		return -errno;
	while ((len = getline(&line, &cap, f)) > 0) {
		lines++;
		last = len;
	}
	free(line);
	fclose(f);
	return lines * 1000 + last;
}

/* Configuration space by fread, fseek, ftell, rewind, fgetc: each bit one check. */
long config_stream(const char *addr)
{
	FILE *f = fopen(sysfs(addr, "config"), "rb");
	uint8_t cfg[256], more[8];
	long ok = 0, bit = 1;
	uint16_t vendor;

	if (!f)
		return -errno;
	ok |= (fread(cfg, 1, sizeof(cfg), f) == 256) ? bit : 0, bit <<= 1;
	memcpy(&vendor, cfg, 2);
	ok |= (vendor == 0x4e4b) ? bit : 0, bit <<= 1;
	ok |= (fread(more, 1, sizeof(more), f) == 0 && feof(f) && !ferror(f)) ? bit : 0, bit <<= 1;
	ok |= (ftell(f) == 256) ? bit : 0, bit <<= 1;
	ok |= (fseek(f, 2, SEEK_SET) == 0 && !feof(f) && ftell(f) == 2) ? bit : 0, bit <<= 1;
	ok |= (fgetc(f) == cfg[2] && getc(f) == cfg[3] && ftell(f) == 4) ? bit : 0, bit <<= 1;
	ok |= (fseek(f, -2, SEEK_CUR) == 0 && fgetc(f) == cfg[2]) ? bit : 0, bit <<= 1;
	ok |= (ungetc(0x5a, f) == 0x5a && ftell(f) == 2 && fgetc(f) == 0x5a && ftell(f) == 3) ? bit : 0, bit <<= 1;
	ok |= (fread(more, 2, 4, f) == 4 && !memcmp(more, cfg + 3, 8)) ? bit : 0, bit <<= 1;
	rewind(f);
	ok |= (ftell(f) == 0 && fgetc(f) == 0x4b) ? bit : 0, bit <<= 1;
	ok |= (fileno(f) >= 3 && fputc('x', f) == EOF && ferror(f)) ? bit : 0, bit <<= 1;
	clearerr(f);
	ok |= (!ferror(f) && !feof(f)) ? bit : 0, bit <<= 1;
	fseek(f, 0, SEEK_END);
	ok |= (fgetc(f) == EOF && feof(f) && ungetc('x', f) == 'x' && !feof(f) && fgetc(f) == 'x') ? bit : 0, bit <<= 1;	/* at the end */
	ok |= (fclose(f) == 0) ? bit : 0, bit <<= 1;
	return ok;
}

/* Writing an attribute with fprintf: fully buffered, it reaches the file at
 * fflush (or fclose) in one write; unbuffered (setvbuf _IONBF) at once.
 * 'enable' is read back by a second stream meanwhile: each bit one check. */
long enable_by_fprintf(const char *addr)
{
	char seen[8];
	long ok = 0, bit = 1;
	FILE *f = fopen(sysfs(addr, "enable"), "w");

	if (!f)
		return -errno;
	ok |= (fprintf(f, "%d\\n", 1) == 2) ? bit : 0, bit <<= 1;
	attr_line(addr, "enable", seen, sizeof(seen));
	ok |= (!strcmp(seen, "0\\n")) ? bit : 0, bit <<= 1;	/* still in the buffer */
	ok |= (fflush(f) == 0) ? bit : 0, bit <<= 1;
	attr_line(addr, "enable", seen, sizeof(seen));
	ok |= (!strcmp(seen, "1\\n")) ? bit : 0, bit <<= 1;
	ok |= (setvbuf(f, NULL, _IONBF, 0) == 0 && fputs("0", f) >= 0) ? bit : 0, bit <<= 1;
	attr_line(addr, "enable", seen, sizeof(seen));
	ok |= (!strcmp(seen, "0\\n")) ? bit : 0, bit <<= 1;
	ok |= (fwrite("7", 1, 1, f) == 0 && ferror(f) && errno == EINVAL) ? bit : 0, bit <<= 1;	/* the attribute's refusal */
	fclose(f);
	return ok;
}

/* As ixy unbinds: fdopen the descriptor of driver/unbind and fputs the address. */
long unbind_by_fdopen(const char *addr)
{
	int fd = open(sysfs(addr, "driver/unbind"), O_WRONLY), rd = open(sysfs(addr, "vendor"), O_RDONLY);
	FILE *f, *g;
	long r;

	if (fd < 0 || rd < 0)
		return -errno;
	g = fdopen(rd, "w");
	r = (!g && errno == EINVAL) ? 0 : -100;	/* a read-only descriptor cannot be written */
	close(rd);
	f = fdopen(fd, "w");
	if (!f)
		return -errno;
	fputs(addr, f);
	return r + fclose(f);
}

/* Unbinds by a buffered fputs, then exits: exit writes what the stream holds. */
long unbind_then_exit(const char *addr)
{
	FILE *f = fopen(sysfs(addr, "driver/unbind"), "w");

	if (!f)
		return -errno;
	fputs(addr, f);
	exit(3);
}

/* Left for the unload to write, as a program's end leaves them to glibc's exit: an unfinished stdout line, an unbind by a buffered fputs. */
long left_unwritten(const char *addr)
{
	FILE *f = fopen(sysfs(addr, "driver/unbind"), "w");

	if (!f)
		return -errno;
	fputs(addr, f);
	printf("last words, no newline");
	return 0;
}

/* fopen's refusals: -errno. */
long fopen_errno(const char *name, const char *mode)
{
	FILE *f = fopen(name, mode);

	if (f) {
		fclose(f);
		return 0;
	}
	return -errno;
}

static FILE *kept;
long keep_open(const char *addr)
{
	kept = fopen(sysfs(addr, "vendor"), "r");
	return kept ? fileno(kept) : -errno;
}

long close_kept(void)
{
	return fclose(kept);
}

/* The scanf family on strings: a PCI address, a key=value line, %[ and %n. */
long parse_address(const char *addr, unsigned int *out)
{
	return sscanf(addr, "%x:%x:%x.%x", &out[0], &out[1], &out[2], &out[3]);
}

long parse_line(const char *line, char *key, long *value)
{
	int used = 0, n = sscanf(line, " %31[a-z_] = %li%n", key, value, &used);

	return n == 2 ? used : -n;
}

/* strtok, strtok_r, strsep, memmem, qsort, bsearch, abs, rand_r: each bit one check. */
static int by_value(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

long misc(void)
{
	char list[] = "eth0, eth1 ,,eth2", pairs[] = "a=1;b=2", *save, *p = pairs, *t;
	int v[] = { 5, -3, 9, 0, 7, 7, -8 }, key = 7;
	unsigned int seed = 1;
	long ok = 0, bit = 1;
	int count = 0;

	for (t = strtok(list, ", "); t; t = strtok(NULL, ", "))
		count++;
	ok |= (count == 3) ? bit : 0, bit <<= 1;
	ok |= (!strcmp(strtok_r(p, "=;", &save), "a") && !strcmp(strtok_r(NULL, "=;", &save), "1")) ? bit : 0, bit <<= 1;
	strcpy(pairs, "x,,y");
	p = pairs;
	ok |= (!strcmp(strsep(&p, ","), "x") && !strcmp(strsep(&p, ","), "") && !strcmp(strsep(&p, ","), "y") && !p) ? bit : 0, bit <<= 1;
	ok |= (memmem("\\x00\\x1b\\x21\\x00", 4, "\\x21", 1) != NULL) ? bit : 0, bit <<= 1;
	qsort(v, 7, sizeof(v[0]), by_value);
	ok |= (v[0] == -8 && v[1] == -3 && v[6] == 9) ? bit : 0, bit <<= 1;
	ok |= (*(int *)bsearch(&key, v, 7, sizeof(v[0]), by_value) == 7) ? bit : 0, bit <<= 1;
	ok |= (abs(-4) == 4 && labs(-5L) == 5 && llabs(-6LL) == 6) ? bit : 0, bit <<= 1;
	ok |= (rand_r(&seed) == 476707713 && seed == 662824084u) ? bit : 0, bit <<= 1;	/* glibc's first rand_r from 1 */
	srand(1);
	ok |= (rand() == 1804289383 && rand() == 846930886) ? bit : 0, bit <<= 1;	/* glibc's rand after srand(1) */
	ok |= (getpagesize() == 4096 && !isatty(0) && errno == ENOTTY && sched_yield() == 0) ? bit : 0, bit <<= 1;
	/* the functions, not <arpa/inet.h>'s inline swaps */
	{
		volatile size_t many = (size_t)1 << 62;	/* not constant: the compiler would refuse the overflow itself */
		void *a = memalign(64, 100), *v = valloc(10), *r = reallocarray(NULL, 4, 8), *huge = reallocarray(NULL, many, 8);

		ok |= (a && (uintptr_t)a % 64 == 0 && v && (uintptr_t)v % 4096 == 0 && r && !huge && errno == ENOMEM) ? bit : 0, bit <<= 1;
		free(a);
		free(v);
		free(r);
	}
	ok |= ((htons)(0x1234) == 0x3412 && (ntohl)(0x12345678) == 0x78563412 && (htonl)(1) == 0x01000000 && (ntohs)(0xff00) == 0xff) ? bit : 0, bit <<= 1;
	return ok;
}

/* vasprintf through a caller's va_list, as a driver's log helper formats. */
static int vformat(char **out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(out, fmt, ap);
	va_end(ap);
	return n;
}

/* asprintf and vasprintf (__asprintf_chk, __vasprintf_chk under _FORTIFY_SOURCE): each bit one check. */
long allocated_text(void)
{
	char *s = NULL, *l = NULL, big[600];
	volatile int widest = 2147483647;	/* not constant: the compiler would refuse the overflow itself */
	int (*volatile unfortified)(char **, const char *, ...) = asprintf;	/* the function, not __asprintf_chk */
	long ok = 0, bit = 1;

	ok |= (unfortified(&s, "%s-%04x", "eth", 42) == 8 && !strcmp(s, "eth-002a")) ? bit : 0, bit <<= 1;
	free(s);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	ok |= (vformat(&l, "<%s>", big) == 601 && strlen(l) == 601 && l[600] == '>') ? bit : 0, bit <<= 1;
	free(l);
	ok |= (asprintf(&s, "%s", "") == 0 && s && !*s) ? bit : 0, bit <<= 1;
	free(s);
	errno = 0;
	ok |= (asprintf(&s, "%*d%d", widest, 1, 2) == -1 && errno == EOVERFLOW) ? bit : 0, bit <<= 1;
	return ok;
}

/* pthread locks: each bit one check. */
static pthread_mutex_t plain = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t nested = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_spinlock_t spin;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int inits;

static void init_once(void)
{
	inits++;
}

long locks(void)
{
	pthread_mutexattr_t attr;
	pthread_mutex_t checked;
	long ok = 0, bit = 1;

	ok |= (pthread_mutex_lock(&plain) == 0 && pthread_mutex_trylock(&plain) == EBUSY && pthread_mutex_unlock(&plain) == 0) ? bit : 0, bit <<= 1;
	ok |= (pthread_mutex_trylock(&plain) == 0 && pthread_mutex_destroy(&plain) == EBUSY && pthread_mutex_unlock(&plain) == 0) ? bit : 0, bit <<= 1;
	ok |= (pthread_mutex_lock(&nested) == 0 && pthread_mutex_lock(&nested) == 0 && pthread_mutex_trylock(&nested) == 0) ? bit : 0, bit <<= 1;
	ok |= (pthread_mutex_unlock(&nested) == 0 && pthread_mutex_unlock(&nested) == 0 && pthread_mutex_unlock(&nested) == 0) ? bit : 0, bit <<= 1;
	ok |= (pthread_mutex_unlock(&nested) == EPERM) ? bit : 0, bit <<= 1;
	pthread_mutexattr_init(&attr);
	ok |= (pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK) == 0 && pthread_mutex_init(&checked, &attr) == 0) ? bit : 0, bit <<= 1;
	ok |= (pthread_mutex_lock(&checked) == 0 && pthread_mutex_lock(&checked) == EDEADLK && pthread_mutex_unlock(&checked) == 0) ? bit : 0, bit <<= 1;
	ok |= (pthread_mutex_unlock(&checked) == EPERM && pthread_mutex_destroy(&checked) == 0) ? bit : 0, bit <<= 1;
	pthread_mutexattr_destroy(&attr);
	ok |= (pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE) == 0 && pthread_spin_lock(&spin) == 0 && pthread_spin_trylock(&spin) == EBUSY) ? bit : 0, bit <<= 1;
	ok |= (pthread_spin_unlock(&spin) == 0 && pthread_spin_trylock(&spin) == 0 && pthread_spin_unlock(&spin) == 0) ? bit : 0, bit <<= 1;
	ok |= (pthread_once(&once, init_once) == 0 && pthread_once(&once, init_once) == 0 && inits == 1) ? bit : 0, bit <<= 1;
	return ok;
}

/* Holds the plain mutex until release(): the kernel tracks it. */
long hold(void)
{
	return pthread_mutex_lock(&plain);
}

long release(void)
{
	return pthread_mutex_unlock(&plain);
}

/* Another thread (a work item) against a recursive mutex this thread holds:
 * its trylock is EBUSY (a hold of another thread is no recursion), its lock
 * waits until this thread lets go. Progress, not time, orders the steps. */
static pthread_mutex_t shared = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static struct work_struct contender;
static volatile int tried = -1, got;

static void contend(struct work_struct *w)
{
	(void)w;
	tried = pthread_mutex_trylock(&shared);
	pthread_mutex_lock(&shared);
	got = 1;
	pthread_mutex_unlock(&shared);
}

long contention(void)
{
	long ok = 0, bit = 1;
	int i;

	pthread_mutex_lock(&shared);
	INIT_WORK(&contender, contend);
	schedule_work(&contender);
	for (i = 0; tried < 0 && i < 5000; i++)
		usleep(1000);
	ok |= (tried == EBUSY && !got) ? bit : 0, bit <<= 1;
	ok |= (pthread_mutex_lock(&shared) == 0 && pthread_mutex_unlock(&shared) == 0 && !got) ? bit : 0, bit <<= 1;	/* still held once */
	pthread_mutex_unlock(&shared);
	for (i = 0; !got && i < 5000; i++)
		usleep(1000);
	ok |= got ? bit : 0, bit <<= 1;
	return ok;
}

long lock_twice(void)
{
	pthread_mutex_lock(&plain);
	return pthread_mutex_lock(&plain);
}

/* Floating point: sscanf %f %lf, strtod, strtof, atof; each bit one check. */
long floats(void)
{
	float f = 0;
	double d = 0, big;
	char *end;
	long ok = 0, bit = 1;

	ok |= (sscanf("rate=0.1 gain=-2.5e3", "rate=%f gain=%lf", &f, &d) == 2 && f == 0.1f && d == -2500.0) ? bit : 0, bit <<= 1;
	ok |= (strtod("0.1x", &end) == 0.1 && *end == 'x' && atof("1e23") == 1e23 && strtof("3.4e38", NULL) == 3.4e38f) ? bit : 0, bit <<= 1;
	errno = 0;
	big = strtod("1e999", NULL);
	ok |= (big > 1.7976931348623157e308 && errno == ERANGE) ? bit : 0, bit <<= 1;
	return ok;
}

volatile long *volatile nowhere = (long *)16;
long crash(void)
{
	return *nowhere;
}
`;

let drv: string;
beforeAll(() => {
  drv = buildDriver(dir, 'libcbreadth', source, { posix: true, extraCflags: ['-O2', '-D_FORTIFY_SOURCE=2', '-D_FILE_OFFSET_BITS=64'] });
}, 120_000);

it('the driver imports the names compilers emit for these calls, and the personality defines them', () => {
  const imports = execFileSync('nm', ['-D', '--undefined-only', drv], { encoding: 'utf8' });
  expect(imports).not.toMatch(/\b(fopen64|__isoc99_fscanf|__isoc99_sscanf|pthread_mutex_lock|getline)\b/); // bound inside the image
  const defined = execFileSync('nm', [drv], { encoding: 'utf8' });
  for (const name of ['fopen64', '__fgets_chk', '__fread_chk', '__isoc99_fscanf', '__isoc99_sscanf', '__fprintf_chk', 'asprintf', '__asprintf_chk', '__vasprintf_chk', 'fdopen', 'getline', 'qsort', 'pthread_mutex_lock', 'strtok']) {
    expect(defined).toMatch(new RegExp(` t ${name}$`, 'm'));
  }
});

describe.each<Isolation>(['mprotect', 'process', 'none'])("the POSIX personality's C library breadth, isolation '%s'", (isolation) => {
  const kernel = kernelPerBlock({ isolation, policy: { default: { maxFailures: 20 } } });
  let d: Driver;
  let nic: DeviceInfo;
  let buf: number;
  const s = (text: string) => d.cstring(text);

  beforeAll(async () => {
    nic = kernel().addDevice('testdev');
    d = await kernel().load(drv, { devices: [nic.address] });
    buf = d.alloc(512);
  });

  it('fgets and fscanf read sysfs attributes as drivers read them', () => {
    expect(d.call('attr_line', s(nic.address), s('vendor'), buf, 512)).toBe(7);
    expect(stringAt(d, buf, 512)).toBe('0x4e4b\n');
    expect(d.call('attr_hex', s(nic.address), s('vendor'))).toBe(0x4e4b);
    expect(d.call('attr_hex', s(nic.address), s('device'))).toBe(0x0001);
    expect(d.call('attr_line', s(nic.address), s('vendor'), buf, 4)).toBe(3); // fgets stops at size - 1
    const out = d.alloc(7 * 3 * 8);
    expect(d.call('resource_lines', s(nic.address), out)).toBe(7);
    const words = [0, 1, 2, 3].map((i) => d.read(out + i * 8, 8).readBigUInt64LE(0));
    const bar0 = BigInt(0xc0000000 + nic.index * 0x1000000);
    expect(words).toEqual([bar0, bar0 + 0xfffn, 0x40200n, 0n]);
    expect(d.call('resource_getline', s(nic.address))).toBe(7 * 1000 + 57);
  });

  it('_FORTIFY_SOURCE\'s fgets and fread: checked against the buffer, an overflow ends the driver as glibc ends it', () => {
    expect(d.call('fortified_reads', s(nic.address), 8)).toBe(7 * 100 + 7);
    if (isolation === 'none') return; // nothing is contained under 'none'
    expect(faultOf(() => d.call('fortified_reads', s(nic.address), 9))).toMatchObject({
      kind: 'abort', message: `${d.name}: *** buffer overflow detected ***: terminated`,
    });
    buf = d.alloc(512);
  });

  it('fread, fseek, ftell, rewind, fgetc, ungetc, feof, ferror, clearerr, fileno on configuration space', () => {
    expect(Number(d.call('config_stream', s(nic.address))).toString(2)).toBe('1'.repeat(14)); // each bit one check
  });

  it('fprintf to an attribute: buffered until fflush, at once when unbuffered; the write\'s error reaches ferror', () => {
    expect(Number(d.call('enable_by_fprintf', s(nic.address))).toString(2)).toBe('1'.repeat(7));
  });

  it('fdopen: driver/unbind written as ixy writes it; a mode the descriptor does not allow is EINVAL', () => {
    const from = kernel().log().length;
    expect(d.call('unbind_by_fdopen', s(nic.address))).toBe(0);
    expect(kernel().log().slice(from).some((l) => l.source === d.name && l.text.includes('unbind'))).toBe(true);
    expect(kernel().devices()[0].driver).toBe(d.name);
  });

  // exit is not contained under 'none' (the process would end): this one exists only where it is
  if (isolation !== 'none') {
    it('exit writes what the streams hold before the driver ends', () => {
      const from = kernel().log().length;
      expect(faultOf(() => d.call('unbind_then_exit', s(nic.address)))).toMatchObject({ kind: 'exit', message: `${d.name}: exit(3)` });
      const lines = kernel().log().slice(from).filter((l) => l.source === d.name).map((l) => l.text);
      expect(lines).toContainEqual(expect.stringContaining(`unbind ${nic.address}: accepted`));
      expect(d.state).toBe('running');
      buf = d.alloc(512);
    });
  }

  it('fopen\'s refusals: outside the view EACCES, a bad mode EINVAL, a missing attribute ENOENT, a read-only one EACCES for writing', () => {
    expect(d.call('fopen_errno', s('/etc/passwd'), s('r'))).toBe(-13);
    expect(d.call('fopen_errno', s(`/sys/bus/pci/devices/${nic.address}/vendor`), s('z'))).toBe(-22);
    expect(d.call('fopen_errno', s(`/sys/bus/pci/devices/${nic.address}/nothing`), s('r'))).toBe(-2);
    expect(d.call('fopen_errno', s(`/sys/bus/pci/devices/${nic.address}/vendor`), s('w'))).toBe(-13);
    expect(d.call('fopen_errno', s('/mnt/huge/made-by-fopen'), s('w+'))).toBe(0); // hugetlbfs creates
  });

  it('the scanf family on strings: a PCI address, a key = value line with %[ and %n', () => {
    const out = d.alloc(16);
    expect(d.call('parse_address', s(nic.address), out)).toBe(4);
    expect([0, 4, 8, 12].map((o) => d.read(out + o, 4).readUInt32LE(0))).toEqual([0, 0, 2, 0]);
    const value = d.alloc(8);
    expect(d.call('parse_line', s('  rx_ring = 0x200 # comment'), buf, value)).toBe(17);
    expect([stringAt(d, buf, 32), d.read(value, 8).readBigInt64LE(0)]).toEqual(['rx_ring', 0x200n]);
    expect(d.call('parse_line', s('9 = 1'), buf, value)).toBe(0);
  });

  it('floating point: sscanf %f and %lf, strtod, strtof, atof (correctly rounded; ERANGE beyond the range)', () => {
    expect(Number(d.call('floats')).toString(2)).toBe('111');
  });

  it('strtok, strtok_r, strsep, memmem, qsort, bsearch, abs, rand_r and rand as glibc, getpagesize, isatty, sched_yield, memalign, valloc, reallocarray, htons & co.', () => {
    expect(Number(d.call('misc')).toString(2)).toBe('1'.repeat(12));
  });

  it('asprintf and vasprintf (__asprintf_chk, __vasprintf_chk): the text in a heap block of its own, -1 and EOVERFLOW past INT_MAX', () => {
    const blocks = () => d.objects().filter((o) => o.type === 'memory' && o.label === 'malloc').length;
    const before = blocks();
    expect(Number(d.call('allocated_text')).toString(2)).toBe('1111');
    expect(blocks()).toBe(before); // each freed (a block not the heap's would be a bad-call fault)
  });

  it('pthread mutexes (normal, recursive, error-checking), spinlocks, pthread_once', () => {
    expect(Number(d.call('locks')).toString(2)).toBe('1'.repeat(11));
  });

  it('a mutex between two threads: another thread\'s trylock is EBUSY, its lock waits for the unlock', () => {
    expect(Number(d.call('contention')).toString(2)).toBe('111');
  });

  it('a held mutex is the kernel\'s: tracked while held; locking it twice is a self-deadlock fault, not a hang', () => {
    expect(d.call('hold')).toBe(0);
    expect(d.objects().filter((o) => o.type === 'mutex')).toHaveLength(1);
    expect(d.call('release')).toBe(0);
    expect(d.objects().filter((o) => o.type === 'mutex')).toEqual([]);
    if (isolation === 'none') return; // a kernel bug is not contained under 'none'
    expect(faultOf(() => d.call('lock_twice')).message).toContain('already held by this thread (self-deadlock)');
    expect(d.state).toBe('running');
    expect(d.objects().filter((o) => o.type === 'mutex')).toEqual([]); // released at recovery
    buf = d.alloc(512);
  });

  it('an open stream is a heap block over a tracked descriptor; fclose releases both, and so does a recovery', () => {
    const files = () => d.objects().filter((o) => o.type === 'file');
    const blocks = () => d.objects().filter((o) => o.type === 'memory' && o.label === 'malloc');
    const before = blocks().length;
    const fd = Number(d.call('keep_open', s(nic.address)));
    expect(files()).toEqual([{ type: 'file', address: `0x${fd.toString(16)}`, size: 0, label: `/sys/bus/pci/devices/${nic.address}/vendor` }]);
    expect(blocks()).toHaveLength(before + 1);
    expect(d.call('close_kept')).toBe(0);
    expect(files()).toEqual([]);
    expect(blocks()).toHaveLength(before);
    d.call('keep_open', s(nic.address));
    if (isolation === 'none') d.recover(); // nothing is trapped under 'none'
    else expect(faultOf(() => d.call('crash')).kind).toBe('segv');
    expect(d.state).toBe('running');
    expect(files()).toEqual([]);
    expect(blocks()).toEqual([]);
    buf = d.alloc(512);
    expect(d.call('attr_hex', s(nic.address), s('vendor'))).toBe(0x4e4b); // streams work again after it
  });

  it('the unload writes what stdout and the streams hold, as glibc\'s exit at a program\'s end', async () => {
    expect(d.call('left_unwritten', s(nic.address))).toBe(0);
    const from = kernel().log().length;
    await d.unload();
    const lines = kernel().log().slice(from).filter((l) => l.source === d.name).map((l) => l.text);
    expect(lines).toContain('last words, no newline');
    expect(lines).toContainEqual(expect.stringContaining(`unbind ${nic.address}: accepted`));
  });
});
