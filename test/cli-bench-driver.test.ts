// `nooks bench driver`: a user's driver (the `nooks new` plain template, built
// here) under a user's bench module (the template's own), run as a user runs
// it: the JSON shape of the class benches (not speed), and its errors.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kernel } from '../lib/index.js';
import { nooks as run, shown } from './helpers/cli.js';
import type { Exit } from './helpers/util.js';

const project = mkdtempSync(join(tmpdir(), 'nooks-bench-driver-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));

const nooks = (...args: string[]): Promise<Exit> => run(args, { cwd: project, timeoutMs: 60_000 });
const measured = ['none', ...(Kernel.pkuSupported() ? ['pkey'] : []), 'mprotect', 'process'];

/** A bench module of `body` in the project. */
function module(name: string, body: string): string {
  writeFileSync(join(project, name), body);
  return name;
}

describe('nooks bench driver', () => {
  beforeAll(async () => {
    for (const args of [['new', 'hello'], ['build', 'hello/hello.c', '-o', 'build/hello.so']]) {
      const r = await nooks(...args);
      expect(r.code, shown(r)).toBe(0);
    }
  }, 60_000);

  it('--json --seconds 0.1 --runs 2: every available mode measured in each round, relative to none, with the breakdown', async () => {
    const r = await nooks('bench', 'driver', '--driver', 'build/hello.so', '--workload', 'hello/bench.mjs', '--json', '--seconds', '0.1', '--runs', '2');
    expect(r.code, shown(r)).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d).toMatchObject({ workload: 'hello/bench', seconds: 0.1, runs: 2 });
    expect(d.modes.filter((m: { supported: boolean }) => m.supported).map((m: { isolation: string }) => m.isolation)).toEqual(measured);
    if (!Kernel.pkuSupported()) expect(d.modes.find((m: { isolation: string }) => m.isolation === 'pkey')).toEqual({ isolation: 'pkey', supported: false, reason: Kernel.pkeyUnusableReason() });
    for (const m of d.modes.filter((x: { supported: boolean }) => x.supported)) {
      expect(m.unit).toBe('calls/s'); // the module's unit
      expect(m.relative, m.isolation).toBeGreaterThan(0);
      expect(m.runs, m.isolation).toHaveLength(2);
      for (const x of m.runs) {
        expect(x.throughput, m.isolation).toBeGreaterThan(0);
        // each call of the template's add() is one crossing into the driver's domain, and takes its lock (two kernel calls)
        expect(x.breakdown.crossingsPerUnit, m.isolation).toBeCloseTo(1, 1);
        expect(x.breakdown.cpuUsPerUnit, m.isolation).toBeGreaterThan(0);
        expect(x.breakdown.kernelCallsPerUnit, m.isolation).toBe(m.isolation === 'none' ? null : 2);
        if (m.isolation === 'mprotect') expect(x.breakdown.mprotectCallsPerUnit).toBeGreaterThanOrEqual(2);
        else expect(x.breakdown.mprotectCallsPerUnit, m.isolation).toBeNull();
      }
    }
    expect(d.modes[0].runs.map((x: { relative: number }) => x.relative)).toEqual([1, 1]);
  });

  it('--isolation mprotect: none (the baseline) and mprotect only; the text table', async () => {
    const r = await nooks('bench', 'driver', '--driver', 'build/hello.so', '--workload', 'hello/bench.mjs', '--isolation', 'mprotect', '--seconds', '0.1');
    expect(r.code, shown(r)).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => /^(none|pkey|mprotect|process) +\d/.test(l));
    expect(rows.map((l) => l.split(' ')[0])).toEqual(['none', 'mprotect', 'none', 'mprotect']); // the summary, then the breakdown
    expect(r.stdout).toContain('calls/s');
    expect(r.stdout).toMatch(/^mprotect calls per call \(page protection flipped\): \d/m);
  });

  it('a missing or non-ELF driver: the loader\'s codes', async () => {
    const missing = await nooks('bench', 'driver', '--driver', 'build/nope.so', '--workload', 'hello/bench.mjs');
    expect(missing.code, shown(missing)).toBe(1);
    expect(missing.stderr).toMatch(/nope\.so: no such driver file \[ENOENT\]/);
    const notElf = await nooks('bench', 'driver', '--driver', 'hello/hello.c', '--workload', 'hello/bench.mjs');
    expect(notElf.code, shown(notElf)).toBe(1);
    expect(notElf.stderr).toMatch(/hello\.c: not an ELF file \[ENOTELF\]/);
  });

  it('a module without start() is refused, naming the export; one whose start throws says its message and the mode', async () => {
    const campaignOnly = await nooks('bench', 'driver', '--driver', 'build/hello.so', '--workload', 'hello/workload.mjs');
    expect(campaignOnly.code, shown(campaignOnly)).toBe(1);
    expect(campaignOnly.stderr).toContain('workload.mjs: it must export start({ kernel, driver, dir }) => { done(), stop() }');
    expect(campaignOnly.stderr).toContain('[EWORKLOAD]');
    const throws = module('throws.mjs', `export function start({ kernel }) {
  if (kernel.isolation === 'mprotect') throw new Error('no device here');
  return { done: () => 1, stop() {} };
}\n`);
    const r = await nooks('bench', 'driver', '--driver', 'build/hello.so', '--workload', throws, '--seconds', '0.05');
    expect(r.code, shown(r)).toBe(1);
    expect(r.stderr).toContain("nooks: isolation mprotect: the bench module's start threw: no device here [EWORKLOAD]");
  });

  // Before: each said "workload module" (a campaign's), of a bench module.
  it('a bench module\'s bad load or import is said of the bench module', async () => {
    const badArgv = module('bad-argv.mjs', `export const load = () => ({ argv: '-v' });
export function start() { return { done: () => 1, stop() {} }; }\n`);
    const argv = await nooks('bench', 'driver', '--driver', 'build/hello.so', '--workload', badArgv, '--seconds', '0.05');
    expect(argv.code, shown(argv)).toBe(1);
    expect(argv.stderr).toContain(`nooks: isolation none: loading the driver: bench module ${join(project, badArgv)}: its load export's argv must be`);
    const badKey = module('bad-key.mjs', `export const load = () => ({ shadow: false });
export function start() { return { done: () => 1, stop() {} }; }\n`);
    const key = await nooks('bench', 'driver', '--driver', 'build/hello.so', '--workload', badKey, '--seconds', '0.05');
    expect(key.code, shown(key)).toBe(1);
    expect(key.stderr).toContain('the bench module\'s load export may set devices, env, params, dmaBytes, argv; not shadow (the benchmark\'s own) [EWORKLOAD]');
    const broken = module('broken.mjs', 'import \'no-such-package\';\n');
    const r = await nooks('bench', 'driver', '--driver', 'build/hello.so', '--workload', broken);
    expect(r.code, shown(r)).toBe(1);
    expect(r.stderr).toContain(`nooks: cannot import the bench module ${join(project, broken)}: `);
  });

  it('--driver and --workload are both needed, and are bench driver\'s own', async () => {
    const r = await nooks('bench', 'driver', '--driver', 'build/hello.so');
    expect(r.code, shown(r)).toBe(1);
    expect(r.stderr).toContain('bench driver needs --driver <x.so> and --workload <bench.mjs>');
    const other = await nooks('bench', 'block', '--workload', 'hello/bench.mjs');
    expect(other.code, shown(other)).toBe(1);
    expect(other.stderr).toContain('--workload is an option of bench driver');
  });
});
