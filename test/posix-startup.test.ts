// What a lab driver's main() calls before its loop (docs/drivers.md, "Unmodified
// C: the POSIX personality"): getopt and getopt_long over an argv it builds, the CPU clocks
// and clock(), sysconf's host values. Each was refused at load (ELIBC) or
// answered EINVAL before. getopt is compared with the host's glibc in POSIX
// mode (POSIXLY_CORRECT), running the same scenarios as a host program.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Driver, Isolation } from '../lib/index.js';
import { buildDriver } from './helpers/build-driver.js';
import { stringAt } from './helpers/data.js';
import { kernelPerBlock } from './helpers/kernel.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-posix-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The scenarios, each an argv and an optstring, traced call by call:
// "<result>:<optarg>@<optind>/<optopt>". Built for the driver and for the host.
const getoptSource = `
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char trace[8192];
static size_t used;

static void scan(int argc, char **argv, const char *optstring)
{
	int c;

	optind = 0;	/* a scan afresh, as glibc reinitializes */
	do {
		c = getopt(argc, argv, optstring);
		used += (size_t)snprintf(trace + used, sizeof(trace) - used, "%d:%s@%d/%d ", c, optarg ? optarg : "-", optind, optopt);
	} while (c != -1);
	used += (size_t)snprintf(trace + used, sizeof(trace) - used, "| ");
}

#define SCAN(optstring, ...) do { \\
		char *argv[] = { "prog", __VA_ARGS__, NULL }; \\
		scan((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv, optstring); \\
	} while (0)

static int verbose;
static const struct option longopts[] = {
	{ "verbose", no_argument, &verbose, 7 },
	{ "file", required_argument, NULL, 'f' },
	{ "level", optional_argument, NULL, 'l' },
	{ "fast", no_argument, NULL, 'F' },
	{ "follow", no_argument, NULL, 'F' },
	{ "color", optional_argument, NULL, 'c' },
	{ "colour", optional_argument, NULL, 'c' },
	{ NULL, 0, NULL, 0 },
};

/* getopt_long (or getopt_long_only), each call's longindex and the flag's value traced too. */
static void scan_long(int argc, char **argv, const char *optstring, int long_only)
{
	int c, index;

	optind = 0;
	do {
		index = -1;
		verbose = 0;
		c = long_only ? getopt_long_only(argc, argv, optstring, longopts, &index) : getopt_long(argc, argv, optstring, longopts, &index);
		used += (size_t)snprintf(trace + used, sizeof(trace) - used, "%d:%s@%d/%d[%d,%d] ", c, optarg ? optarg : "-", optind, optopt, index, verbose);
	} while (c != -1);
	used += (size_t)snprintf(trace + used, sizeof(trace) - used, "| ");
}

#define SCAN_LONG(long_only, optstring, ...) do { \\
		char *argv[] = { "prog", __VA_ARGS__, NULL }; \\
		scan_long((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv, optstring, long_only); \\
	} while (0)

static void long_scans(void)
{
	SCAN_LONG(0, "ab:", "--verbose", "--file", "x", "--file=y", "--level", "--level=3", "--fa", "--fo", "-ab", "z", "--col", "--colour=red", "rest", "--file");
	SCAN_LONG(0, "ab:", "--f", "-a");
	SCAN_LONG(0, "ab:", "--fi");
	SCAN_LONG(0, ":ab:", "--fi");
	SCAN_LONG(0, "ab:", "--verbose=1", "--nope", "--nope=2", "--=x", "--", "--verbose");
	SCAN_LONG(0, "ab:", "--level", "4");
	SCAN_LONG(0, "-a", "x", "--fast", "y", "--file", "--", "z");
	SCAN_LONG(0, "+a", "--fast", "x", "--fast");
	SCAN_LONG(1, "ab:", "-verbose", "-fi=z", "-a", "-ab", "w", "-b", "v", "--level=1", "-l", "-col", "-fast");
	SCAN_LONG(1, "ab:", "-x", "-bq", "-fo", "-colour");
	SCAN_LONG(1, "f", "-f", "-fa", "-fi", "x");
}

const char *getopt_trace(void)
{
	used = 0;
	opterr = 0;
	SCAN("ab:c:d::", "-a", "-b", "val", "-cfoo", "-dbar", "rest", "-a");
	SCAN("ac", "-ac", "--", "-a");
	SCAN("b:", "-b");
	SCAN(":b:", "-b");
	SCAN("ab:", "-b", "-a");
	SCAN("a", "-x", "-ay");
	SCAN("d::", "-d", "val");
	SCAN("a", "-", "-a");
	SCAN("-a", "x", "-a", "y");
	SCAN("+a", "-a", "x", "-a");
	SCAN("a", "--foo");
	SCAN("a:", "-:");
	SCAN("ab", "-ab", "-ba", "--");
	opterr = 1;	/* glibc's messages: stderr (the driver's: a kernel log line each) */
	SCAN("b:", "-x", "-b");
	SCAN(":b:", "-x", "-b");
	opterr = 0;
	long_scans();
	opterr = 1;
	SCAN_LONG(0, "ab:", "--f", "--col", "--nope=1", "--verbose=1", "--fi");
	SCAN_LONG(1, "ab:", "-col", "-x", "-fast=1", "-level", "-fi");
	return trace;
}
`;

