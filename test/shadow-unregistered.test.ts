// A device the shadow parked waits for a driver to register it again: the
// failed driver restarted, or the fallback driver the policy put in its place
// (whose load then owns it: native/shadow). When that driver runs for 2 s
// without registering it (the re-register rule's limit), or goes for good, the
// shadow ends the device, and the application's waiting operation fails with
// the reason instead of waiting forever. For every class: a fallback that
// registers nothing (null), that fallback unloaded, an unrelated driver loaded
// into the slot the failed one left, and a restarted driver whose probe now
// refuses the device (a persistent bug: refuseProbes).
//
// Once ended, the device says so the same way in every class: the class's
// status no longer calls it restarting, a new operation on the same handle
// fails with the same error as the waiting one (not "not ready"), and an
// open of the device fails with ENODEV and the same reason.
//
// The rule is waited for on the wall clock, in the direction where a slow
// machine can only delay passing: each operation waits until the rule ends it.
// The cases that only wait for that end shorten the limit (setReregisterLimit:
// RULE_MS, not 2 s each; no driver in them ever registers the device, so none
// races a registration); the cases whose point is what happens during the
// owner's run (an open while parked, an unrelated driver loaded and unloaded
// meanwhile: a slow machine must not see the end first) wait the real 2 s,
// the default, which one of them times.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tone } from '../lib/apps/wav.js';
import { defaultPolicy, Kernel, openBlock, openNet, openPcm, openSerial, serialPorts, type Driver, type DriverPolicy } from '../lib/index.js';
import { native } from '../lib/native.js';
import { ptyPair, setReregisterLimit } from '../lib/testing.js';
import { pattern } from './helpers/data.js';
import { fallbackTo, refuseProbes, suiteIsolation, until } from './helpers/util.js';

const RATE = 16000;
const RULE_MS = 300; // the re-register limit where no driver will register the device: it only ends sooner

interface Class {
  driver: string;
  probe: string; // its PCI probe function
  device: string; // what it registers
  addDevice(kernel: Kernel, dir: string): void;
  /** Opens the device and leaves an operation waiting on it. */
  waiting(kernel: Kernel, drv: Driver): Promise<Waiting>;
  /** Opens the device while it is parked and starts an operation on it: what ends that operation. */
  openParked(kernel: Kernel): Promise<unknown>;
  /** Opens the device: what an open after the shadow ended it throws. */
  open(kernel: Kernel): { close(): unknown };
  /** The class's error after a give-up (its code, and its form of the reason). */
  gaveUp: (why: string) => { code: string; message: string };
}

interface Waiting {
  /** What ends the waiting operation (null: it completed). */
  ended: Promise<unknown>;
  /** What the class's status says of the device. */
  status: () => { restarting: boolean; error?: string | null };
  /** A new operation on the same handle: what ends it. */
  next(): Promise<unknown>;
}

const gaveUp = (code: string, device: string) => (why: string) => ({ code, message: `${device}: the driver failed and will not be restarted: ${why}` });
const settled = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e);

