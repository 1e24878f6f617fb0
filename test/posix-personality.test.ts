// The POSIX personality (docs/drivers.md, "Unmodified C"): drivers written
// against libc — system headers, malloc, printf, errno, getenv, usleep, exit,
// assert — built with `nooks build --posix` (lib/sdk/build.ts), loaded in
// every isolation mode. Their libc calls run in the personality, inside the
// driver's domain, or as checked kernel calls; nothing binds to the host's libc.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kernel, type Driver, type Isolation } from '../lib/index.js';
import { buildDriver } from './helpers/build-driver.js';
import { stringAt } from './helpers/data.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { faultOf, rejectionOf } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-posix-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A library-style driver: no module_init, no nooks header; its plain
// functions are its entry points.
const libcDriver = `
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int calls;
char *kept[64];	/* global: the compiler may not drop what goes here */
static int nkept;

long hello(long n)
{
	printf("hello %ld, call %d\\n", n, ++calls);
	fprintf(stderr, "warning: %s\\n", "on stderr");
	puts("a line by puts");
	fputs("one line ", stdout);
	printf("in %d writes", 3);
	putchar('\\n');
	fwrite("two\\nlines\\n", 1, 10, stdout);
	printf("rate %.2f Mbit/s, %g%% lost, %e\\n", n * 1.5, 0.25, 1e-7 * n);
	return calls;
}

long keep(long n)
{
	char *p = malloc(100), *q = calloc(4, 25), *r = NULL;
	void *a = NULL;

	if (!p || !q || posix_memalign(&a, 256, 64) || ((unsigned long)a & 255))
		return -1;
	r = realloc(p, 4000);
	if (!r || nkept + 4 > 64)
		return -1;
	strcpy(r + 3000, "tail");
	kept[nkept++] = r;
	kept[nkept++] = q;
	kept[nkept++] = a;
	kept[nkept++] = strdup("a copy");
	free(aligned_alloc(64, 128));
	return nkept + (long)n * 0;
}

long strings(void)
{
	char buf[64], *end;
	long ok = 0;

	ok += strtol("  -0x1f!", &end, 0) == -31 && *end == '!';
	ok += strtoul("777", NULL, 8) == 511;
	errno = 0;
	ok += strtol("99999999999999999999", NULL, 10) == 9223372036854775807L && errno == ERANGE;
	ok += atoi("42abc") == 42;
	ok += isdigit('7') && !isdigit('x') && isalpha('Q') && isspace('\\t') && isxdigit('f') && !isupper('q');
	ok += toupper('a') == 'A' && tolower('Z') == 'z' && tolower('1') == '1';
	ok += snprintf(buf, sizeof(buf), "%s|%5d|%-3x|%08lx", "abc", 42, 255, 0xbeefUL) == 22 && !strcmp(buf, "abc|   42|ff |0000beef");
	ok += strstr("find the needle", "needle") != NULL && strchr("abc", 'c') && !strrchr("abc", 'z');
	ok += strcasecmp("HeLLo", "hello") == 0 && strncmp("abcd", "abcx", 3) == 0;
	ok += !strcmp(strerror(ENOENT), "No such file or directory");
	return ok;
}

/* What glibc's printf has beyond the kernel's printk: octal, the j t z
 * modifiers, the ' flag, arguments by number, %m, NULL under a short precision. */
long glibc_formats(void)
{
	const char *volatile none = NULL;

	printf("%o %#o %jd %td %zu %s\\n", 8, 8, (intmax_t)-1, (ptrdiff_t)-2, (size_t)3, "after");
	printf("%2$s %1$s: %3$'d %3$*4$d|%%\\n", "world", "hello", 1234567, 9);
	errno = ENOENT;
	printf("[%.2s|%s] %m\\n", none, none);
	return 0;
}

long fail_errno(void)
{
	errno = ENODEV;
	perror("probe");
	return errno;
}

long set_errno(long v)
{
	errno = (int)v;
	return 0;
}

long get_errno(void)
{
	return errno;
}

long env_length(const char *name)
{
	const char *v = getenv(name);

	return v ? (long)strlen(v) : -1;
}

const char *env_value(const char *name)
{
	return getenv(name);
}

long clocks(void)
{
	struct timespec a, b;
	struct timeval tv;

	clock_gettime(CLOCK_MONOTONIC, &a);
	usleep(2000);
	struct timespec req = { 0, 1000000 };
	nanosleep(&req, NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	gettimeofday(&tv, NULL);
	if (clock_gettime(12345, &a) != -1 || errno != EINVAL)
		return -1;
	if (tv.tv_sec < 1700000000 || time(NULL) < 1700000000)
		return -2;
	struct timespec res = { 1, 0 };
	if (clock_getres(CLOCK_MONOTONIC, &res) || res.tv_sec != 0 || res.tv_nsec != 1 || clock_getres(12345, &res) != -1 || errno != EINVAL)
		return -3;
	return (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
}

/* A cheap timestamp as drivers take one: the coarse clocks and C11's timespec_get, each check one bit. */
long coarse_clocks(void)
{
	struct timespec a, c, b, r = { 1, 0 }, u;
	long bits = 0;
	time_t t0 = time(NULL);

	clock_gettime(CLOCK_MONOTONIC, &a);
	bits = bits << 1 | (clock_gettime(CLOCK_MONOTONIC_COARSE, &c) == 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long long an = a.tv_sec * 1000000000LL + a.tv_nsec, cn = c.tv_sec * 1000000000LL + c.tv_nsec, bn = b.tv_sec * 1000000000LL + b.tv_nsec;
	bits = bits << 1 | (cn >= an - 10000000 && cn <= bn);	/* within a tick before, never ahead */
	bits = bits << 1 | (clock_getres(CLOCK_MONOTONIC_COARSE, &r) == 0 && r.tv_sec == 0 && r.tv_nsec <= 10000000);
	bits = bits << 1 | (clock_gettime(CLOCK_REALTIME_COARSE, &c) == 0 && c.tv_sec >= t0 - 1 && c.tv_sec <= time(NULL));
	bits = bits << 1 | (timespec_get(&u, TIME_UTC) == TIME_UTC && u.tv_sec >= t0 && u.tv_sec <= time(NULL) && u.tv_nsec < 1000000000);
	bits = bits << 1 | (timespec_get(&u, TIME_UTC + 1) == 0);
	return bits;
}

long ids(void)
{
	return getpid() > 0 && (long)getuid() == (long)geteuid() && sysconf(_SC_PAGESIZE) == 4096 && sysconf(_SC_NPROCESSORS_ONLN) == 1 &&
	       sysconf(_SC_OPEN_MAX) == 1024;	/* the driver's descriptors */
}

long huge(void)
{
	errno = 0;
	return malloc((size_t)1 << 40) == NULL && errno == ENOMEM && realloc(malloc(8), (size_t)1 << 40) == NULL;
}

long calls_address(void)
{
	return (long)&calls;
}

long free_at(long address)
{
	free((void *)address);
	return 0;
}

/* a NULL buffer: "none" when empty (poll with no descriptors), a bad pointer with a count */
long null_buffer(long which)
{
	void *volatile null = NULL;	/* not a constant: the compiler refuses one with a count */
	int fd = eventfd(1, 0);
	long r;

	switch (which) {
	case 0: r = poll(null, 0, 0); break;
	case 1: r = write(fd, null, 8); break;
	case 2: r = read(fd, null, 8); break;
	default: r = poll(null, 1, 0); break;
	}
	close(fd);	/* not reached but for 0: the driver fails, and its descriptors go with it */
	return r;
}

long count_calls(void)
{
	return calls;
}

long sleep_forever(void)
{
	for (;;)
		usleep(1000);
}

long bye(long status)
{
	printf("leaving with %ld\\n", status);
	exit((int)status);
}

long give_up(void)
{
	abort();
}

long checked(long v)
{
	assert(v == 42);
	return v;
}
`;

