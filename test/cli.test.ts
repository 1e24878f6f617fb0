// The `nooks` command line, end to end: the built CLI (dist/lib/cli/main.js)
// run as a child process from the package root, the way a user runs it. Each
// command's exit status and output (JSON where the command has it) are checked,
// not the library underneath: the library has its own tests.
//
// The CLI runs from dist/, so these tests need `npx tsc -p .` after any change
// to lib/ (the first test says so when dist/ is missing or older than lib/).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../lib/cli/main.js';
import { Kernel } from '../lib/index.js';
import { packageRoot } from '../lib/paths.js';
import { cli, nooks as run, shown } from './helpers/cli.js';
import type { Exit } from './helpers/util.js';

type Run = Exit;

/** Runs `node dist/lib/cli/main.js ...args` from the package root; kills it after `timeoutMs`. */
function nooks(args: string[], timeoutMs = 20_000): Promise<Run> {
  const env = { ...process.env };
  delete env.NOOKS_DEBUG;
  return run(args, { timeoutMs, env });
}

/** The whole of stdout as one JSON document; the failure message shows what was printed instead. */
function json<T = any>(r: Run): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${r.code}, signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

function expectExit(r: Run, code: number): void {
  expect(r.signal, shown(r)).toBeNull();
  expect(r.code, shown(r)).toBe(code);
}

/** Every .ts file under `dir`. */
function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

/** `nooks <command> --help`, run once per command for the tests that read it. */
const helps = new Map<string, Promise<Run>>();
function help(command: string): Promise<Run> {
  if (!helps.has(command)) helps.set(command, nooks([command, '--help']));
  return helps.get(command)!;
}

// What auto picks here: pkey where it can run, else mprotect (this CI machine has no PKU).
const autoIsolation = Kernel.pkuSupported() ? 'pkey' : 'mprotect';

