// An application's listener that throws (docs/api.md, the events on the kernel and the classes):
// it stops nothing of the kernel's (a load, a shutdown, a recovery, a shadow's
// restore), keeps its event from no other listener or handle, and its error is
// never swallowed. A device class's listener's error is the process's uncaught
// exception: those run in a program of their own (test/helpers/listener-throws.mjs,
// from dist/: `npm run build` first). A 'log' listener's is a process warning.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Kernel, type LogLine } from '../lib/index.js';
import { faultOf, programReport } from './helpers/util.js';

describe("a device class's listener that throws", () => {
  it("net: another handle gets every frame, each throw is an uncaught exception; a 'detached' listener's throw leaves kernel.shutdown() done", async () => {
    const r = await programReport<{
      sent: number; bFrames: number; aCalls: number; framesThrown: number; shutdown: string; bDetached: string; again: string; uncaught: string[];
    }>(['test/helpers/listener-throws.mjs', 'net'], 30_000);
    expect(r.bFrames).toBe(r.sent);
    expect(r.aCalls).toBeGreaterThan(0);
    expect(r.framesThrown).toBe(r.aCalls); // each throw reached 'uncaughtException'
    expect(r).toMatchObject({ shutdown: 'done', bDetached: 'eth0: the kernel was shut down: its drivers were unloaded', again: 'booted' });
    expect(r.uncaught).toEqual(["a's detached listener threw"]);
  }, 40_000);

  it("serial: a 'data' listener's throw loses nothing of the batch: the shadow's restore behind it runs, the port writes again", async () => {
    const r = await programReport<{ rxBeforeRecover: number; restarting: boolean; farGot: string; uncaught: string[] }>(['test/helpers/listener-throws.mjs', 'serial'], 30_000);
    expect(r.rxBeforeRecover).toBe(5); // the 'rx' event was waiting when recover() queued the restore
    expect(r.restarting).toBe(false);
    expect(r.farGot).toContain('ping');
    expect(r.uncaught).toEqual(['the data listener threw']);
  }, 40_000);
});

describe("a 'log' listener that throws", () => {
  let kernel: Kernel;
  let dir: string;
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  const heard: LogLine[] = [];
  // the listener hears a line once the JavaScript thread is free; its warning follows on the next tick
  const settled = () => new Promise((r) => setImmediate(r)).then(() => new Promise((r) => setImmediate(r)));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nooks-listener-errors-'));
    process.on('warning', onWarning);
    kernel = await Kernel.boot({ isolation: 'mprotect' });
    kernel.on('log', (l) => {
      heard.push(l);
      throw new Error(`the log listener threw on: ${l.text}`);
    });
  });
  afterEach(() => {
    warnings.length = 0;
    heard.length = 0;
  });
  afterAll(async () => {
    process.off('warning', onWarning);
    await kernel?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('load() returns its driver, loaded; the listener hears every line after, each throw a warning', async () => {
    kernel.addDevice('blk', { image: join(dir, 'd.img'), size: 1 << 20 });
    const blk = await kernel.load('blk');
    expect(kernel.driver('blk')).toBe(blk);
    expect(blk.state).toBe('running');
    const lines = kernel.log().length;
    await settled();
    expect(heard.length).toBeGreaterThan(0);
    expect(heard).toEqual(kernel.log().slice(lines - heard.length, lines));
    expect(warnings).toEqual(heard.map((l) => `a 'log' listener threw: the log listener threw on: ${l.text}`));
  });

  it('a driver call that faults throws its DriverFault, not the listener\'s error', async () => {
    const crashy = await kernel.load('crashy');
    const ticker = await kernel.load('ticker');
    ticker.call('print_hello'); // a line waiting for the fault's recovery to take it
    expect(faultOf(() => crashy.call('null_deref'))).toMatchObject({ kind: 'segv' });
    expect(crashy.state).toBe('running');
    await settled();
    expect(warnings.length).toBeGreaterThan(0);
  });

  it('kernel.shutdown() finishes: its drivers unloaded, a kernel boots after it', async () => {
    const ticker = kernel.driver('ticker')!;
    ticker.call('print_hello');
    await kernel.shutdown();
    expect(ticker.state).toBe('unloaded');
    await settled();
    expect(warnings.length).toBeGreaterThan(0);
    const next = await Kernel.boot({ isolation: 'mprotect' });
    await next.shutdown();
  });
});
