// Isolation 'none': the native baseline. The same driver binaries, called
// on their domain stacks with no protection and no fault trapping.
// Everything a well-behaved driver does must work as under the isolating modes
// (calls, nested crossings, deferred calls, timers, work, interrupts, object
// tracking); a driver fault is NOT contained: it kills the process as it would
// without nooks. That part runs in child processes, next to the same script
// under 'mprotect', which survives.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPolicy, Kernel, openBlock, type Driver } from '../lib/index.js';
import { packageRoot } from '../lib/paths.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { pattern } from './helpers/data.js';
import { runNode, until, type Exit } from './helpers/util.js';

const IRQ = 5;

describe("isolation 'none': the native baseline", () => {
  const kernel = kernelPerBlock({ isolation: 'none' });
  let nul: Driver;
  let ticker: Driver;

  beforeAll(async () => {
    nul = await kernel().load('null');
    ticker = await kernel().load('ticker');
  });

  const domain = (name: string) => kernel().domains().find((d) => d.name === name)!;
  const count = (fn: string) => Number(ticker.call(fn));

  it("boots as 'none' and the domains say so: no protection key", () => {
    expect(kernel().isolation).toBe('none');
    expect(kernel().domains().map((d) => [d.name, d.isolation, d.pkey, d.state])).toEqual([
      ['null', 'none', -1, 'running'],
      ['ticker', 'none', -1, 'running'],
    ]);
  });

  it('calls exported functions, with up to six arguments, and kernel calls from inside', () => {
    expect(nul.call('nop')).toBe(0);
    expect(ticker.call('echo', 7)).toBe(7);
    expect(ticker.call('echo', -1)).toBe(-1);
    expect(ticker.call('sum', 1, -2, 3, 4, 5, 6)).toBe(17);
    // upcall_nop(n) makes n driver -> kernel calls (nooks_jiffies) and returns the last value
    const j0 = Number(nul.call('upcall_nop', 1));
    expect(j0).toBeGreaterThanOrEqual(0);
    expect(Number(nul.call('upcall_nop', 1000))).toBeGreaterThanOrEqual(j0);
  });

  it('nest(20) === 20: nested driver -> kernel -> driver calls through on_each_cpu, each an entry', () => {
    const before = domain('null').crossings;
    expect(nul.call('nest', 20)).toBe(20);
    // the outer call and twenty nested callbacks
    expect(domain('null').crossings - before).toBe(21);
    expect(nul.call('nest', 0)).toBe(0);
    expect(nul.call('nest', 200)).toBe(200);
  });

  it('batch([...]): several calls in one entry, results in order', () => {
    expect(ticker.batch([['echo', 7], ['sum', 1, 2, 3, 4, 5, 6], ['echo', -1], ['echo', 0]])).toEqual([7, 21, -1, 0]);
    // counted on null: ticker's timer thread enters ticker on its own meanwhile
    const before = domain('null').crossings;
    expect(nul.batch([['nop'], ['upcall_nop', 3], ['nop'], ['nop']])).toHaveLength(4);
    expect(domain('null').crossings - before).toBe(1);
    // nested crossings inside a batch
    expect(nul.batch([['nop'], ['nest', 5], ['nop']])).toEqual([0, 5, 0]);
    expect(nul.batch([])).toEqual([]);
  });

  it("ticker's timer and work item run on the kernel threads", async () => {
    await until(() => count('ticks') >= 10 && count('works') >= 2, 'ticks and work runs');
  });

  it('raiseIrq(5) runs its interrupt handler', async () => {
    expect(count('irqs')).toBe(0);
    for (let i = 1; i <= 3; i++) {
      expect(kernel().raiseIrq(IRQ)).toBe(true);
      await until(() => count('irqs') === i, `interrupt ${i}`);
    }
    expect(kernel().raiseIrq(IRQ + 1)).toBe(false);
  });

  it('objects are tracked the same way: what init holds, DMA on first use, released at unload', async () => {
    expect(nul.objects()).toEqual([]);
    const objects = ticker.objects();
    expect(objects.map((o) => o.type).sort()).toEqual(['irq', 'memory', 'timer', 'work']);
    expect(objects.find((o) => o.type === 'irq')).toMatchObject({ address: String(IRQ), label: 'ticker' });
    expect(objects.find((o) => o.type === 'memory')).toMatchObject({ label: 'kmalloc' });
    expect(objects.find((o) => o.type === 'memory')!.address).toMatch(/^0x[0-9a-f]+$/);
    expect(domain('ticker').objects).toBe(4);
    expect(domain('ticker').heapUsed).toBeGreaterThan(0);

    expect(ticker.call('fill_dma', 16)).toBe(856); // sum of (i * 7 + 1) for i < 16
    expect(ticker.objects().filter((o) => o.type === 'dma')).toEqual([expect.objectContaining({ size: 4096, label: 'dma_alloc_coherent' })]);
    expect(domain('ticker').objects).toBe(5);

    expect(ticker.call('print_hello')).toBe(20);
    expect(kernel().log()).toContainEqual({ level: 6, source: 'ticker', text: 'ticker: hello 42' });

    ticker.unload();
    expect(kernel().domains().map((d) => d.name)).toEqual(['null']);
    expect(kernel().raiseIrq(IRQ)).toBe(false); // the irq line went with it
    ticker = await kernel().load('ticker');
    expect(ticker.objects().map((o) => o.type).sort()).toEqual(['irq', 'memory', 'timer', 'work']);
    expect(count('irqs')).toBe(0);
    expect(kernel().raiseIrq(IRQ)).toBe(true);
    await until(() => count('irqs') === 1, 'the interrupt on the reloaded ticker');
  });
});

