// The fault signals nooks handles (native/trap/trap.cc) that are not a
// driver's fault, and the trap signal that is. A SIGBUS, SIGFPE or SIGILL that
// a process sends (kill) went to the default action's restore and was then
// lost: the process lived on, without nooks's handler, and the next driver
// fault of that signal killed it. A driver's breakpoint (int3) or single step
// (RFLAGS.TF) raised SIGTRAP, which nooks did not handle: the process died of
// it. Each case in a child process of its own, so that a death is seen.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Kernel } from '../lib/index.js';
import { packageRoot } from '../lib/paths.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { runNode, type Exit } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-fault-signals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const so = fixtureDriver('traps'); // test/fixtures/drivers/traps.c
const modes = ['mprotect', 'process', ...(Kernel.pkuSupported() ? ['pkey'] : [])];

/** Runs `body` in a child process with `k` booted under `isolation`, `d` the driver loaded; `out` printed as JSON lines. */
function inChild(isolation: string, body: string): Promise<Exit> {
  const script = `
    const { Kernel } = await import(${JSON.stringify(join(packageRoot, 'dist', 'lib', 'index.js'))});
    const k = await Kernel.boot({ isolation: ${JSON.stringify(isolation)} });
    const d = await k.load(${JSON.stringify(so)});
    const out = (o) => console.log(JSON.stringify(o));
    ${body}
    await k.shutdown();`;
  return runNode(['--input-type=module', '-e', script], dir, 30_000);
}

describe('a fault signal sent to the process', () => {
  it.each(['SIGBUS', 'SIGFPE', 'SIGILL', 'SIGTRAP'])('%s ends it by its default action, as without nooks', async (signal) => {
    const r = await inChild('mprotect', `out('sending'); process.kill(process.pid, '${signal}'); await new Promise((r) => setTimeout(r, 200)); out('lived on');`);
    expect(r.stdout.trim().split('\n')).toEqual(['"sending"']);
    expect(r.signal, r.stderr).toBe(signal);
  });
});

describe('a driver that traps', () => {
  it.each(modes)("%s: a breakpoint and a single step are faults of kind 'ill', the driver restarted, the kernel goes on", async (isolation) => {
    const body = `
      for (const fn of ['breakpoint', 'single_step']) {
        try { d.call(fn); out('returned'); } catch (e) { out([e.kind, e.signal, e.message]); }
        while (d.state !== 'running') await new Promise((r) => setTimeout(r, 5));
      }
      out(d.call('add', 1, 1));`;
    const r = await inChild(isolation, body);
    expect({ code: r.code, signal: r.signal }, r.stderr).toEqual({ code: 0, signal: null });
    const trap = (fn: string) => ['ill', 5, expect.stringMatching(new RegExp(`^traps: breakpoint or single-step trap \\(SIGTRAP\\) in traps\\.so:${fn}\\+`))];
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([trap('breakpoint'), trap('single_step'), 2]);
  });
});
