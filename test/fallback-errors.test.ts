// action: fallback whose fallback driver cannot take over: the original driver
// is disabled with the fallback's error, in the `disabled` event and in the
// DriverFault its caller gets (one the file shows unfit, missing or not ELF,
// refuses the driver's load already); a driver cannot be its own fallback; and
// `nooks policy check` finds fallbacks that do not exist.
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPolicy, DriverFault, DriverUnavailable, Kernel, parsePolicy, type RecoveryEvent } from '../lib/index.js';
import { driverPath } from '../lib/paths.js';
import { buildDriver, crashyAs } from './helpers/build-driver.js';
import { nooks } from './helpers/cli.js';
import { fallbackTo, faultOf, rejectionOf } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-fallback-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a fallback driver that cannot take over', () => {
  let kernel: Kernel;
  const notElf = join(dir, 'not-elf.so');
  const initFault = join(dir, 'fallbacks', 'initfault.so');
  beforeAll(async () => {
    writeFileSync(notElf, 'not a driver\n');
    mkdirSync(join(dir, 'fallbacks'));
    buildDriver(join(dir, 'fallbacks'), 'initfault', '#include <nooks/kapi.h>\nstatic int init(void)\n{\n\tint *volatile p = NULL;\n\n\treturn *p;\n}\nmodule_init(init);\n');
    kernel = await Kernel.boot({
      isolation: 'mprotect',
      policy: {
        default: defaultPolicy.default,
        drivers: new Map([
          ['missing', fallbackTo(join(dir, 'no-such-driver.so'))],
          ['notelf', fallbackTo(notElf)],
          ['initfault', fallbackTo(initFault)],
          ['itself', fallbackTo(join(dir, 'itself.so'))],
          ['timer', fallbackTo(initFault)],
          ['good', fallbackTo('crashy')],
          ['again', fallbackTo('null')],
          ['twice', fallbackTo(join(dir, 'twice-fallback.so'))],
          ['unfit', fallbackTo(initFault)],
          ['unfit-first', fallbackTo(initFault)],
        ]),
      },
    });
  });
  afterAll(() => kernel?.shutdown());

  // what the file shows refuses the load already (test/fallback-config.test.ts has more)
  it.each([
    ['missing', /the fallback driver cannot be loaded: .*no-such-driver\.so: no such driver file .*\[ENOENT\]/],
    ['notelf', /the fallback driver cannot be loaded: .*not-elf\.so: not an ELF file \[ENOTELF\]/],
  ])('%s: the load is refused with why', async (name, why) => {
    const err = await rejectionOf(kernel.load(crashyAs(dir, name)));
    expect(err.message).toMatch(why);
    expect(kernel.domains().find((x) => x.name === name)).toBeUndefined();
  });

  // what only running it shows (module_init) disables the driver at its failure
  it.each([
    ['initfault', /the fallback driver cannot be loaded: .*initfault\.so: module_init faulted: segmentation fault .*\[EINITFAULT\]/],
    ['itself', /the fallback driver .*itself\.so is the driver itself: refused \[EFALLBACK\]/],
  ])('%s: the driver is disabled, and its caller and the disabled event say why', (name, why) => {
    const drv = kernel.load(crashyAs(dir, name));
    return drv.then((d) => {
      const events: string[] = [];
      kernel.on('disabled', (e) => e.driver === name && events.push(e.fault?.message ?? ''));
      const f = faultOf(() => d.call('null_deref'));
      expect(f.kind).toBe('segv');
      expect(f.recoveryFailed).toMatch(why);
      expect(f.message).toContain(f.recoveryFailed!); // the caller's error says why the driver is disabled
      expect(events).toHaveLength(1);
      expect(events[0]).toMatch(why);
      expect(kernel.events().filter((e) => e.driver === name).map((e) => e.event)).toEqual(['fault', 'recovering', 'disabled']);
      expect(d.state).toBe('disabled');
      expect(kernel.domains().find((x) => x.name === name)?.state).toBe('disabled');
      expect(() => d.call('add', 2, 3)).toThrow(DriverUnavailable);
    });
  });

  it('a fault on a kernel thread (a timer), recovered asynchronously: disabled, the disabled event says why', async () => {
    const d = await kernel.load(crashyAs(dir, 'timer'));
    const disabled = once(kernel, 'disabled');
    // the timer fires 20 ms on; on a loaded machine it may strike before the arming call is back: the same fault, seen early
    try {
      d.call('timer_fault', 20);
    } catch (e) {
      expect(e).toBeInstanceOf(DriverFault);
    }
    const [event] = (await disabled) as [RecoveryEvent];
    expect(event).toMatchObject({ driver: 'timer', fault: { kind: 'recovery-failed', message: expect.stringMatching(/initfault\.so: module_init faulted: .*\[EINITFAULT\]/) } });
    expect(d.state).toBe('disabled');
  });

  it('a fallback that loads takes the driver over, in the same Driver object', async () => {
    const d = await kernel.load(crashyAs(dir, 'good'));
    faultOf(() => d.call('null_deref'));
    expect(kernel.events().filter((e) => e.driver === 'good').map((e) => e.event)).toEqual(['fault', 'recovering', 'fallback']);
    expect(d.path).toBe(driverPath('crashy'));
    expect(d.state).toBe('running');
    expect(d.call('add', 2, 3)).toBe(5);
    expect(kernel.domains().filter((x) => x.name === 'good')).toHaveLength(1);
  });

  // The fallback's first failure is its domain's first (generation 1), as the original's was: the agent hears of it.
  // Before, the claim of the original's failure covered it: no event, and the driver stayed failed for good.
  it('a fallback in place whose call faults: the agent decides at once (past the policy\'s limit: disabled)', async () => {
    const fallback = crashyAs(dir, 'twice-fallback'); // 'good' has crashy itself
    const d = await kernel.load(crashyAs(dir, 'twice'));
    faultOf(() => d.call('null_deref'));
    expect(d.path).toBe(fallback);
    const fault = faultOf(() => d.call('null_deref')); // the fallback's own null_deref
    const events = kernel.events().filter((e) => e.driver === 'twice');
    expect(events.map((e) => e.event)).toEqual(['fault', 'recovering', 'fallback', 'fault', 'recovering', 'disabled']);
    // the error says how the fallback failed: before, only that it did
    const own = events[3].fault!;
    expect(own.kind).toBe('segv');
    expect(fault.recoveryFailed).toBe(`its fallback driver ${fallback}, in its place, failed too (segv: ${own.message}): there is no other [EFALLBACK]`);
    expect(d.state).toBe('disabled');
  });

  // the policy's limit is passed already: the agent would put the fallback in its own place
  it('a fallback in place that fails too: disabled, saying so (not that the driver is its own fallback)', async () => {
    const d = await kernel.load(crashyAs(dir, 'again'));
    faultOf(() => d.call('null_deref'));
    expect(d.path).toBe(driverPath('null'));
    const disabled: string[] = [];
    kernel.on('disabled', (e) => e.driver === 'again' && disabled.push(e.fault?.message ?? ''));
    let own: RecoveryEvent['fault'];
    kernel.on('fault', (e) => (own = e.fault));
    d.recover(); // the fallback fails (an explicit recovery), recovered at once
    expect(disabled).toEqual([`its fallback driver ${driverPath('null')}, in its place, failed too (${own!.kind}: ${own!.message}): there is no other [EFALLBACK]`]);
    expect(d.state).toBe('disabled');
  });

  // A listener of one driver's recovery events may recover another driver before the first recovery returns: each
  // caller's error says how its own driver's recovery ended. Before, it said how the latest recovery (the other's) ended.
  it('a recovery listener that recovers another driver: each caller\'s DriverFault says how its own recovery ended', async () => {
    const healthy = await kernel.load(crashyAs(dir, 'healthy'));
    const unfit = await kernel.load(crashyAs(dir, 'unfit')); // disabled at its failure: its fallback's module_init faults
    const pokeUnfit = (e: RecoveryEvent) => e.driver === 'healthy' && faultOf(() => unfit.call('null_deref'));
    kernel.on('recovered', pokeUnfit);
    try {
      const f = faultOf(() => healthy.call('null_deref'));
      expect(unfit.state).toBe('disabled'); // the listener ran, and the other recovery failed
      expect(healthy.state).toBe('running');
      expect(f.recoveryFailed).toBeUndefined();
      expect(f.message).not.toContain('its recovery failed');
    } finally {
      kernel.off('recovered', pokeUnfit);
    }

    const first = await kernel.load(crashyAs(dir, 'unfit-first'));
    const pokeHealthy = (e: RecoveryEvent) => e.driver === 'unfit-first' && faultOf(() => healthy.call('null_deref'));
    kernel.on('disabled', pokeHealthy);
    try {
      const f = faultOf(() => first.call('null_deref'));
      expect(healthy.state).toBe('running');
      expect(first.state).toBe('disabled');
      expect(f.recoveryFailed).toMatch(/initfault\.so: module_init faulted: .*\[EINITFAULT\]/);
    } finally {
      kernel.off('disabled', pokeHealthy);
    }
  });
});

