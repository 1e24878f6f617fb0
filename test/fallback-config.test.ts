// A fallback driver takes its driver's place with what the load gave the
// driver: its params (checked against the fallback's own declarations, as at
// load), its env, its devices and its DMA memory (dmaBytes) — not its patches,
// which were written over the first binary's text. Before, a fallback got none
// of these: a POSIX fallback saw no device and no variable, a kapi one its
// params' initializers, and all of them 16 MiB of DMA memory.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultPolicy, Kernel } from '../lib/index.js';
import { driverPath } from '../lib/paths.js';
import { driverCflags, driverLinkFlags } from '../lib/sdk/flags.js';
import { buildDriver } from './helpers/build-driver.js';
import { stringAt } from './helpers/data.js';
import { fallbackTo, faultOf, rejectionOf } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-fallback-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Library-style, built twice: as the driver and (FALLBACK) as its fallback,
// which says which it is. What it reports of its environment is all it sees.
const posixSource = `
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long which(void)
{
#ifdef FALLBACK
	return 2;
#else
	return 1;
#endif
}

long null_deref(void)
{
	int *volatile p = NULL;

	return *p;
}

/* 1 if getenv(name) is value, 0 if it is another, -1 if it is not set */
long env_is(const char *name, const char *value)
{
	const char *v = getenv(name);

	return v ? strcmp(v, value) == 0 : -1;
}

/* the devices under /sys/bus/pci/devices: how many, and whether one is address */
long devices(const char *address)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	long n = 0, found = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			n++;
			found |= strcmp(e->d_name, address) == 0;
		}
	closedir(d);
	return n * 10 + found;
}

/* its DMA memory, in 2 MiB hugepages */
long hugepages(void)
{
	FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "r");
	long n = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &n) != 1)
		n = -2;
	fclose(f);
	return n;
}
`;

// A kapi fallback for memtest (count, offset, verbose, greeting): it declares
// count and greeting only; `offset` and `verbose` it does not know.
const kapiFallback = `
#include <nooks/kapi.h>

static int count = 1;
module_param(count, int, 0444);
static char *greeting = "fallback";
module_param(greeting, charp, 0444);

NOOKS_EXPORT long get_count(void)
{
	return count;
}

NOOKS_EXPORT long greeting_addr(void)
{
	return (long)greeting;
}

static int init(void)
{
	return 0;
}
module_init(init);
`;

describe('a fallback driver gets what the load gave its driver', () => {
  let kernel: Kernel;
  let posixDriver: string;
  let posixFallback: string;
  let kapiFallbackPath: string;

  beforeAll(async () => {
    posixDriver = buildDriver(dir, 'env-driver', posixSource, { posix: true });
    posixFallback = buildDriver(dir, 'env-fallback', posixSource, { posix: true, extraCflags: ['-DFALLBACK'] });
    kapiFallbackPath = buildDriver(dir, 'memtest-fallback', kapiFallback);
    kernel = await Kernel.boot({
      isolation: 'mprotect',
      policy: {
        default: defaultPolicy.default,
        drivers: new Map([
          ['env-driver', fallbackTo(posixFallback)],
          ['memtest', fallbackTo(kapiFallbackPath)],
          ['memtest-unknown', fallbackTo(kapiFallbackPath)],
        ]),
      },
    });
  }, 60_000);
  afterAll(() => kernel?.shutdown());
  afterEach(() => {
    for (const { name } of kernel.domains()) kernel.driver(name)?.unload(); // a failed test's too: one domain per driver file
  });

  it('a POSIX fallback: the same env, the same device (and only it), the same DMA memory', async () => {
    const nic = kernel.addDevice('testdev');
    kernel.addDevice('testdev'); // on the bus, not given: neither driver sees it
    const d = await kernel.load(posixDriver, { env: { NOOKS_MODE: 'safe' }, devices: [nic.address], dmaBytes: 64 << 20 });
    const seen = () => [d.call('which'), d.call('env_is', d.cstring('NOOKS_MODE'), d.cstring('safe')), d.call('devices', d.cstring(nic.address)), d.call('hugepages')];
    expect(seen()).toEqual([1, 1, 11, 32]);

    expect(faultOf(() => d.call('null_deref')).kind).toBe('segv');
    expect(kernel.events().filter((e) => e.driver === 'env-driver').map((e) => e.event)).toEqual(['fault', 'recovering', 'fallback']);
    expect(d.path).toBe(posixFallback);
    expect(seen()).toEqual([2, 1, 11, 32]);
    expect(d.objects().filter((o) => o.type === 'device').map((o) => o.label)).toEqual([nic.address]);
  });

  it('a kapi fallback: the params it declares, as given at load (not as their object is later)', async () => {
    const params = { count: 7, greeting: 'bonjour' };
    const d = await kernel.load('memtest', { params });
    expect(d.call('get_count')).toBe(7);
    params.count = 8; // the caller's object, changed after the load: the fallback gets what the driver got
    expect(faultOf(() => d.call('null_deref')).kind).toBe('segv');
    expect(kernel.events().filter((e) => e.driver === 'memtest').map((e) => e.event)).toEqual(['fault', 'recovering', 'fallback']);
    expect(d.path).toBe(kapiFallbackPath);
    expect(d.call('get_count')).toBe(7);
    expect(stringAt(d, Number(d.call('greeting_addr')), 'bonjour'.length + 1)).toBe('bonjour');
  });

  it('a param the fallback does not declare refuses the load (not the recovery): the error names the param and the fallback', async () => {
    const err = await rejectionOf(kernel.load(driverPath('memtest'), { name: 'memtest-unknown', params: { count: 7, verbose: true } }));
    expect(err.message).toBe(
      `the fallback driver cannot be loaded with the params its driver was loaded with: ${kapiFallbackPath}: ` +
        "no parameter 'verbose'; the driver declares: count (int), greeting (charp) [EPARAM]",
    );
    expect(err.code).toBe('EPARAM');
    expect(kernel.domains()).toEqual([]);
    // a value of the wrong type, too, as the loader checks it
    expect((await rejectionOf(kernel.load(driverPath('memtest'), { name: 'memtest-unknown', params: { greeting: 3 } }))).message).toContain(
      `${kapiFallbackPath}: parameter 'greeting' is charp: expected a string`,
    );
  });
});

