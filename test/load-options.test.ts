// Load options are checked as the policy's limits are (same words), static
// data (.data, .bss) counts toward memLimitBytes, and a driver with a large
// .bss loads at once and costs other drivers' crossings nothing: its zero
// pages are never touched, copied or re-protected (native/loader).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Kernel, type LoadOptions } from '../lib/index.js';
import { buildDriver } from './helpers/build-driver.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-load-options-'));
const MiB = 1 << 20;
let statics = '';
let bigbss = '';
beforeAll(() => {
  // 4 MiB of .data (from the file) and 4 MiB of .bss; the heap's capacity, in 64 KiB blocks
  statics = buildDriver(dir, 'statics', `#include <nooks/kapi.h>
static char data[4 << 20] = { 1 };
static volatile char bss[4 << 20];
static int init(void) { return data[0] == 1 ? 0 : -1; }
module_init(init);
NOOKS_EXPORT long heap_capacity(void) { long n = 0; while (kmalloc(65536, GFP_KERNEL)) n++; return n * 65536; }
NOOKS_EXPORT long touch(long i) { bss[i] = 1; data[i] = 2; return bss[i] + data[i]; }
`);
  bigbss = buildDriver(dir, 'bigbss', `#include <nooks/kapi.h>
static char big[1u << 30];
static char flag = 7;
static int init(void) { return 0; }
module_init(init);
NOOKS_EXPORT long touch(long i) { big[i] = 1; flag = 9; return big[i]; }
NOOKS_EXPORT long peek(long i) { return big[i] + flag; }
`);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let kernel: Kernel | undefined;
afterEach(async () => {
  await kernel?.shutdown();
  kernel = undefined;
});

describe('load options', () => {
  it.each([
    [{ timeBudgetMs: -1 }, 'crashy: load option timeBudgetMs: expected a positive integer, got -1 [EINVAL]'],
    [{ timeBudgetMs: 0 }, 'crashy: load option timeBudgetMs: expected a positive integer, got 0 [EINVAL]'],
    [{ timeBudgetMs: 1.5 }, 'crashy: load option timeBudgetMs: expected a positive integer, got 1.5 [EINVAL]'],
    [{ timeBudgetMs: '100' }, 'crashy: load option timeBudgetMs: expected a positive integer, got "100" [EINVAL]'],
    [{ timeBudgetMs: Infinity }, 'crashy: load option timeBudgetMs: expected a positive integer, got Infinity [EINVAL]'],
    [{ memLimitBytes: 0 }, 'crashy: load option memLimitBytes: expected a positive integer, got 0 [EINVAL]'],
    [{ memLimitBytes: NaN }, 'crashy: load option memLimitBytes: expected a positive integer, got NaN [EINVAL]'],
    [{ memLimitBytes: null }, 'crashy: load option memLimitBytes: expected a positive integer, got null [EINVAL]'],
    [{ dmaBytes: 3 << 20 }, 'crashy: load option dmaBytes: expected a multiple of 2 MiB (2097152) from 2 MiB to 256 MiB, got 3145728 [EINVAL]'],
    [{ dmaBytes: 0 }, 'crashy: load option dmaBytes: expected a multiple of 2 MiB (2097152) from 2 MiB to 256 MiB, got 0 [EINVAL]'],
    [{ dmaBytes: 512 << 20 }, 'crashy: load option dmaBytes: expected a multiple of 2 MiB (2097152) from 2 MiB to 256 MiB, got 536870912 [EINVAL]'],
    [{ shadow: 'yes' }, 'crashy: load option shadow: expected true or false, got "yes" [EINVAL]'],
    [{ name: '' }, 'crashy: load option name: expected a non-empty string, got "" [EINVAL]'],
    [{ timeBudget: 100 }, 'crashy: load option timeBudget: unknown option (expected one of name, timeBudgetMs, memLimitBytes, dmaBytes, shadow, patches, params, env, devices, argv) [EINVAL]'],
    [{ patches: 'x' }, 'crashy: load option patches: expected a list of text patches, got "x" [EINVAL]'],
    [{ patches: [{ offset: -1, bytes: Buffer.from([0x90]), transient: true }] }, 'crashy: load option patches[0].offset: expected a non-negative integer, got -1 [EINVAL]'],
    [{ patches: [{ offset: 0, bytes: [0x90], transient: true }] }, 'crashy: load option patches[0].bytes: expected a Buffer, got a list [EINVAL]'],
    [{ env: ['NIC'] }, 'crashy: load option env: expected an object { NAME: value }, got a list [EINVAL]'],
    [{ env: { 'A-B': 'x' } }, 'crashy: load option env.A-B: expected a name of letters, digits and _, not starting with a digit, at most 256 characters [EINVAL]'],
    [{ env: { NIC: 3 } }, 'crashy: load option env.NIC: expected a string, got 3 [EINVAL]'],
    [{ env: { NIC: 'a\0b' } }, 'crashy: load option env.NIC: expected a string without NUL of at most 4095 bytes, got "a\\u0000b" [EINVAL]'],
    [{ devices: '0000:00:02.0' }, 'crashy: load option devices: expected a list of PCI addresses, got "0000:00:02.0" [EINVAL]'],
    [{ devices: ['0000:00:02'] }, 'crashy: load option devices[0]: expected a PCI address like 0000:00:02.0, got "0000:00:02" [EINVAL]'],
    [{ devices: ['00:02.0', '0000:00:02.0'] }, 'crashy: load option devices[1]: 0000:00:02.0 is named twice [EINVAL]'],
    [[], 'crashy: load options: expected an object, got a list [EINVAL]'],
  ])('%o is refused, naming the option and the value', async (options, message) => {
    kernel = await Kernel.boot({ isolation: 'mprotect' });
    await expect(kernel.load('crashy', options as unknown as LoadOptions)).rejects.toMatchObject({ code: 'EINVAL', message });
    expect(kernel.domains()).toEqual([]);
    expect((await kernel.load('crashy')).call('add', 2, 3)).toBe(5); // nothing was left half-loaded
  });
});

describe.each(['mprotect', 'process'] as const)('static data (isolation %s)', (isolation) => {
  it('counts toward memLimitBytes: the heap gets the rest, and a limit it does not fit in is refused', async () => {
    kernel = await Kernel.boot({ isolation });
    await expect(kernel.load(statics, { memLimitBytes: 8 * MiB })).rejects.toMatchObject({
      code: 'EMEMLIMIT',
      message: expect.stringMatching(/statics\.so: its static data \(\.data and \.bss: \d+ bytes\) leaves no heap within memLimitBytes 8388608$/),
    });
    const d = await kernel.load(statics, { memLimitBytes: 16 * MiB });
    const heap = d.call('heap_capacity') as number;
    expect(heap).toBeLessThanOrEqual(8 * MiB - 8 * 1024); // 16 MiB less 8 MiB of statics (and their pages' slack)
    expect(heap).toBeGreaterThan(7 * MiB);
    expect(kernel.domains()[0].memLimit).toBe(16 * MiB);
  });

  it('a 1 GiB .bss loads without blocking, costs other drivers\' crossings nothing, and restarts zeroed', async () => {
    kernel = await Kernel.boot({ isolation });
    const crashy = await kernel.load('crashy');
    const crossingMs = (n: number) => {
      const t = performance.now();
      for (let i = 0; i < n; i++) crashy.call('add', i, 1);
      return (performance.now() - t) / n;
    };
    const rss = process.memoryUsage().rss;
    const t = performance.now();
    const big = await kernel.load(bigbss, { memLimitBytes: 2 ** 31 });
    const loadMs = performance.now() - t;
    expect(loadMs).toBeLessThan(500); // ~50 ms per 100 MiB at most
    expect(process.memoryUsage().rss - rss).toBeLessThan(256 * MiB); // its zero pages were not touched
    expect(crossingMs(200)).toBeLessThan(1); // today a few µs; with the .bss faulted in, tens of ms
    expect(big.call('touch', 512 * MiB)).toBe(1);
    expect(big.call('peek', 512 * MiB)).toBe(1 + 9);
    const r = performance.now();
    big.recover();
    expect(performance.now() - r).toBeLessThan(500);
    expect(big.state).toBe('running');
    expect(big.call('peek', 512 * MiB)).toBe(0 + 7); // .bss zero again, .data as loaded
    expect(crossingMs(200)).toBeLessThan(1);
  });
});