describe('policy files', () => {
  it('refuse a driver that is its own fallback', () => {
    expect(() => parsePolicy('drivers:\n  crashy: { action: fallback, fallback: crashy }\n', 'p.yaml')).toThrow(
      'p.yaml: drivers.crashy.fallback: "crashy" is the driver itself: a driver cannot be its own fallback',
    );
    // inherited from the default entry, too
    expect(() => parsePolicy('default: { action: fallback, fallback: ticker }\ndrivers:\n  ticker: { maxFailures: 2 }\n', 'p.yaml')).toThrow(
      'p.yaml: drivers.ticker.fallback: "ticker" is the driver itself',
    );
  });

  it('`nooks policy check` finds a fallback driver that does not exist', async () => {
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, `drivers:\n  crashy: { action: fallback, fallback: ${join(dir, 'gone.so')} }\n  blk: { action: fallback, fallback: ticker }\n`);
    const bad = await nooks(['policy', 'check', file]);
    expect(bad.code).toBe(1);
    for (const named of [file, 'drivers.crashy.fallback', join(dir, 'gone.so')]) expect(bad.stderr).toContain(named); // the file, the key, the path
    writeFileSync(file, `drivers:\n  blk: { action: fallback, fallback: ticker }\n`);
    const good = await nooks(['policy', 'check', file]);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain(`${file}: valid`);
  });
});