const classes: Class[] = [
  {
    driver: 'blk', probe: 'blk_probe', device: 'blk0',
    addDevice: (kernel, dir) => kernel.addDevice('blk', { image: join(dir, 'disk.img'), size: 1 << 20 }),
    async waiting(kernel, drv) {
      const disk = openBlock(kernel, 'blk0');
      handles.push(disk);
      drv.call('plug', 1); // the driver holds the request: in flight when it fails, then kept by the shadow
      return {
        ended: settled(disk.write(0, pattern(4096, 1))),
        status: () => ({ restarting: native().blockDisk('blk0')?.restarting ?? false }),
        next: () => settled(disk.write(0, pattern(4096, 2))),
      };
    },
    openParked: async (kernel) => {
      const disk = openBlock(kernel, 'blk0');
      handles.push(disk);
      return settled(disk.write(0, pattern(4096, 3)));
    },
    open: (kernel) => openBlock(kernel, 'blk0'),
    gaveUp: gaveUp('EDRIVERFAILED', 'blk0'),
  },
  {
    driver: 'e1000', probe: 'e1000_probe', device: 'eth0',
    addDevice: (kernel) => kernel.addDevice('e1000', {}),
    async waiting(kernel) {
      const eth = openNet(kernel, 'eth0');
      handles.push(eth);
      return {
        ended: new Promise((r) => eth.once('detached', r)),
        status: () => eth.info(),
        next: () => settled((async () => eth.send([Buffer.alloc(60)]))()),
      };
    },
    openParked: async (kernel) => {
      const eth = openNet(kernel, 'eth0');
      handles.push(eth);
      return new Promise((r) => eth.once('detached', r));
    },
    open: (kernel) => openNet(kernel, 'eth0'),
    gaveUp: gaveUp('EDRIVERFAILED', 'eth0'),
  },
  {
    driver: 'uart16550', probe: 'uart16550_probe', device: 'ttyS0',
    addDevice: (kernel) => {
      const pty = ptyPair();
      ptys.push(pty);
      kernel.addDevice('uart16550', { tty: pty.a });
    },
    async waiting(kernel) {
      const port = openSerial(kernel, 'ttyS0', { baudRate: 115200 });
      handles.push(port);
      port.on('error', () => {}); // the read below hears of it
      return {
        ended: settled(port.read(1, 60_000)),
        status: () => serialPorts().find((p) => p.name === 'ttyS0')!,
        next: () => settled(port.write('x')),
      };
    },
    openParked: async (kernel) => {
      const port = openSerial(kernel, 'ttyS0', { baudRate: 115200 });
      handles.push(port);
      port.on('error', () => {});
      return settled(port.read(1, 60_000));
    },
    open: (kernel) => openSerial(kernel, 'ttyS0', { baudRate: 115200 }),
    gaveUp: gaveUp('EIO', 'ttyS0'),
  },
  {
    driver: 'pcm', probe: 'pcm_probe', device: 'pcm0',
    addDevice: (kernel, dir) => kernel.addDevice('pcm', { playback: join(dir, 'played.wav') }),
    async waiting(kernel) {
      const stream = openPcm(kernel, 'pcm0', { rate: RATE, channels: 1 });
      handles.push(stream);
      // 10 s of tone, far more than the stream's queue takes at once (0.5 s): the write waits for room while
      // it plays, so it is still waiting when the test fails the driver, however late the test gets there
      // (a drain of a short tone could end first on a slow machine: it then resolved, and nothing was left to end)
      const ended = settled(stream.write(tone(RATE, 1, 440, 10)));
      await until(() => stream.status().running, 'the stream to start');
      return { ended, status: () => stream.status(), next: () => settled(stream.write(tone(RATE, 1, 440, 0.4))) };
    },
    openParked: async (kernel) => {
      const stream = openPcm(kernel, 'pcm0', { rate: RATE, channels: 1 });
      handles.push(stream);
      await stream.write(tone(RATE, 1, 440, 0.4));
      return settled(stream.drain());
    },
    open: (kernel) => openPcm(kernel, 'pcm0', { rate: RATE, channels: 1 }),
    gaveUp: (why) => ({ code: 'ENODEV', message: `pcm0: device gone (the driver failed and will not be restarted: ${why})` }),
  },
];