// errno per thread: the kernel's worker thread sets its own errno while the
// caller's stays as it was (the worker comes from <nooks/kapi.h>, which a
// personality driver may include beside the system headers).
const threadsDriver = `
#include <errno.h>
#include <unistd.h>
#include <nooks/kapi.h>

static struct work_struct work;
static volatile int worker_before = -1, worker_after = -1, done;

static void worker(struct work_struct *w)
{
	worker_before = errno;
	errno = EDOM;
	worker_after = errno;
	done = 1;
}

NOOKS_EXPORT long errno_threads(void)
{
	errno = ERANGE;
	INIT_WORK(&work, worker);
	schedule_work(&work);
	for (int i = 0; !done && i < 5000; i++)
		usleep(1000);
	return done ? errno * 10000 + worker_before * 100 + worker_after : -1;
}
`;

const fortifiedDriver = `
#include <errno.h>
#include <stdio.h>
#include <string.h>

static char name[16];

long fortified(const char *s)
{
	char line[32];

	strcpy(name, "eth");
	memcpy(name + 3, "0", 2);
	snprintf(line, sizeof(line), "%s: up, %zu", name, strlen(s));
	printf("%s\\n", line);
	printf("fortified %s\\n", s);
	return (long)strlen(line);
}

long overflow(const char *s)
{
	strcpy(name, s);
	return name[0];
}

/* a result past INT_MAX: -1 and EOVERFLOW, nothing written, as glibc's __sprintf_chk */
long too_wide(const char *fmt)
{
	char b[16];
	int n;

	errno = 0;
	n = sprintf(b, fmt, 1);
	return n == -1 && errno == EOVERFLOW;
}
`;