describe('nooks CLI (node dist/lib/cli/main.js)', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nooks-cli-test-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is built: dist/ is at least as new as every lib/ source', () => {
    expect(existsSync(cli), `${cli} is missing: run \`npx tsc -p .\``).toBe(true);
    const stale = tsFiles(join(packageRoot, 'lib')).filter((src) => {
      const out = join(packageRoot, 'dist', relative(packageRoot, src)).replace(/\.ts$/, '.js');
      return !existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs;
    });
    expect(stale.map((s) => relative(packageRoot, s)), 'dist/ is older than these sources: run `npx tsc -p .`').toEqual([]);
  });

  it('demo --json: all nine faults detected as the right kind and recovered; canary intact; ticker kept ticking', async () => {
    const r = await nooks(['demo', '--json']);
    expectExit(r, 0);
    const d = json<{
      isolation: string;
      rows: {
        fault: string; detectedAs: string | null; message: string | null; recovered: boolean; recoveryMs: number; state: string;
        add: number | string | null; canaryIntact: boolean; tickerTicksBefore: number; tickerTicksAfter: number; problems: string[];
      }[];
      tickerTicks: number;
      canaryIntact: boolean;
      skipped?: string;
      applications: { app: string; class: string; ok: boolean }[];
      shadowed: { app: string; config: string; outcome: string; failures: number }[];
    }>(r);
    // the device classes' applications, each on its emulated device and isolated driver
    expect(d.applications.map((a) => [a.class, a.app, a.ok])).toEqual([
      ['block', 'db', true], ['serial', 'echo', true], ['sound', 'player', true], ['sound', 'recorder', true], ['net', 'net-transfer', true],
    ]);
    // and again with their drivers failing mid-run, shadowed: every one continues
    expect(d.shadowed.map((x) => [x.app, x.config, x.outcome])).toEqual(
      ['db', 'echo', 'player', 'net-transfer'].map((app) => [app, 'shadow', 'continued']));
    for (const x of d.shadowed) expect(x.failures, x.app).toBeGreaterThanOrEqual(1);
    expect(d.isolation).toBe(autoIsolation);
    expect(d.skipped).toBeUndefined();
    // Under mprotect the write over the canary is a plain SEGV_ACCERR; under pkey a protection-key fault.
    const expected: [string, string][] = [
      ['null_deref', 'segv'],
      ['wild_write', d.isolation === 'pkey' ? 'pkey' : 'segv'],
      ['stack_overflow', 'stack-overflow'],
      ['illegal_instruction', 'ill'],
      ['divide_by_zero', 'fpe'],
      ['double_free', 'bad-call'],
      ['bad_pointer_arg', 'bad-call'],
      ['infinite_loop', 'timeout'],
      ['deadlock', 'timeout'],
    ];
    expect(d.rows.map((row) => [row.fault, row.detectedAs])).toEqual(expected);
    for (const row of d.rows) {
      const what = `${row.fault}: ${JSON.stringify(row)}`;
      expect(row.problems, what).toEqual([]);
      expect(row.recovered, what).toBe(true);
      expect(row.state, what).toBe('running');
      expect(row.add, what).toBe(5);
      expect(row.message, what).toMatch(/\S/);
      expect(row.canaryIntact, what).toBe(true);
      expect(row.tickerTicksAfter, what).toBeGreaterThan(row.tickerTicksBefore);
    }
    // the hangs end by the watchdog, after the demo's 300 ms budget and not much later
    for (const row of d.rows.filter((x) => x.detectedAs === 'timeout')) {
      expect(row.recoveryMs, row.fault).toBeGreaterThanOrEqual(300);
      expect(row.recoveryMs, row.fault).toBeLessThan(5_000);
    }
    expect(d.canaryIntact).toBe(true);
    expect(d.tickerTicks).toBeGreaterThanOrEqual(d.rows.at(-1)!.tickerTicksAfter);
    expect(d.tickerTicks).toBeGreaterThan(d.rows[0].tickerTicksBefore);
  });

  it('demo --isolation none --json: runs the harmless part only and reports the faults as skipped', async () => {
    const r = await nooks(['demo', '--isolation', 'none', '--json']);
    expectExit(r, 0); // a fault run under none would have killed it with SIGSEGV
    const d = json<{ isolation: string; rows: unknown[]; tickerTicks: number; canaryIntact: boolean; skipped?: string }>(r);
    expect(d.isolation).toBe('none');
    expect(d.rows).toEqual([]);
    expect(d.skipped).toEqual(expect.stringContaining("isolation 'none'"));
    expect(d).not.toHaveProperty('shadowed'); // the applications' failures need isolation too
    expect(d.canaryIntact).toBe(true);
    expect(d.tickerTicks).toBeGreaterThan(0); // ticker did run, unprotected
  });

  it('demo --isolation process --json: the applications and their shadowed trials run under process too', async () => {
    // every driver in a host process of its own, and each shadowed trial boots a kernel: 7.5 s at a load of 3.5 here,
    // and more than 20 s at a load of 10
    const r = await nooks(['demo', '--isolation', 'process', '--json'], 80_000);
    expectExit(r, 0);
    const d = json<{ isolation: string; applications: { app: string; report: { isolation?: string; sender?: { isolation?: string } } }[]; shadowed: { isolation?: string }[] }>(r);
    expect(d.isolation).toBe('process');
    expect(d.applications.map((a) => a.report.isolation ?? a.report.sender?.isolation)).toEqual(d.applications.map(() => 'process'));
    expect(d.shadowed.map((row) => row.isolation)).toEqual(d.shadowed.map(() => 'process'));
  }, 90_000);

  it('run crashy add 2 3: prints 5, exit 0', async () => {
    const r = await nooks(['run', 'crashy', 'add', '2', '3']);
    expectExit(r, 0);
    expect(r.stdout).toMatch(/^crashy\.add\(2, 3\) = 5 /m);
    expect(r.stdout).not.toMatch(/FAULTED/);

    const j = await nooks(['run', 'crashy', 'add', '2', '3', '--json']);
    expectExit(j, 0);
    expect(json(j)).toMatchObject({ isolation: autoIsolation, driver: 'crashy', function: 'add', args: [2, 3], result: 5, state: 'running' });
  });

  it('run crashy null_deref: exit 2, the fault reported, crashy recovered', async () => {
    const r = await nooks(['run', 'crashy', 'null_deref', '--json']);
    expectExit(r, 2);
    expect(json(r)).toMatchObject({
      driver: 'crashy', function: 'null_deref', fault: { kind: 'segv', address: '0x0', message: expect.stringContaining('null_deref') },
      state: 'running', recovery: { event: 'recovered', decision: 'restart' }, canaryIntact: true,
    });
    const text = await nooks(['run', 'crashy', 'null_deref']);
    expectExit(text, 2);
    for (const said of ['null_deref', 'segv', '0x0']) expect(text.stdout).toContain(said); // the same, for people
  });

  it('run nosuchdriver f: exit 1 with an ENOENT message', async () => {
    const r = await nooks(['run', 'nosuchdriver', 'f']);
    expectExit(r, 1);
    expect(r.stderr).toMatch(/^nooks: .*nosuchdriver\.so.*ENOENT/m);
    expect(r.stdout).toBe('');
  });

  it('an error with a code ends with it, [CODE], however it reached the command line', async () => {
    const workload = (name: string, body: string) => {
      writeFileSync(join(dir, `${name}.mjs`), body);
      return join(dir, `${name}.mjs`);
    };
    const lastLine = (r: Run) => `${r.stdout}${r.stderr}`.trimEnd().split('\n').at(-1);
    const missing = join(dir, 'missing.so');
    const loads = workload('loads-missing', `export default async ({ kernel }) => { await kernel.load('${missing}'); return true; };\n`);
    const lacks = workload('lacks-device', `export default async ({ kernel }) => { await kernel.load('crashy', { devices: ['0000:00:1f.0'] }); return true; };\n`);
    const adds = workload('adds-unknown', "export default async ({ kernel }) => { kernel.addDevice('nosuch'); return true; };\n");
    const loadThrows = workload('load-throws', "export const load = ({ kernel }) => { kernel.addDevice('nosuch'); return {}; };\nexport default async () => true;\n");
    const inject = (module: string) => nooks(['inject', 'null', '--workload', module, '--seed', '1', '--isolation', 'mprotect'], 30_000);
    const [run, load, device, add, setup] = await Promise.all([nooks(['run', missing, 'f']), inject(loads), inject(lacks), inject(adds), inject(loadThrows)]);
    expect(lastLine(run)).toBe(`nooks: ${missing}: no such driver file [ENOENT]`);
    // the workload's error, from the addon (kernel.load, kernel.addDevice) or from TypeScript: the same shape
    expect(lastLine(load)).toMatch(new RegExp(`the workload malfunctioned: ${missing}: no such driver file \\[ENOENT\\]$`));
    expect(lastLine(device)).toMatch(/the workload malfunctioned: .*no device 0000:00:1f\.0 on the kernel's bus.* \[ENODEV\]$/);
    expect(lastLine(add)).toMatch(/the workload malfunctioned: unknown device kind 'nosuch'.* \[EINVAL\]$/);
    // its load export's error keeps its own code inside the trial's
    expect(lastLine(setup)).toMatch(/^nooks: the trial could not be set up: .*unknown device kind 'nosuch'.* \[EINVAL\] \[EWORKLOAD\]$/);
  });

  it('recover null --times 3 --json: three recoveries, running at the end', async () => {
    const r = await nooks(['recover', 'null', '--times', '3', '--json']);
    expectExit(r, 0);
    const d = json<{ driver: string; requested: number; recoveries: { n: number; outcome: string; state: string }[]; domain: { recoveries: number; state: string } }>(r);
    expect(d.driver).toBe('null');
    expect(d.requested).toBe(3);
    expect(d.recoveries.map((x) => [x.n, x.outcome, x.state])).toEqual([
      [1, 'recovered', 'running'],
      [2, 'recovered', 'running'],
      [3, 'recovered', 'running'],
    ]);
    expect(d.domain).toMatchObject({ name: 'null', state: 'running', recoveries: 3 });
  });

  it('domains ticker crashy --json: both domains with the objects each holds', async () => {
    const r = await nooks(['domains', 'ticker', 'crashy', '--json']);
    expectExit(r, 0);
    const d = json<{
      isolation: string;
      domains: { name: string; state: string; objects: number; isolation: string }[];
      objects: Record<string, { type: string; address: string; size: number; label: string }[]>;
    }>(r);
    expect(d.isolation).toBe(autoIsolation);
    expect(d.domains.map((x) => [x.name, x.state, x.isolation])).toEqual([
      ['ticker', 'running', autoIsolation],
      ['crashy', 'running', autoIsolation],
    ]);
    expect(Object.keys(d.objects).sort()).toEqual(['crashy', 'ticker']);
    const types = (name: string) => d.objects[name].map((o) => o.type).sort();
    // ticker's timer holds its spinlock (a tracked lock) for a moment each tick: the snapshot may catch it
    expect(types('ticker').filter((t) => t !== 'lock')).toEqual(['irq', 'memory', 'timer', 'work']);
    expect(types('ticker').filter((t) => t === 'lock').length).toBeLessThanOrEqual(1);
    expect(types('crashy')).toEqual(['memory', 'timer', 'timer', 'work']);
    expect(d.objects.ticker.find((o) => o.type === 'irq')).toMatchObject({ address: '5', label: 'ticker' });
    expect(d.objects.crashy.find((o) => o.type === 'memory')).toMatchObject({ size: 128, label: 'kmalloc' });
    // crashy runs nothing on its own; ticker's timer may hold its spinlock (a tracked lock) in one snapshot and not the other
    const crashyDomain = d.domains.find((x) => x.name === 'crashy')!;
    expect(crashyDomain.objects).toBe(d.objects.crashy.length);
  });

  it('policy check: a valid file exits 0 and prints it resolved; an invalid one exits 1 naming the key', async () => {
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'default:\n  maxFailures: 3\ndrivers:\n  crashy:\n    timeBudgetMs: 300\n');
    const badValue = join(dir, 'bad-value.yaml');
    writeFileSync(badValue, 'default:\n  action: restart\n  maxFailures: three\n');
    const badKey = join(dir, 'bad-key.yaml');
    writeFileSync(badKey, 'drivers:\n  crashy:\n    timeBudgetMS: 300\n');
    // a fallback is checked as the loader would check it, without running it: here, not a shared object at all
    const notDriver = join(dir, 'not-a-driver.so');
    writeFileSync(notDriver, 'not an ELF file\n');
    const badFallback = join(dir, 'bad-fallback.yaml');
    writeFileSync(badFallback, `drivers:\n  crashy:\n    action: fallback\n    fallback: ${notDriver}\n`);
    // every bad entry, each by its key: not only the first
    const twoBad = join(dir, 'two-bad.yaml');
    writeFileSync(twoBad, 'default:\n  windowMs: -1\ndrivers:\n  crashy:\n    maxFailures: 2\n  blk:\n    action: reboot\n  ticker:\n    shadow: maybe\n    maxFailures: 0\n  e1000:\n    stallMS: 9\n');
    const twoFallbacks = join(dir, 'two-bad-fallbacks.yaml');
    writeFileSync(twoFallbacks, `drivers:\n  crashy:\n    action: fallback\n    fallback: ${notDriver}\n  blk:\n    action: fallback\n    fallback: ${join(dir, 'absent.so')}\n`);
    // each check its own process, all at once
    const [ok, okJson, bv, bk, bf, tb, tf] = await Promise.all([[good], [good, '--json'], [badValue], [badKey], [badFallback], [twoBad], [twoFallbacks]]
      .map((args) => nooks(['policy', 'check', ...args])));

    expectExit(ok, 0);
    expect(ok.stdout).toContain(`${good}: valid`);
    expect(ok.stdout).toMatch(/^crashy\s+restart\s+-\s+3\s+60000\s+300\s+67108864\s+yes\s+2,64$/m);
    expectExit(okJson, 0);
    expect(json(okJson)).toMatchObject({
      valid: true,
      default: { action: 'restart', maxFailures: 3, timeBudgetMs: 2000 },
      drivers: { crashy: { action: 'restart', maxFailures: 3, timeBudgetMs: 300 } },
    });

    expectExit(bv, 1);
    expect(bv.stderr).toContain(badValue);
    expect(bv.stderr).toContain('default.maxFailures');
    expect(bv.stdout).not.toContain('valid');

    expectExit(bk, 1);
    expect(bk.stderr).toContain(badKey);
    expect(bk.stderr).toContain('drivers.crashy.timeBudgetMS');

    expectExit(bf, 1);
    expect(bf.stderr).toContain(`${badFallback}: drivers.crashy.fallback: ${notDriver}`);
    expect(bf.stderr).toContain('[ENOTELF]');

    expectExit(tb, 1);
    expect(tb.stderr).toContain(`${twoBad}: 5 problems:\n`);
    for (const key of ['default.windowMs: ', 'drivers.blk.action: ', 'drivers.ticker.shadow: ', 'drivers.ticker.maxFailures: ', 'drivers.e1000.stallMS: ']) {
      expect(tb.stderr).toContain(`\n  ${key}`);
    }
    expect(tb.stderr).not.toContain('drivers.crashy');
    expectExit(tf, 1);
    for (const named of ['2 problems', `drivers.crashy.fallback: ${notDriver}`, '[ENOTELF]', 'drivers.blk.fallback: ', '[ENOENT]']) expect(tf.stderr).toContain(named);
  });

  it('bench xpc --json --runs 3 --iters 2000: the documented shape (not speed)', async () => {
    const r = await nooks(['bench', 'xpc', '--json', '--runs', '3', '--iters', '2000'], 30_000);
    expectExit(r, 0);
    const d = json<{ cpu: unknown; pku: unknown; wrpkruPairCycles: unknown; mprotectPairCycles: unknown; modes: Record<string, unknown>[]; runs: unknown; iters: unknown }>(r);
    expect(typeof d.cpu).toBe('string');
    expect(d.cpu).toMatch(/\S/);
    expect(typeof d.pku).toBe('boolean');
    expect(d.pku).toBe(Kernel.pkuSupported());
    expect(d.runs).toBe(3);
    expect(d.iters).toBe(2000);
    expect(Array.isArray(d.modes)).toBe(true);
    expect(d.modes.map((m) => m.isolation)).toEqual(['none', 'pkey', 'mprotect', 'process']);
    const mode = (name: string) => d.modes.find((m) => m.isolation === name)!;
    const figures = ['roundTripCycles', 'roundTripNs', 'tappedRoundTripCycles', 'tappedRoundTripNs', 'upcallCycles', 'upcallNs', 'jsCallNs',
      'ioReadCycles', 'ioReadNs', 'mmioTrapCycles', 'mmioTrapNs'];
    const measured = (m: Record<string, unknown>) => {
      expect(m.supported, String(m.isolation)).toBe(true);
      for (const f of figures) {
        expect(typeof m[f], `${m.isolation}.${f}`).toBe('number');
        expect(Number.isFinite(m[f]), `${m.isolation}.${f}`).toBe(true);
        expect(m[f] as number, `${m.isolation}.${f}`).toBeGreaterThan(0);
      }
    };
    measured(mode('none'));
    measured(mode('mprotect'));
    // the round trip again with more domains loaded, and the mprotect calls of each crossing
    type Loaded = { loaded: number; roundTripCycles: number; mprotectCallsPerCrossing: number; upcallCycles: number; mprotectCallsPerKernelCall: number };
    const domains = (m: Record<string, unknown>) => m.domains as Loaded[];
    for (const m of d.modes.filter((m) => m.supported)) {
      expect(domains(m).map((x) => x.loaded), String(m.isolation)).toEqual([1, 4, 16]);
      for (const x of domains(m)) expect(x.roundTripCycles, `${m.isolation} ${x.loaded} loaded`).toBeGreaterThan(0);
      for (const x of domains(m)) expect(x.upcallCycles, `${m.isolation} ${x.loaded} loaded`).toBeGreaterThan(0);
      expect(domains(m)[0].mprotectCallsPerCrossing).toBe(m.mprotectCallsPerCrossing);
      expect(domains(m)[0].mprotectCallsPerKernelCall).toBe(m.mprotectCallsPerKernelCall);
      if (m.isolation !== 'mprotect')
        for (const x of domains(m)) expect([x.mprotectCallsPerCrossing, x.mprotectCallsPerKernelCall], String(m.isolation)).toEqual([0, 0]);
    }
    // mprotect: the host-object heap made read-only and writable again per crossing and per kernel call, however many
    // domains are loaded (the others stay closed)
    for (const x of domains(mode('mprotect'))) {
      expect(x.mprotectCallsPerCrossing, `${x.loaded} loaded`).toBe(2);
      expect(x.mprotectCallsPerKernelCall, `${x.loaded} loaded`).toBe(2);
    }
    expect(d.mprotectPairCycles as number).toBeGreaterThan(0);
    const pkey = mode('pkey');
    if (d.pku) {
      measured(pkey);
      expect(typeof d.wrpkruPairCycles).toBe('number');
    } else {
      expect(pkey.supported).toBe(false);
      expect(typeof pkey.reason).toBe('string');
      expect(pkey.reason).toBe(Kernel.pkeyUnusableReason());
      expect(pkey.reason).toMatch(/\S/);
      expect(d.wrpkruPairCycles).toBeNull();
    }
  });

  it('bench scale --json --seconds 0.05 --runs 2: every mode and shape crossed with 1 to 16 threads in each round, the median run per point (the shape, not speed)', async () => {
    const r = await nooks(['bench', 'scale', '--json', '--seconds', '0.05', '--runs', '2'], 60_000);
    expectExit(r, 0);
    const d = json<{ cpu: string; cores: number; seconds: number; runs: number; modes: Record<string, any>[] }>(r);
    expect(d.cpu).toMatch(/\S/);
    expect(Number.isInteger(d.cores) && d.cores > 0).toBe(true);
    expect(d.seconds).toBe(0.05);
    expect(d.runs).toBe(2);
    const measured = ['none', 'mprotect', ...(Kernel.pkuSupported() ? ['pkey'] : []), 'process'];
    expect(d.modes.filter((m) => m.supported).map((m) => `${m.isolation} ${m.shape}`)).toEqual(
      measured.flatMap((i) => [`${i} own-driver`, `${i} one-driver`]));
    for (const m of d.modes.filter((m) => m.supported)) {
      expect(m.points.map((p: { threads: number }) => p.threads), `${m.isolation} ${m.shape}`).toEqual([1, 2, 4, 8, 16]);
      for (const p of m.points) {
        const at = `${m.isolation} ${m.shape} ${p.threads}`;
        // every thread crossed in every round (a thread that cannot cross fails the command)
        expect(p.runs, at).toHaveLength(2);
        for (const run of p.runs) expect(run.crossingsPerSec, at).toBeGreaterThan(0);
        // of two runs, the median is the upper one, reported whole
        const upper = [...p.runs].sort((a, b) => a.crossingsPerSec - b.crossingsPerSec)[1];
        expect({ crossingsPerSec: p.crossingsPerSec, perThread: p.perThread }, at).toEqual(upper);
        expect(p.perThread).toBeCloseTo(p.crossingsPerSec / p.threads, -1);
      }
    }
    if (!Kernel.pkuSupported()) expect(d.modes.find((m) => m.isolation === 'pkey')).toEqual({ isolation: 'pkey', supported: false, reason: Kernel.pkeyUnusableReason() });
  });

  it('bench block --json --seconds 0.2 --runs 3: each mode\'s median run of three rounds, every run kept, and where each op\'s cost went', async () => {
    const r = await nooks(['bench', 'block', '--json', '--seconds', '0.2', '--runs', '3'], 60_000);
    expectExit(r, 0);
    const d = json<{ workload: string; seconds: number; runs: number; modes: Record<string, any>[] }>(r);
    expect(d).toMatchObject({ workload: 'block-random-4k', seconds: 0.2, runs: 3 });
    const measured = d.modes.filter((m) => m.supported);
    expect(measured.map((m) => m.isolation)).toEqual(['none', ...(Kernel.pkuSupported() ? ['pkey'] : []), 'mprotect', 'process']);
    const figures = ({ throughput, crossingsPerSec, cpuSeconds, breakdown }: Record<string, unknown>) => ({ throughput, crossingsPerSec, cpuSeconds, breakdown });
    const middle = <T>(v: T[], by: (x: T) => number): T => [...v].sort((a, b) => by(a) - by(b))[1];
    for (const m of measured) {
      const runs: Record<string, any>[] = m.runs;
      expect(runs, m.isolation).toHaveLength(3);
      // the median run by throughput; relative: the median of the rounds' own ratios to none
      expect(figures(m), m.isolation).toEqual(figures(middle(runs, (x) => x.throughput)));
      expect(m.relative, m.isolation).toBe(middle(runs, (x) => x.relative).relative);
      for (const run of runs) {
        const b = run.breakdown;
        expect(run.throughput, m.isolation).toBeGreaterThan(0);
        expect(b.crossingsPerUnit, m.isolation).toBeGreaterThan(0);
        // a 4 KiB op is one request, submitted at least once; but the ops in flight when the window opened (128 at
        // most: the bench's lanes) were submitted before it. The window lasts 0.2 s or more: units >= throughput * 0.2.
        expect(b.requestCallsPerUnit, m.isolation).toBeGreaterThanOrEqual(1 - 128 / (run.throughput * 0.2) - 0.0005);
        expect(b.unitsPerRequestCrossing, m.isolation).toBeGreaterThanOrEqual(1);
        expect(b.unitsPerRequestCrossing, m.isolation).toBeLessThanOrEqual(64); // one batch page's worth at most
        expect(b.interruptsPerUnit, m.isolation).toBeGreaterThan(0); // the disk completes through its interrupt
        expect(b.cpuUsPerUnit, m.isolation).toBeGreaterThan(0);
        for (const k of ['voluntarySwitchesPerUnit', 'involuntarySwitchesPerUnit']) expect(b[k], `${m.isolation} ${k}`).toBeGreaterThanOrEqual(0);
        if (m.isolation === 'none') {
          expect(b.kernelCallsPerUnit).toBeNull(); // its kernel calls skip the counting wrappers
          expect(b.kernelCallsPerUnitByName).toEqual({});
        } else {
          // each request completed once; the window's edges, as above: up to 128 completed before it and counted in
          // it, or completed in it and counted after it
          expect(Math.abs(b.kernelCallsPerUnitByName.blk_complete - 1), m.isolation).toBeLessThanOrEqual(128 / (run.throughput * 0.2) + 0.0005);
          expect(b.kernelCallsPerUnit, m.isolation).toBeGreaterThan(b.kernelCallsPerUnitByName.blk_complete);
        }
        if (m.isolation === 'mprotect') expect(b.mprotectCallsPerUnit).toBeGreaterThanOrEqual(2 * b.kernelCallsPerUnit * 0.95); // a pair per kernel call
        else expect(b.mprotectCallsPerUnit, m.isolation).toBeNull();
        if (m.isolation === 'process') expect(b.spinsRunOutPerUnit).toBeGreaterThanOrEqual(0);
        else expect(b.spinsRunOutPerUnit, m.isolation).toBeNull();
      }
    }
    for (const run of measured[0].runs) expect(run.relative).toBe(1);
  });

  it('bench block --seconds 0.1 --runs 2 (text): every run\'s throughput, and a row of per-op costs for each measured mode', async () => {
    const r = await nooks(['bench', 'block', '--seconds', '0.1', '--runs', '2'], 60_000);
    expectExit(r, 0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toContain('2 rounds of every mode in turn');
    const measured = ['none', ...(Kernel.pkuSupported() ? ['pkey'] : []), 'mprotect', 'process'];
    const rowsOf = (header: string) => {
      const at = lines.findIndex((l) => l.startsWith(header));
      expect(at, header).toBeGreaterThan(0);
      return lines.slice(at + 2).filter((l) => measured.some((m) => l.startsWith(`${m} `))).slice(0, measured.length);
    };
    // the summary table: the median run's figures, then each run's throughput
    const summary = rowsOf('isolation        ops/s');
    expect(lines.find((l) => l.startsWith('isolation        ops/s'))).toMatch(/each run$/);
    for (const row of summary) expect(row, row).toMatch(/\s\d+ \d+$/);
    expect(summary.map((l) => l.split(' ')[0])).toEqual(measured);
    // the breakdown table: a figure per column, n/a where a mode does not count it
    const costs = rowsOf('isolation  crossings  requests');
    expect(costs.map((l) => l.split(' ')[0])).toEqual(measured);
    for (const row of costs) expect(row.trim().split(/\s+/), row).toHaveLength(9);
    expect(costs[0].trim().split(/\s+/)[4]).toBe('n/a'); // none: kernel calls uncounted
    expect(r.stdout).toContain("kernel calls n/a: under 'none'");
    const completions = /^kernel calls per op, mprotect: .*blk_complete ([\d.]+)/m.exec(r.stdout);
    expect(Number(completions?.[1])).toBeCloseTo(1, 1); // each request completed once
    expect(r.stdout).toMatch(/^mprotect calls per op \(page protection flipped\): \d/m);
  });

  // Before: it died of the signal (a report's, ending its command; Ctrl-C) and left its directory: '[ "nooks-bench-..." ]'
  it('bench block killed (SIGTERM) mid-run: dies of it, its temporary directory removed', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'nooks-cli-bench-kill-'));
    try {
      const child = spawn(process.execPath, [cli, 'bench', 'block', '--seconds', '5'], { env: { ...process.env, TMPDIR: tmp }, stdio: 'ignore' });
      const died = new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
      // once the bench uses it: the disk image in it
      const inUse = () => readdirSync(tmp).some((d) => readdirSync(join(tmp, d)).length > 0);
      while (child.exitCode === null && !inUse()) await new Promise((r) => setTimeout(r, 5));
      child.kill('SIGTERM');
      expect(await died).toBe('SIGTERM');
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('app: lists the applications; runs one with its own options; a bad option exits 2 with the usage', async () => {
    const list = json<{ name: string; class: string; usage: string }[]>(await nooks(['app', '--json']));
    expect(list.map((a) => a.name).sort()).toEqual(['db', 'echo', 'net-peer', 'net-transfer', 'player', 'recorder']);
    expect(new Set(list.map((a) => a.class))).toEqual(new Set(['block', 'serial', 'sound', 'net']));
    const dir = mkdtempSync(join(tmpdir(), 'nooks-cli-app-'));
    try {
      const db = await nooks(['app', 'db', '--image', join(dir, 'db.img'), '--size', '65536', '--rounds', '2', '--writes', '8']);
      expectExit(db, 0);
      expect(json(db)).toMatchObject({ ok: true, rounds: 2, writes: 16, mismatches: 0 });
      const bad = await nooks(['app', 'db', '--imag', 'x']);
      expectExit(bad, 2);
      expect(json(bad)).toMatchObject({ app: 'db', ok: false, error: { code: 'EINVAL', message: expect.stringContaining('usage: db --image PATH') } });
      const missing = await nooks(['app', 'recorder', '--out', join(dir, 'r.wav')]);
      expectExit(missing, 2);
      expect(json(missing).error.message).toContain('--in is required');
      const typo = await nooks(['app', 'plyer']);
      expectExit(typo, 1);
      expect(typo.stderr).toContain('unknown app "plyer" (did you mean "player"?)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bench: an unknown suite exits 1 and names the suites', async () => {
    const r = await nooks(['bench', 'nett']);
    expectExit(r, 1);
    expect(r.stderr).toContain('unknown benchmark "nett" (did you mean "net"?); available: xpc, scale, net, block, sound, serial, pci');
  });

  it('--help lists every command', async () => {
    const r = await nooks(['--help']);
    expectExit(r, 0);
    expect(r.stdout).toMatch(/^Usage: nooks <command> \[options\]$/m);
    for (const command of ['demo', 'app', 'table', 'bench', 'inject', 'campaign', 'run', 'recover', 'domains', 'policy', 'report', 'pci', 'guest']) {
      expect(r.stdout, command).toMatch(new RegExp(`^ {2}${command}( |$)`, 'm'));
    }
  });

  it('a command\'s --help describes each of its options for that command, not for the others that share it', async () => {
    const commands = ['demo', 'new', 'build', 'sdk', 'bench', 'app', 'table', 'inject', 'campaign', 'report', 'run', 'recover', 'domains', 'policy', 'guest', 'pci'];
    const options = new Map(await Promise.all(commands.map(async (command) => {
      const r = await help(command);
      expectExit(r, 0);
      return [command, /^Options:\n([^]*?)\n\n/m.exec(r.stdout)![1]] as const;
    })));
    for (const [command, text] of options) {
      // "pci bind: ...", "campaign, inject --trials: ...", "run: the policy's": what the option does in another command
      const others = commands.filter((c) => c !== command).join('|');
      expect(text, command).not.toMatch(new RegExp(`(^|[ (;,])(${others})( [-a-z]+)?[:,]`, 'm'));
      expect(text, command).not.toMatch(new RegExp(`(^|[ (;,])${command}:`, 'm')); // "new: the device class" in new's own help
    }
    expect(options.get('new')).toMatch(/--force +Overwrite the files if they exist/);
    expect(options.get('report')).toMatch(/--out <path> +The report's directory \(default report\)/);
    expect(options.get('guest')).toMatch(/--seconds <s> +Measuring time per isolation mode \(default 1\)/); // guest.ts's default
  });

  it('a command\'s --help lists every option its table gives it: the shared flags it takes and those it parses itself', async () => {
    const runs = await Promise.all(commands.map((command) => help(command.name)));
    for (const [i, command] of commands.entries()) {
      const r = runs[i];
      expectExit(r, 0);
      const lines = /\nOptions:\n([^]*?)\n\n/.exec(r.stdout)![1].split('\n');
      const listed = lines.map((l) => /^ {2}(?:-\w, )?(-{1,2}[\w-]+)/.exec(l)![1]); // the long name where there are two
      const takes = [...(command.ownOptions ?? []).map((o) => o.option), ...command.flags.map((f) => `--${f}`), '--help'];
      expect(listed.sort(), command.name).toEqual(takes.sort());
    }
  });

  it('an unknown command exits 1 and suggests the closest one', async () => {
    const typos = [['demi', 'demo'], ['domain', 'domains'], ['recovr', 'recover']];
    const runs = await Promise.all(typos.map(([typo]) => nooks([typo])));
    for (const [i, [typo, meant]] of typos.entries()) {
      const r = runs[i];
      expectExit(r, 1);
      expect(r.stderr).toContain(`unknown command "${typo}" (did you mean "${meant}"?)`);
      expect(r.stdout).toBe('');
    }
    // nothing close: no suggestion
    const far = await nooks(['xyzzyq']);
    expectExit(far, 1);
    expect(far.stderr).toContain('unknown command "xyzzyq"');
    expect(far.stderr).not.toContain('did you mean');
  });
});