// ---------------------------------------------------------------------------
// A fault under 'none' is not contained: the process dies by the signal.

/** A script that boots `isolation` (argv[2]), loads crashy and calls null_deref. */
const childScript = (indexUrl: string) => `
import { Kernel, DriverFault } from ${JSON.stringify(indexUrl)};

const kernel = await Kernel.boot({ isolation: process.argv[2] });
const crashy = await kernel.load('crashy');
console.log('booted', kernel.isolation, 'add', crashy.call('add', 2, 3));
try {
  const value = crashy.call('null_deref');
  console.log('returned', value);
} catch (e) {
  if (!(e instanceof DriverFault)) {
    console.log('threw', e && e.name, e && e.message);
    process.exit(3);
  }
  console.log('fault', e.kind, 'state', crashy.state, 'add', crashy.call('add', 2, 3));
}
await kernel.shutdown();
`;

describe("isolation 'none': a driver fault kills the process", () => {
  let dir: string;
  let script: string;

  beforeAll(() => {
    const index = join(packageRoot, 'dist', 'lib', 'index.js');
    if (!existsSync(index)) throw new Error(`${index} is missing: run \`npx tsc -p .\``);
    dir = mkdtempSync(join(tmpdir(), 'nooks-none-test-'));
    script = join(dir, 'null-deref.mjs');
    writeFileSync(script, childScript(pathToFileURL(index).href));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the script with `isolation`; cwd is the tmp dir (so a core file, if any, goes away with it). */
  const runChild = (isolation: string) => runNode([script, isolation], dir);

  const shown = (r: Exit) => `exit ${r.code} signal ${r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

  it('under none, crashy null_deref kills the child with SIGSEGV: no DriverFault, no JS exception, no exit 0', async () => {
    const r = await runChild('none');
    // it got as far as the call...
    expect(r.stdout, shown(r)).toContain('booted none add 5');
    // ...and the call never came back, in any form
    expect(r.stdout, shown(r)).not.toMatch(/^(returned|fault|threw) /m);
    expect(r.code, shown(r)).toBeNull();
    expect(r.signal, shown(r)).toBe('SIGSEGV');
  });

  it('the same script under mprotect survives: a DriverFault of kind segv, crashy restarted, exit 0', async () => {
    const r = await runChild('mprotect');
    expect(r.signal, shown(r)).toBeNull();
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout).toContain('booted mprotect add 5');
    expect(r.stdout).toMatch(/^fault segv state running add 5$/m);
  });
});

// ---------------------------------------------------------------------------
// Driver calls that never return: the watchdog times them out under 'none'
// too. Nothing protects memory there, but driver code runs on its domain stack
// in every mode, so the abort signal unwinds it as it does elsewhere, and a
// thread asked to leave leaves when a kernel call returns, as the wrappers of
// the other modes make it; the driver is restarted. In a child process: before,
// the spinning call never returned, and the deadlocked one's mutex_lock returned
// without the mutex, the driver went on, and its mutex_unlock was a kernel BUG
// (abort).

/** A script that boots `isolation` (argv[2]), loads crashy with a 200 ms budget and calls each function in argv[3..]. */
const stuckScript = (indexUrl: string) => `
import { Kernel, DriverFault } from ${JSON.stringify(indexUrl)};

const kernel = await Kernel.boot({ isolation: process.argv[2] });
const crashy = await kernel.load('crashy', { timeBudgetMs: 200 });
console.log('booted', kernel.isolation);
for (const fn of process.argv.slice(3)) {
  try {
    console.log(fn, 'returned', crashy.call(fn));
  } catch (e) {
    console.log(fn, e instanceof DriverFault ? 'fault' : 'threw', e.kind, e.message);
  }
  console.log(fn, 'state', crashy.state, 'add', crashy.call('add', 2, 3));
}
console.log('events', kernel.events().map((e) => e.event + ':' + e.fault?.kind).join(' '));
console.log('domains', JSON.stringify(kernel.domains().map((d) => [d.name, d.state, d.recoveries])));
await kernel.shutdown();
console.log('shut down');
`;

describe("isolation 'none': driver calls past their time budget", () => {
  let dir: string;
  let script: string;

  beforeAll(() => {
    const index = join(packageRoot, 'dist', 'lib', 'index.js');
    dir = mkdtempSync(join(tmpdir(), 'nooks-none-stuck-'));
    script = join(dir, 'stuck.mjs');
    writeFileSync(script, stuckScript(pathToFileURL(index).href));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('are ended by the watchdog: a DriverFault of kind timeout, the fault and the restart in the events, crashy running again', async () => {
    // infinite_loop spins in driver code; deadlock waits in mutex_lock (ABBA with the kernel worker thread)
    const r = await runNode([script, 'none', 'infinite_loop', 'deadlock'], dir);
    const shown = `exit ${r.code} signal ${r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    expect(r.stdout, shown).toContain('booted none');
    expect(r.stdout, shown).toMatch(/^infinite_loop fault timeout crashy: driver exceeded its time budget \(watchdog\) in crashy\.so:infinite_loop\+0x[0-9a-f]+$/m);
    expect(r.stdout, shown).toMatch(/^infinite_loop state running add 5$/m);
    expect(r.stdout, shown).toMatch(/^deadlock fault timeout crashy: driver exceeded its time budget \(watchdog\)/m);
    expect(r.stdout, shown).toMatch(/^deadlock state running add 5$/m);
    const recovery = 'fault:timeout recovering:timeout recovered:timeout';
    expect(r.stdout, shown).toMatch(new RegExp(`^events ${recovery} ${recovery}$`, 'm'));
    expect(r.stdout, shown).toMatch(/^domains \[\["crashy","running",2\]\]$/m);
    expect(r.stdout, shown).toMatch(/^shut down$/m);
    expect(r.code, shown).toBe(0);
  });
});

// The nannies fail a driver that stops working without faulting (stallMs): no
// trap is involved, so they work under 'none' as under the isolating modes,
// and the block shadow hides the recovery (test/block-shadow.test.ts "the nanny").
describe("isolation 'none': the nannies", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nooks-none-nanny-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['sits on a request past stallMs', 'plug', 'blk0: a request was with the driver for more than 300 ms'],
    ['refuses every request (-EBUSY, nothing in flight)', 'refuse', 'the driver took no request and completed none for more than 300 ms'],
  ])('a driver that %s is failed (stalled) and recovered; the request completes', async (_what, hook, says) => {
    const kernel = await Kernel.boot({ isolation: 'none', policy: { default: { ...defaultPolicy.default, stallMs: 300 }, drivers: new Map() } });
    try {
      kernel.addDevice('blk', { image: join(dir, `${hook}.img`), size: 1 << 20 });
      const blk = await kernel.load('blk');
      const disk = openBlock(kernel, 'blk0');
      blk.call(hook, 1);
      await disk.write(0, pattern(4096, 3));
      expect(kernel.events().map((e) => `${e.event}:${e.fault?.kind}`)).toEqual(['fault:stalled', 'recovering:stalled', 'recovered:stalled']);
      expect(kernel.events()[0].fault?.message).toContain(says);
      expect(blk.state).toBe('running');
      expect((await disk.read(0, 4096)).equals(pattern(4096, 3))).toBe(true);
    } finally {
      await kernel.shutdown();
    }
  });
});