const outsideDriver = `
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>

long open_socket(void)
{
	return socket(AF_INET, SOCK_STREAM, 0) + pthread_cancel(pthread_self()) + raise(SIGINT);
}
`;

// What glibc 2.38's headers (C23, or _GNU_SOURCE) make of strtol & co. and
// the scanf family: calls to __isoc23_* names. This host's headers (glibc
// before 2.38) have none, so the driver declares and calls them itself.
const isoc23Driver = `
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

long __isoc23_strtol(const char *s, char **end, int base);
unsigned long __isoc23_strtoul(const char *s, char **end, int base);
long long __isoc23_strtoll(const char *s, char **end, int base);
unsigned long long __isoc23_strtoull(const char *s, char **end, int base);
intmax_t __isoc23_strtoimax(const char *s, char **end, int base);
uintmax_t __isoc23_strtoumax(const char *s, char **end, int base);
int __isoc23_sscanf(const char *s, const char *fmt, ...);
int __isoc23_vsscanf(const char *s, const char *fmt, va_list ap);
int __isoc23_fscanf(FILE *f, const char *fmt, ...);
int __isoc23_vfscanf(FILE *f, const char *fmt, va_list ap);
int __isoc23_scanf(const char *fmt, ...);
int __isoc23_vscanf(const char *fmt, va_list ap);

static int via_vsscanf(const char *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = __isoc23_vsscanf(s, fmt, ap);
	va_end(ap);
	return n;
}

static int via_vfscanf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = __isoc23_vfscanf(f, fmt, ap);
	va_end(ap);
	return n;
}

static int via_vscanf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = __isoc23_vscanf(fmt, ap);
	va_end(ap);
	return n;
}

/* each check one bit */
long isoc23(void)
{
	char *end;
	int a = 0, b = 0;
	long ok = 0, bit = 1;

	ok |= __isoc23_strtol(" -0x1f", &end, 0) == -31 && !*end ? bit : 0, bit <<= 1;
	ok |= __isoc23_strtoul("-1", NULL, 10) == ULONG_MAX ? bit : 0, bit <<= 1;
	ok |= __isoc23_strtoll("0b101", NULL, 0) == 5 ? bit : 0, bit <<= 1;	/* C23's prefix */
	ok |= __isoc23_strtoull("0B11", NULL, 2) == 3 ? bit : 0, bit <<= 1;
	ok |= __isoc23_strtoimax("-0b1", NULL, 0) == -1 ? bit : 0, bit <<= 1;
	ok |= __isoc23_strtoumax("0b2", &end, 0) == 0 && *end == 'b' ? bit : 0, bit <<= 1;	/* no binary digit: "0" */
	ok |= strtol("0b101", &end, 0) == 0 && *end == 'b' ? bit : 0, bit <<= 1;	/* C17's strtol: no such prefix */
	ok |= __isoc23_sscanf("12 34", "%d %d", &a, &b) == 2 && a == 12 && b == 34 ? bit : 0, bit <<= 1;
	ok |= via_vsscanf("0x10", "%x", &a) == 1 && a == 16 ? bit : 0, bit <<= 1;
	ok |= __isoc23_fscanf(stdin, "%d", &a) == EOF ? bit : 0, bit <<= 1;	/* a driver's stdin is at its end */
	ok |= via_vfscanf(stdin, "%d", &a) == EOF ? bit : 0, bit <<= 1;
	ok |= __isoc23_scanf("%d", &a) == EOF ? bit : 0, bit <<= 1;
	ok |= via_vscanf("%d", &a) == EOF ? bit : 0, bit <<= 1;
	return ok;
}
`;