// Log timestamps: gmtime, localtime (UTC in a driver), mktime, timegm,
// strftime, asctime_r, ctime_r, difftime over times around the epoch, leap days, 2038,
// year 10000 and before year 1; the host's glibc runs the same under TZ=UTC.
const timeSource = `
#include <stdio.h>
#include <string.h>
#include <time.h>

static char times_text[8192];

const char *time_trace(void)
{
	static const long long times[] = { 0, -1, 951782400, 2147483648LL, 253402300800LL, -62167219201LL, 1609459200, 1775001600 };
	size_t used = 0;

	for (unsigned i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		time_t t = (time_t)times[i];
		struct tm utc, local, *shared = gmtime(&t);
		char text[26], line[400];

		gmtime_r(&t, &utc);
		localtime_r(&t, &local);
		strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S%z %Z %a %A %b %B %j %U %W %V %G %g %u %w %C %y %e %k %l %I %p %s %c|%x|%X|%D|%F|%R|%T|%h|%%|%-d|%_5H|%^a|%#Z", &local);
		used += (size_t)snprintf(times_text + used, sizeof(times_text) - used, "%s %s %d %s", line, utc.tm_zone, shared->tm_yday, asctime_r(&utc, text) ? text : "-\\n");
		used += (size_t)snprintf(times_text + used, sizeof(times_text) - used, "%s", ctime_r(&t, text) ? text : "-\\n");
		local.tm_mday += 40;
		local.tm_hour -= 30;
		used += (size_t)snprintf(times_text + used, sizeof(times_text) - used, "%lld %lld %.17g\\n", (long long)mktime(&local), (long long)timegm(&utc),
					 difftime(t, (time_t)-9223372036854775807LL));
	}
	return times_text;
}
`;

const driverSource = `${getoptSource}
#include <stdlib.h>

/* A scan left amid "-abcdef" in a line buffer that then holds "-x", optind = 1 (not 0): 'a', then 'x', as 1000-based digits. */
long getopt_reuse(void)
{
	char line[8] = "-abcdef", *args[] = { "prog", line, NULL };
	long r;

	opterr = 0;
	optind = 0;
	r = getopt(2, args, "abcdefx");
	strcpy(line, "-x");
	optind = 1;
	return r * 1000 + getopt(2, args, "abcdefx");
}

/* A scan left amid "-abc", then optind = 1 (not 0) over another argv: 'a', then 'x' and -1, as 1000-based digits. */
long getopt_restart(void)
{
	char *first[] = { "prog", "-abc", NULL }, *second[] = { "prog", "-x", NULL };
	long r;

	opterr = 0;
	optind = 0;
	r = getopt(2, first, "abcx");
	optind = 1;
	r = r * 1000 + getopt(2, second, "abcx");
	return r * 1000 + getopt(2, second, "abcx");
}

/* The trace, in a heap block of its buffer's size, which the test reads. */
long trace_address(void)
{
	char *copy = calloc(1, sizeof(trace));

	return copy ? (long)strcpy(copy, getopt_trace()) : 0;
}
`;

