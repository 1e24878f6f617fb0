// A class handle may carry the failure of a driver that has been unloaded and loaded again since: the domain slot
// and its failure generations start again at each load, so that old failure {driver, domain, generation 1} looked
// like the new load's first failure, and the recovery agent "recovered" a healthy driver, whose second
// module_init (its device still held) failed: it was disabled. A class failure names its load (Domain::serial,
// native/classes/common/failure.h); the kernel claims only a failure of the driver's current load.
import { afterEach, expect, it } from 'vitest';
import { defaultPolicy, Kernel, openNet, openSerial, type Driver, type NetError } from '../lib/index.js';
import { ptyPair } from '../lib/testing.js';
import { errorOf, suiteIsolation, until } from './helpers/util.js';

let kernel: Kernel | undefined;
let pty: ReturnType<typeof ptyPair> | undefined;
afterEach(async () => {
  await kernel?.shutdown();
  pty?.close();
  [kernel, pty] = [undefined, undefined];
});

// The recovery agent's events from now on.
function agentEvents(k: Kernel): string[] {
  const events: string[] = [];
  for (const n of ['fault', 'recovering', 'recovered', 'disabled'] as const) k.on(n, (e) => events.push(`${n}:${e.driver}`));
  return events;
}

// Unloads drv and loads it again (the same domain slot): the new load, and the agent's events from then on.
async function reload(k: Kernel, drv: Driver): Promise<{ fresh: Driver; events: string[] }> {
  const slot = drv.domainId;
  drv.unload();
  const loading = k.load(drv.name, { shadow: false }); // runs at once: the old handles' events not delivered yet
  const events = agentEvents(k);
  const fresh = await loading;
  expect(fresh.domainId).toBe(slot);
  return { fresh, events };
}

async function bootNet(): Promise<Driver> {
  kernel = await Kernel.boot({ isolation: suiteIsolation });
  kernel.addDevice('e1000', { mac: '52:54:00:00:00:01' });
  return kernel.load('e1000', { shadow: false });
}

// Before: events ['recovering:e1000', 'disabled:e1000'], the fresh driver disabled ("module_init returned -16 (EBUSY)").
it('net: a handle reset by an earlier load\'s failure, used before its detached event, recovers no driver loaded since', async () => {
  const drv = await bootNet();
  const eth = openNet(kernel!, 'eth0');
  expect(() => drv.call('crash')).toThrow();
  const { fresh, events } = await reload(kernel!, drv); // awaits a microtask only: eth0's 'detached' still queued
  expect(errorOf(() => eth.send([Buffer.alloc(60)]))).toMatchObject({ code: 'EDRIVERFAILED' });
  expect(events).toEqual([]);
  expect(fresh.state).toBe('running');
  openNet(kernel!, 'eth0').close(); // the fresh driver runs the interface
});

it('net: a detached handle\'s calls ask the agent nothing (stats too), and its link reads false', async () => {
  const drv = await bootNet();
  const eth = openNet(kernel!, 'eth0');
  let detached: NetError | undefined;
  eth.on('detached', (e) => (detached = e));
  expect(() => drv.call('crash')).toThrow();
  await until(() => detached !== undefined, 'eth0 detached');
  const { fresh, events } = await reload(kernel!, drv);
  expect(errorOf(() => eth.stats())).toBe(detached);
  expect(eth.link).toBe(false);
  expect(events).toEqual([]);
  expect(fresh.state).toBe('running');
});

// Before: `link` threw the reset's EDRIVERFAILED for a handle closed before the reset (docs/api.md: it reads false).
it('net: link of a handle closed before a reset reads false', async () => {
  const drv = await bootNet();
  const old = openNet(kernel!, 'eth0');
  old.close();
  const now = openNet(kernel!, 'eth0');
  let detached = false;
  now.on('detached', () => (detached = true));
  expect(() => drv.call('crash')).toThrow();
  await until(() => detached, 'the newer handle detached');
  expect(old.link).toBe(false);
});

// The policy disables the failed driver: its port stays detached, with the failure, until the new load registers it.
it('serial: a port detached by an earlier load\'s failure, used before its error event, recovers no driver loaded since', async () => {
  kernel = await Kernel.boot({ isolation: suiteIsolation, policy: { default: { ...defaultPolicy.default, action: 'disable' }, drivers: new Map() } });
  pty = ptyPair();
  kernel.addDevice('uart16550', { tty: pty.a });
  const drv = await kernel.load('uart16550', { shadow: false });
  const port = openSerial(kernel, 'ttyS0');
  port.on('error', () => {});
  expect(() => drv.call('bad_insert')).toThrow(expect.objectContaining({ kind: 'bad-call' }));
  const { fresh, events } = await reload(kernel, drv);
  await expect(port.write('x')).rejects.toMatchObject({ code: 'EIO' });
  expect(events).toEqual([]);
  expect(fresh.state).toBe('running');
});

// The error about a failure names what the agent decided for that failure, not the driver's state when the error is
// read: here the driver was restarted after it, then failed again and was disabled, before the handle's call.
// Before: 'eth0: the interface was reset: its driver (e1000) failed and will not be restarted: e1000 failed 2 times
// within 60000 ms (segv last): its recovery policy gave up', of a failure the agent restarted the driver for.
it('net: the error about a failure the driver was restarted after says so, though a later failure disabled it', async () => {
  kernel = await Kernel.boot({ isolation: suiteIsolation, policy: { default: { ...defaultPolicy.default, maxFailures: 2 }, drivers: new Map() } });
  kernel.addDevice('e1000', { mac: '52:54:00:00:00:01' });
  const drv = await kernel.load('e1000', { shadow: false });
  const eth = openNet(kernel, 'eth0');
  expect(() => drv.call('crash')).toThrow(); // the first failure: restarted, the handle reset (its event still queued)
  expect(drv.state).toBe('running');
  expect(() => drv.call('crash')).toThrow(); // the second: the policy gives up
  expect(drv.state).toBe('disabled');
  expect(errorOf(() => eth.send([Buffer.alloc(60)]))).toMatchObject({
    code: 'EDRIVERFAILED', message: 'eth0: the interface was reset: its driver (e1000) failed and was restarted: open it again',
  });
});