let libc: string, threads: string, fortified: string;
beforeAll(() => {
  libc = buildDriver(dir, 'libcdrv', libcDriver, { posix: true });
  threads = buildDriver(dir, 'errnothreads', threadsDriver, { posix: true });
  fortified = buildDriver(dir, 'fortified', fortifiedDriver, { posix: true, extraCflags: ['-D_FORTIFY_SOURCE=2', '-O2'] });
}, 120_000);

/** The lines `d` logged since `from`. */
function linesOf(kernel: Kernel, d: Driver, from: number): { level: number; text: string }[] {
  return kernel.log().slice(from).filter((l) => l.source === d.name).map(({ level, text }) => ({ level, text }));
}

describe.each<Isolation>(['mprotect', 'process', 'none'])("a driver written against libc, isolation '%s'", (isolation) => {
  const kernel = kernelPerBlock({ isolation });
  let d: Driver;

  beforeAll(async () => {
    d = await kernel().load(libc, { env: { NIC: '0000:00:02.0', EMPTY: '' }, timeBudgetMs: 1000 });
  });

  it('printf & co. reach the kernel log tagged with the driver, one line per newline, stderr as errors', () => {
    const from = kernel().log().length;
    expect(d.call('hello', 5)).toBe(1);
    expect(linesOf(kernel(), d, from)).toEqual([
      { level: 6, text: 'hello 5, call 1' },
      { level: 3, text: 'warning: on stderr' },
      { level: 6, text: 'a line by puts' },
      { level: 6, text: 'one line in 3 writes' },
      { level: 6, text: 'two' },
      { level: 6, text: 'lines' },
      { level: 6, text: 'rate 7.50 Mbit/s, 0.25% lost, 5.000000e-07' },
    ]);
  });

  it('strings, ctype, number parsing and formatting run inside the domain', () => {
    expect(d.call('strings')).toBe(10);
  });

  it('printf formats as glibc: %o, j t z, the \' flag, %N$ arguments, %m, a NULL under a short precision', () => {
    const from = kernel().log().length;
    expect(d.call('glibc_formats')).toBe(0);
    expect(linesOf(kernel(), d, from).map((l) => l.text)).toEqual([
      '10 010 -1 -2 3 after',
      'hello world: 1234567   1234567|%',
      '[|(null)] No such file or directory',
    ]);
  });

  it('malloc past the memory limit is NULL and ENOMEM, not a fault', () => {
    expect(d.call('huge')).toBe(1);
  });

  it('errno: perror and strerror on stderr; each thread has its own', async () => {
    const from = kernel().log().length;
    expect(d.call('fail_errno')).toBe(19);
    expect(linesOf(kernel(), d, from)).toEqual([{ level: 3, text: 'probe: No such device' }]);
    d.call('set_errno', 77);
    expect(d.call('get_errno')).toBe(77);
    const t = await kernel().load(threads);
    // the caller keeps ERANGE (34); the worker found 0, set EDOM (33)
    expect(t.call('errno_threads')).toBe(34 * 10000 + 0 * 100 + 33);
    t.unload();
  });

  it('getenv answers from the load option env, and nothing else', () => {
    const name = (s: string) => d.cstring(s);
    expect(d.call('env_length', name('NIC'))).toBe(12);
    expect(stringAt(d, Number(d.call('env_value', name('NIC'))), 13)).toBe('0000:00:02.0');
    expect(d.call('env_length', name('EMPTY'))).toBe(0);
    expect(d.call('env_length', name('HOME'))).toBe(-1); // the kernel's own environment stays its own
    expect(d.call('env_length', name('PATH'))).toBe(-1);
  });

  it('the coarse clocks and timespec_get: the time, as glibc answers (not EINVAL)', () => {
    expect(Number(d.call('coarse_clocks')).toString(2)).toBe('111111');
  });

  it('clocks and sleeps', () => {
    expect(Number(d.call('clocks'))).toBeGreaterThanOrEqual(3_000_000);
    expect(d.call('ids')).toBe(1);
  });

  it('malloc & co. are the driver\'s heap, tracked; a recovery releases them and resets the driver', () => {
    const before = d.objects().filter((o) => o.label === 'malloc').length;
    expect(d.call('keep', 0)).toBe(4);
    const blocks = d.objects().filter((o) => o.label === 'malloc');
    expect(blocks.length - before).toBe(4);
    expect(blocks.map((o) => o.size).sort((a, b) => a - b)).toEqual(expect.arrayContaining([7, 64, 100, 4000]));
    if (isolation === 'none') d.recover(); // nothing is trapped under 'none'
    else expect(faultOf(() => d.call('checked', 41)).kind).toBe('abort');
    expect(d.state).toBe('running');
    expect(d.objects().filter((o) => o.label === 'malloc')).toEqual([]);
    expect(d.call('count_calls')).toBe(0); // its data is as loaded
    expect(d.call('env_length', d.cstring('NIC'))).toBe(12);
  });
});