// A fallback that could never take over refuses the load: the file is read
// and checked as the loader would (not loaded: nothing of it runs), with the
// loader's error. Before, each of these loaded and was disabled at its first failure.
describe('a fallback driver is checked when its driver loads', () => {
  let kernel: Kernel;
  const missing = join(dir, 'no-such-fallback.so');
  const notNooks = join(dir, 'not-nooks.so');
  let otherKapi: string;
  let constParam: string;
  let exportedParam: string;

  beforeAll(async () => {
    // a shared object, but no nooks driver: no module_init
    const src = join(dir, 'not-nooks.c');
    writeFileSync(src, 'int answer(void) { return 42; }\n');
    execFileSync('cc', [...driverCflags, src, '-o', notNooks, '-shared', ...driverLinkFlags.filter((f) => !f.startsWith('-Wl,-u'))]);
    // built with the headers of another nooks (test/abi.test.ts)
    otherKapi = buildDriver(dir, 'other-kapi', '#define NOOKS_ABI_H\n#define NOOKS_KAPI_VERSION "kapi-000000000000"\n#include <nooks/kapi.h>\nstatic int init(void) { return 0; }\nmodule_init(init);\n');
    // a param that names no variable of the driver's data (a constant, in .rodata): the loader refuses it
    constParam = buildDriver(dir, 'const-param', '#include <nooks/kapi.h>\nstatic const int count = 1;\nmodule_param(count, int, 0444);\nstatic int init(void) { return count - 1; }\nmodule_init(init);\n');
    // a param whose variable another object could take over: reached through its symbol (R_X86_64_64), not relative
    exportedParam = buildDriver(dir, 'exported-param', '#include <nooks/kapi.h>\n__attribute__((visibility("default"))) int count = 1;\nmodule_param(count, int, 0444);\nstatic int init(void) { return count - 1; }\nmodule_init(init);\n');
    kernel = await Kernel.boot({
      isolation: 'mprotect',
      policy: {
        default: defaultPolicy.default,
        drivers: new Map([
          ['missing', fallbackTo(missing)],
          ['exported-param', fallbackTo(exportedParam)],
          ['const-param', fallbackTo(constParam)],
          ['not-nooks', fallbackTo(notNooks)],
          ['other-kapi', fallbackTo(otherKapi)],
        ]),
      },
    });
  }, 60_000);
  afterAll(() => kernel?.shutdown());

  it.each([
    ['missing', 'ENOENT', () => `the fallback driver cannot be loaded: ${missing}: no such driver file`],
    ['not-nooks', 'ENOINIT', () => `the fallback driver cannot be loaded: ${notNooks}: no module_init`],
    ['other-kapi', 'EABI', () => `the fallback driver cannot be loaded: ${otherKapi}: built against kernel API kapi-000000000000`],
    ['const-param', 'EPARAM', () => `the fallback driver cannot be loaded: ${constParam}: parameter 'count' does not name a variable of the driver's data of type int`],
  ])('%s: the load is refused with the loader\'s error (%s), nothing loaded', async (name, code, says) => {
    const err = await rejectionOf(kernel.load(driverPath('memtest'), { name }));
    expect(err.code).toBe(code);
    expect(err.message).toContain(says());
    expect(err.message).toMatch(new RegExp(`\\[${code}\\]$`));
    expect(kernel.domains()).toEqual([]);
  });

  it("a fallback whose param's variable has a symbol of its own is accepted, as the loader accepts it", async () => {
    const d = await kernel.load(driverPath('memtest'), { name: 'exported-param', params: { count: 2 } });
    d.unload();
  });
});