const clocksSource = `
#include <errno.h>
#include <time.h>
#include <unistd.h>

#define CHECK(bits, cond) ((bits) = (bits) << 1 | !!(cond))

static long long ns(clockid_t clock)
{
	struct timespec t;

	return clock_gettime(clock, &t) ? -1 : t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Spins 20 ms of the monotonic clock: the calling thread's and the process's CPU time go on, each check one bit.
 * Each span read inside the one it is compared with (m0 p0 t0 ... t1 p1 m1): a thread's CPU time is at most the
 * time that passed, and at most the process's, only over the same span or a wider one. */
long cpu_clocks(void)
{
	long long m0 = ns(CLOCK_MONOTONIC), p0 = ns(CLOCK_PROCESS_CPUTIME_ID), t0 = ns(CLOCK_THREAD_CPUTIME_ID), t1, p1, m1;
	clock_t c0 = clock(), c1;
	struct timespec res = { 1, 0 };
	long bits = 0;

	while (ns(CLOCK_MONOTONIC) - m0 < 20000000)
		;
	t1 = ns(CLOCK_THREAD_CPUTIME_ID);
	c1 = clock();
	p1 = ns(CLOCK_PROCESS_CPUTIME_ID);
	m1 = ns(CLOCK_MONOTONIC);
	CHECK(bits, t0 > 0 && p1 >= t1 && c0 >= 0);
	CHECK(bits, t1 > t0 && t1 - t0 <= m1 - m0);	/* this thread's, never more than the time that passed */
	CHECK(bits, p1 - p0 >= t1 - t0);		/* the process's: this thread's and the others' */
	CHECK(bits, c1 >= c0 && c1 <= p1 / 1000 && c1 >= p0 / 1000);	/* CLOCKS_PER_SEC: microseconds */
	CHECK(bits, clock_getres(CLOCK_THREAD_CPUTIME_ID, &res) == 0 && res.tv_sec == 0 && res.tv_nsec == 1);
	return bits;
}

long sysconf_of(long name)
{
	long r;

	errno = 0;
	r = sysconf((int)name);
	return r < 0 ? -errno : r;
}
`;