describe.each<Isolation>(['mprotect', 'process'])("ending itself is a contained failure, isolation '%s'", (isolation) => {
  // each test fails the driver: more failures than the default policy restarts
  const kernel = kernelPerBlock({ isolation, policy: { default: { maxFailures: 20 } } });
  let d: Driver;

  beforeAll(async () => {
    d = await kernel().load(libc, { timeBudgetMs: 500 });
  });

  it('exit(3): fault kind exit, its stdout flushed; the driver is restarted', () => {
    const from = kernel().log().length;
    const f = faultOf(() => d.call('bye', 3));
    expect([f.kind, f.message]).toEqual(['exit', `${d.name}: exit(3)`]);
    expect(linesOf(kernel(), d, from)).toContainEqual({ level: 6, text: 'leaving with 3' });
    expect(d.state).toBe('running');
    expect(d.call('hello', 1)).toBe(1);
  });

  it('abort() and a failed assert: fault kind abort, with the message', () => {
    expect(faultOf(() => d.call('give_up'))).toMatchObject({ kind: 'abort', message: `${d.name}: abort()` });
    const from = kernel().log().length;
    const f = faultOf(() => d.call('checked', 7));
    expect(f.kind).toBe('abort');
    expect(f.message).toMatch(/libcdrv\.c:\d+: checked: Assertion `v == 42' failed\.$/);
    expect(linesOf(kernel(), d, from).map((l) => l.text)).toContainEqual(expect.stringMatching(/Assertion `v == 42' failed/));
    expect(d.call('checked', 42)).toBe(42);
  });

  it('freeing what malloc did not give is a bad call', () => {
    expect(faultOf(() => d.call('free_at', d.call('calls_address')))).toMatchObject({ kind: 'bad-call', message: expect.stringMatching(/kfree\(ptr=0x[0-9a-f]+\): not a memory object/) });
    expect(d.call('checked', 42)).toBe(42);
  });

  // Before, the wrapper let NULL through whatever the count, and the kernel copied from address 0: the host died.
  it('a NULL buffer with a count is a bad call; with none, no buffer', () => {
    expect(d.call('null_buffer', 0)).toBe(0);
    expect([1, 2, 3].map((which) => faultOf(() => d.call('null_buffer', which)).message)).toEqual([
      `${d.name}: nooks_posix_write(buf=(nil)): pointer outside the driver's memory`,
      `${d.name}: nooks_posix_read(buf=(nil)): pointer outside the driver's writable memory`,
      `${d.name}: nooks_posix_poll(fds=(nil)): pointer outside the driver's writable memory`,
    ]);
    expect(d.call('checked', 42)).toBe(42);
  });

  it('usleep counts against the time budget: an endless usleep loop ends in timeout', () => {
    expect(faultOf(() => d.call('sleep_forever')).kind).toBe('timeout');
    expect(d.state).toBe('running');
    expect(d.call('checked', 42)).toBe(42);
  });

  it('_FORTIFY_SOURCE: the __*_chk calls the compiler emits are the personality\'s; an overflow is an abort', async () => {
    const defined = execFileSync('nm', [fortified], { encoding: 'utf8' });
    for (const chk of ['__printf_chk', '__snprintf_chk', '__strcpy_chk']) expect(defined).toMatch(new RegExp(` t ${chk}$`, 'm'));
    const f = await kernel().load(fortified);
    const from = kernel().log().length;
    expect(f.call('fortified', f.cstring('abc'))).toBe(11);
    expect(linesOf(kernel(), f, from).map((l) => l.text)).toEqual(['eth0: up, 3', 'fortified abc']);
    expect(faultOf(() => f.call('overflow', f.cstring('a name longer than sixteen bytes')))).toMatchObject({
      kind: 'abort', message: `${f.name}: *** buffer overflow detected ***: terminated`,
    });
    // a width past INT_MAX before the buffer's end: -1, EOVERFLOW (before: an overflow abort), as glibc's
    expect(f.call('too_wide', f.cstring('%2147483648d'))).toBe(1);
    expect(f.call('too_wide', f.cstring('abcdefghijklmno%2147483648d'))).toBe(1);
    // the text past the buffer's end, then a result past INT_MAX: an overflow, as glibc's (it was -1 once)
    for (const fmt of ['abcdefghijklmnopqrst%2147483648d', '%2147483647d%d']) {
      expect(faultOf(() => f.call('too_wide', f.cstring(fmt)))).toMatchObject({
        kind: 'abort', message: `${f.name}: *** buffer overflow detected ***: terminated`,
      });
    }
    f.unload();
  });
});

describe('the names newer glibc headers give the calls', () => {
  it('glibc 2.38\'s __isoc23_* strtol & co. and scanf family load and answer as the plain ones (0b: C23\'s)', async () => {
    const isoc23 = buildDriver(dir, 'isoc23', isoc23Driver, { posix: true });
    const kernel = await Kernel.boot({ isolation: 'mprotect' });
    try {
      const d = await kernel.load(isoc23);
      expect(Number(d.call('isoc23')).toString(2)).toBe('1'.repeat(13));
    } finally {
      await kernel.shutdown();
    }
  });
});

describe('what the personality does not provide', () => {
  it('is refused at load (ELIBC), every missing function named', async () => {
    const outside = buildDriver(dir, 'outside', outsideDriver, { posix: true });
    const kernel = await Kernel.boot({ isolation: 'mprotect' });
    try {
      const err = await rejectionOf(kernel.load(outside));
      expect(err.code).toBe('ELIBC');
      for (const fn of ['socket', 'pthread_cancel', 'raise']) expect(err.message).toContain(fn);
      // what to do about it, in one clause: where the provided functions are listed
      expect(err.message).toContain('); not provided to drivers: docs/drivers.md, "Unmodified C: the POSIX personality", lists what is');
      expect(kernel.domains()).toEqual([]);
    } finally {
      await kernel.shutdown();
    }
  });
});