let kernel: Kernel | undefined;
let dir: string;
const ptys: ReturnType<typeof ptyPair>[] = [];
const handles: { close(): unknown }[] = []; // what a test opened: closed after it, ended or not
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nooks-shadow-unregistered-'));
});
afterEach(async () => {
  setReregisterLimit(); // 2 s again
  for (const h of handles.splice(0)) await h.close();
  await kernel?.shutdown();
  kernel = undefined;
  for (const pty of ptys.splice(0)) pty.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The waiting operation ended with `error`, and the device now says it is gone: to its handle, and to an open. */
async function expectEnded(c: Class, w: Waiting, error: { code: string; message: string }): Promise<void> {
  expect(await w.ended).toMatchObject(error);
  const status = w.status();
  expect(status.restarting).toBe(false);
  if (status.error !== undefined) expect(status.error).toBe(error.message); // a stream's status carries it
  expect(await w.next()).toMatchObject(error);
  // ENODEV in every class, with the same reason (before, a disk, an interface and a pcm were ENOTREADY, not saying why)
  expect(() => handles.push(c.open(kernel!))).toThrow(expect.objectContaining({ code: 'ENODEV', message: error.message }));
}

describe.each(classes)('a parked $device', (c) => {
  async function boot(policy: DriverPolicy): Promise<Driver> {
    kernel = await Kernel.boot({ isolation: suiteIsolation, policy: { default: defaultPolicy.default, drivers: new Map([[c.driver, policy]]) } });
    c.addDevice(kernel, dir);
    return kernel.load(c.driver);
  }

  it('ends with ENODEV once a fallback driver that never registers it has run for the limit', async () => {
    setReregisterLimit(RULE_MS);
    const drv = await boot({ ...fallbackTo('null'), shadow: true });
    const w = await c.waiting(kernel!, drv);
    drv.recover(); // the agent puts null in blk's place at once
    expect(kernel!.events().some((e) => e.event === 'fallback')).toBe(true);
    expect(w.status().restarting).toBe(true); // parked
    await expectEnded(c, w, {
      code: 'ENODEV', message: `${c.device}: device gone (fallback null.so of driver ${c.driver} ran without registering it)`,
    });
  }, 20_000);

  // Opened while parked, as before the failure (before, a parked interface or pcm was ENOTREADY): the new
  // handle waits with the device, and ends with it.
  it('can be opened while parked: the new handle ends with it', async () => {
    const drv = await boot({ ...fallbackTo('null'), shadow: true });
    drv.recover();
    expect(kernel!.events().some((e) => e.event === 'fallback')).toBe(true);
    expect(await c.openParked(kernel!)).toMatchObject({
      code: 'ENODEV', message: `${c.device}: device gone (fallback null.so of driver ${c.driver} ran without registering it)`,
    });
  }, 20_000);

  it('ends with the unload\'s reason when that fallback driver is unloaded', async () => {
    const drv = await boot({ ...fallbackTo('null'), shadow: true });
    const w = await c.waiting(kernel!, drv);
    drv.recover();
    expect(kernel!.events().some((e) => e.event === 'fallback')).toBe(true);
    drv.unload(); // in the same turn: long before the 2 s rule
    await expectEnded(c, w, c.gaveUp(`${c.driver} was unloaded`));
  }, 20_000);

  // Ownership goes by the load, never by the slot: the fallback was loaded before the failed driver's unload,
  // into another slot; an unrelated driver that takes the freed one neither ends the device by its unload
  // (before, a give-up ended every parked device of its slot, with its own reason) nor resumes it by running.
  // The real 2 s, the default limit: time enough for those loads, well before the fallback's run ends it.
  it('is not ended by a driver loaded later into its failed driver\'s slot, nor by that driver\'s unload: by the fallback\'s 2 s', async () => {
    const drv = await boot({ ...fallbackTo('null'), shadow: true });
    const slot = drv.id;
    const w = await c.waiting(kernel!, drv);
    drv.recover();
    const fallbackRuns = performance.now(); // the fallback was loaded, and runs, before recover returned
    expect(kernel!.events().some((e) => e.event === 'fallback')).toBe(true);
    expect(drv.id).not.toBe(slot);
    const later = await kernel!.load('ticker');
    expect(later.id).toBe(slot);
    later.unload(); // its give-up: nothing of the failed driver's load
    const again = await kernel!.load('ticker');
    expect(again.id).toBe(slot); // and it runs there while the fallback's 2 s pass
    expect(w.status().restarting).toBe(true); // still parked: neither that unload nor the rule ended it yet
    expect(await w.ended).toMatchObject({
      code: 'ENODEV', message: `${c.device}: device gone (fallback null.so of driver ${c.driver} ran without registering it)`,
    });
    expect(performance.now() - fallbackRuns).toBeGreaterThanOrEqual(1900); // the default limit, 2 s, restored after each case
    expect(again.state).toBe('running');
  }, 20_000);

  it('ends with ENODEV once its restarted driver has run for the limit without registering it again', async () => {
    setReregisterLimit(RULE_MS);
    const drv = await boot(defaultPolicy.default);
    const w = await c.waiting(kernel!, drv);
    refuseProbes(drv, c.probe); // the restarted driver finds no device
    const recovered = performance.now();
    drv.recover();
    expect(drv.state).toBe('running');
    expect(w.status().restarting).toBe(true); // parked
    await expectEnded(c, w, {
      code: 'ENODEV', message: `${c.device}: device gone (driver ${c.driver} restarted without registering it again)`,
    });
    // the shortened limit held: with the 2 s default the end comes no sooner than 2 s after the restart
    expect(performance.now() - recovered).toBeLessThan(1900);
  }, 20_000);
});

// The limit is the owner's current run: a restarted driver that fails again and
// restarts gets it afresh, though the watchdog thread, which looks every
// 50 ms, never saw it down (a restart is shorter than that). The device is
// waited for, as above; the only wall-clock wait is the first run's, shorter
// than its limit by far more than a slow machine's delay (1 s here, not 2 s:
// the first run's wait and the least time the second run takes scale with it).
it('a parked device\'s limit counts again from each restart of its driver', async () => {
  const limit = 1000;
  setReregisterLimit(limit);
  const c = classes[0];
  kernel = await Kernel.boot({ isolation: suiteIsolation, policy: { default: defaultPolicy.default, drivers: new Map([[c.driver, defaultPolicy.default]]) } });
  c.addDevice(kernel, dir);
  const drv = await kernel.load(c.driver);
  const { ended } = await c.waiting(kernel, drv);
  let endedAt: number | undefined;
  void ended.then(() => (endedAt = performance.now()));
  refuseProbes(drv, c.probe);
  drv.recover(); // its first run without the device
  await new Promise((r) => setTimeout(r, 0.4 * limit));
  expect(endedAt, 'the first run\'s limit passed before its second failure').toBeUndefined();
  drv.recover(); // its second run, at once
  const restarted = performance.now();
  expect(drv.state).toBe('running');
  expect(await ended).toMatchObject({ code: 'ENODEV', message: `${c.device}: device gone (driver ${c.driver} restarted without registering it again)` });
  expect(endedAt! - restarted).toBeGreaterThanOrEqual(0.95 * limit); // a count from the first run would end it at 0.6 * limit
}, 20_000);


it('setReregisterLimit refuses a limit under 50 ms, which the watchdog thread, applying the rule every 50 ms, would not keep, or over the 2 s it shortens', () => {
  for (const ms of [0, 49, 49.5, -1, 2001, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => setReregisterLimit(ms)).toThrow(RangeError);
  expect(() => setReregisterLimit(50)).not.toThrow(); // afterEach restores the 2 s
});
