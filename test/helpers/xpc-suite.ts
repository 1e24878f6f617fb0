// Crossings under one isolating mode: binding of imports to the kernel's
// stubs, nested crossings, deferred calls, the wrappers' checks. One kernel
// per process, so each mode calls xpcSuite() from its own test file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { defaultPolicy, Kernel, type Driver, type Isolation } from '../../lib/index.js';
import { dynamicSymbol } from '../../lib/elf.js';
import { packageRoot } from '../../lib/paths.js';
import { hostProbe } from '../../lib/testing.js';
import { hex } from './data.js';
import { faultOf } from './util.js';

/** Where the dynamic symbol `name` of the loaded addon is: its value plus the addon's load base. */
function addonSymbol(name: string): number {
  const addon = join(packageRoot, 'build', 'Release', 'nooks.node');
  const value = dynamicSymbol(readFileSync(addon), name);
  if (value === undefined) throw new Error(`${name} is not exported by ${addon}`);
  const first = readFileSync('/proc/self/maps', 'utf8').split('\n')
    .find((l) => l.endsWith('/nooks.node') && l.split(/\s+/)[2] === '00000000');
  if (!first) throw new Error('nooks.node is not mapped');
  return parseInt(first.split('-')[0], 16) + value;
}

export function xpcSuite(isolation: Exclude<Isolation, 'none'>): void {
  let kernel: Kernel;
  let nul: Driver;
  let crashy: Driver;
  const crossings = (d: Driver) => kernel.domains().find((x) => x.id === d.id)!.crossings;

  beforeAll(async () => {
    kernel = await Kernel.boot({
      isolation,
      policy: { default: { ...defaultPolicy.default, maxFailures: 1000, timeBudgetMs: 2_000, memLimitBytes: 16 << 20 }, drivers: new Map() },
    });
    nul = await kernel.load('null');
    crashy = await kernel.load('crashy');
  });
  afterAll(() => kernel.shutdown());

  it("binds a driver's imports to the kernel's entry stubs, not to the kernel's functions", () => {
    expect(crashy.call('kmalloc_address')).toBe(addonSymbol('kmalloc'));
  });

  it('nests crossings: driver -> kernel -> driver, fifty deep', () => {
    const before = crossings(nul);
    expect(nul.call('nest', 50)).toBe(50);
    expect(crossings(nul) - before).toBe(51); // the call itself and 50 nested entries
  });

  it('a fault deep in nested crossings unwinds to the outermost entry and the driver restarts', () => {
    const f = faultOf(() => crashy.call('nested_fault', 8));
    expect(f.kind).toBe('segv');
    expect(f.address).toBe('0x0');
    expect(crashy.state).toBe('running');
    expect(crashy.call('add', 2, 3)).toBe(5);
    expect(nul.call('nest', 5)).toBe(5); // nesting still works, in another domain too
  });

  it('deferred calls: twenty calls cost one crossing, results in order', () => {
    const before = crossings(nul);
    const results = nul.batch(Array.from({ length: 20 }, () => ['nop'] as [string]));
    expect(results).toEqual(Array(20).fill(0));
    expect(crossings(nul) - before).toBe(1);
    const mixed = crashy.batch([['add', 1, 2], ['add', 30, 40], ['data_value']]);
    expect(mixed).toEqual([3, 70, 42]);
  });

  it('a fault inside a batch ends the batch and the driver restarts', () => {
    const f = faultOf(() => crashy.batch([['corrupt_data'], ['null_deref'], ['add', 3, 4]]));
    expect(f.kind).toBe('segv');
    expect(crashy.state).toBe('running');
    expect(crashy.call('data_value')).toBe(42); // corrupt_data ran, then the segments were reset
  });

  it('rejects kernel calls with a size no driver means', () => {
    const f = faultOf(() => crashy.call('huge_kmalloc'));
    expect(f.kind).toBe('bad-call');
    expect(f.message).toContain('kmalloc(size=1073741824)'); // names the call and the value refused
  });

  it('rejects a callback that is not the driver\'s code', () => {
    const f = faultOf(() => crashy.call('bad_callback', hostProbe().address));
    expect(f.kind).toBe('bad-call');
    expect(f.message).toContain(`timer_setup(fn=${hex(hostProbe().address)})`);
  });

  it('rejects a string outside the driver\'s memory', () => {
    const f = faultOf(() => crashy.call('bad_string', 0x1000));
    expect(f.kind).toBe('bad-call');
    expect(f.message).toContain('request_irq(name=0x1000)');
    expect(kernel.raiseIrq(9)).toBe(false); // nothing was attached
  });
}