let driverPath: string, strictPath: string, clocksPath: string, timesPath: string, host: { trace: string; stderr: string }, hostTimes: string;
beforeAll(() => {
  driverPath = buildDriver(dir, 'getopt', driverSource, { posix: true });
  // strict POSIX (no _GNU_SOURCE): <unistd.h> names getopt __posix_getopt
  strictPath = buildDriver(dir, 'getoptstrict', driverSource, { posix: true, extraCflags: ['-std=c11', '-D_POSIX_C_SOURCE=200809L'] });
  clocksPath = buildDriver(dir, 'clocks', clocksSource, { posix: true });
  timesPath = buildDriver(dir, 'times', `${timeSource}
#include <stdlib.h>

/* The trace, in a heap block of its buffer's size, which the test reads. */
long time_trace_address(void)
{
	char *copy = calloc(1, sizeof(times_text));

	return copy ? (long)strcpy(copy, time_trace()) : 0;
}
`, { posix: true });
  const hostSource = join(dir, 'host.c');
  writeFileSync(hostSource, `${getoptSource}\nint main(void)\n{\n\tfputs(getopt_trace(), stdout);\n\treturn 0;\n}\n`);
  execFileSync('cc', ['-O2', '-o', join(dir, 'host'), hostSource]);
  const run = spawnSync(join(dir, 'host'), { env: { POSIXLY_CORRECT: '1' }, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`the host's getopt program failed: ${run.stderr}`);
  host = { trace: run.stdout, stderr: run.stderr };
  const timesSource = join(dir, 'times.c');
  writeFileSync(timesSource, `${timeSource}\nint main(void)\n{\n\tfputs(time_trace(), stdout);\n\treturn 0;\n}\n`);
  execFileSync('cc', ['-O2', '-o', join(dir, 'times'), timesSource]);
  hostTimes = execFileSync(join(dir, 'times'), { env: { TZ: 'UTC' }, encoding: 'utf8' });
});

describe.each<Isolation>(['mprotect', 'process'])("a driver's start in the POSIX personality, isolation '%s'", (isolation) => {
  const kernel = kernelPerBlock({ isolation });
  let d: Driver, strict: Driver, clocks: Driver, times: Driver;
  beforeAll(async () => {
    d = await kernel().load(driverPath);
    strict = await kernel().load(strictPath);
    clocks = await kernel().load(clocksPath);
    times = await kernel().load(timesPath);
  });

  it.each(['plain', 'strict POSIX'])("getopt (%s): as glibc's in POSIX mode, call by call, its messages kernel log lines", (build) => {
    const driver = build === 'plain' ? d : strict;
    const from = kernel().log().length;
    const trace = stringAt(driver, Number(driver.call('trace_address')), 8192);
    expect(trace).toBe(host.trace);
    // a few answers spelled out, so that the comparison is not of two wrong ones
    expect(trace.split(' | ')[0]).toBe('97:-@2/0 98:val@4/0 99:foo@5/0 100:bar@6/0 -1:-@6/0');
    expect(trace.split(' | ')[2]).toBe('63:-@2/98 -1:-@2/98');
    expect(trace.split(' | ')[3]).toBe('58:-@2/98 -1:-@2/98');
    // getopt_long: the flag set (0), "=value", an optional argument only after '=', abbreviations alike ("--col")
    expect(trace.split(' | ')[15]).toBe('0:-@2/98[0,7] 102:x@4/98[1,0] 102:y@5/98[1,0] 108:-@6/98[2,0] 108:3@7/98[2,0] 70:-@8/98[3,0] '
      + '70:-@9/98[4,0] 97:-@9/98[-1,0] 98:z@11/98[-1,0] 99:-@12/98[5,0] 99:red@13/98[6,0] -1:-@13/98[-1,0]');
    // getopt_long_only: "-ab" no long option, so short ones; "-col" ambiguous there
    expect(trace.split(' | ')[23]).toBe('0:-@2/0[0,7] 102:z@3/0[1,0] 97:-@4/0[-1,0] 97:-@4/0[-1,0] 98:w@6/0[-1,0] 98:v@8/0[-1,0] '
      + '108:1@9/0[2,0] 108:-@10/0[2,0] 63:-@11/0[-1,0] 70:-@12/0[3,0] -1:-@12/0[-1,0]');
    const lines = kernel().log().slice(from).filter((l) => l.source === driver.name).map((l) => `${l.text}\n`);
    expect(lines.join('')).toBe(host.stderr);
    expect(lines).toEqual([
      "prog: invalid option -- 'x'\n", "prog: option requires an argument -- 'b'\n",
      "prog: option '--f' is ambiguous; possibilities: '--file' '--fast' '--follow'\n", "prog: unrecognized option '--nope=1'\n",
      "prog: option '--verbose' doesn't allow an argument\n", "prog: option '--file' requires an argument\n",
      "prog: option '-col' is ambiguous; possibilities: '-color' '-colour'\n", "prog: unrecognized option '-x'\n",
      "prog: option '-fast' doesn't allow an argument\n", "prog: option '-file' requires an argument\n",
    ]);
  });

  it('getopt with optind set to 1 amid an element, over another argv: the new element, never past its end', () => {
    expect(d.call('getopt_restart')).toBe(97 * 1_000_000 + 120 * 1000 - 1); // 'a', 'x', -1
    expect(d.call('getopt_reuse')).toBe(97 * 1000 + 120); // 'a', then 'x' of the shorter string in the same buffer
  });

  it('gmtime, localtime, mktime, timegm, strftime, asctime_r, ctime_r, difftime: as glibc under TZ=UTC', () => {
    const trace = stringAt(times, Number(times.call('time_trace_address')), 8192);
    expect(trace).toBe(hostTimes);
    // one line spelled out, so that the comparison is not of two wrong ones
    expect(trace.split('\n')[0]).toBe('1970-01-01T00:00:00+0000 UTC Thu Thursday Jan January 001 00 00 01 1970 70 4 4 19 70  1  0 12 12 AM 0 '
      + 'Thu Jan  1 00:00:00 1970|01/01/70|00:00:00|01/01/70|1970-01-01|00:00|00:00:00|Jan|%|1|    0|THU|utc GMT 0 Thu Jan  1 00:00:00 1970');
  });

  it("clock_gettime's CPU clocks and clock(): the host thread's and process's CPU time", () => {
    expect(Number(clocks.call('cpu_clocks')).toString(2)).toBe('11111');
  });

  it("sysconf: the host's memory and cache line, as its glibc answers", () => {
    const [PHYS_PAGES, AVPHYS_PAGES, LEVEL1_DCACHE_LINESIZE] = [85, 86, 190];
    expect(clocks.call('sysconf_of', PHYS_PAGES)).toBe(totalmem() / 4096);
    const available = Number(clocks.call('sysconf_of', AVPHYS_PAGES));
    expect(available).toBeGreaterThan(0);
    expect(available).toBeLessThanOrEqual(totalmem() / 4096);
    const line = Number(execFileSync('getconf', ['LEVEL1_DCACHE_LINESIZE'], { encoding: 'utf8' }).trim());
    expect(clocks.call('sysconf_of', LEVEL1_DCACHE_LINESIZE)).toBe(line);
    expect(clocks.call('sysconf_of', 12345)).toBe(-22);
  });
});
