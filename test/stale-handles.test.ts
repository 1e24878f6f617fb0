// A Driver handle kept after unload() or shutdown() is stale: domain ids are
// reused, so every use of it must be refused (DriverUnavailable, EUNLOADED)
// rather than reach the driver that holds its id now.
import { afterEach, describe, expect, it } from 'vitest';
import { DriverUnavailable, Kernel } from '../lib/index.js';
import { native } from '../lib/native.js';
import { errorOf } from './helpers/util.js';

function expectUnloaded(use: () => unknown, name: string): void {
  expect(errorOf(use, DriverUnavailable)).toMatchObject({ code: 'EUNLOADED', message: expect.stringMatching(new RegExp(`^${name}: .*unloaded \\[EUNLOADED\\]$`)) });
}

let kernel: Kernel | undefined;
afterEach(async () => {
  await kernel?.shutdown();
  kernel = undefined;
});

describe.each(['mprotect', 'process'] as const)('stale handles (isolation %s)', (isolation) => {
  it('a handle kept after unload() never reaches the driver loaded in its domain slot', async () => {
    kernel = await Kernel.boot({ isolation });
    const crashy = await kernel.load('crashy');
    expect(crashy.call('add', 2, 3)).toBe(5);
    const oldId = crashy.id;
    crashy.unload();
    const ticker = await kernel.load('ticker');
    expect(ticker.id).toBe(oldId); // the id is reused
    expectUnloaded(() => crashy.call('add', 2, 3), 'crashy');
    expectUnloaded(() => crashy.batch([['add', 1, 1]]), 'crashy');
    expectUnloaded(() => crashy.objects(), 'crashy');
    expectUnloaded(() => crashy.recover(), 'crashy');
    expectUnloaded(() => crashy.unload(), 'crashy');
    expect(crashy.state).toBe('unloaded');
    // ticker is untouched: still loaded, running, never failed
    expect(kernel.driver('ticker')).toBe(ticker);
    expect(ticker.state).toBe('running');
    expect(ticker.call('echo', 7)).toBe(7);
    expect(kernel.domains().map((d) => [d.name, d.state, d.recoveries])).toEqual([['ticker', 'running', 0]]);
    expect(kernel.events()).toEqual([]);
  });

  it('handles and the kernel itself are stale after shutdown(), even once another kernel is booted', async () => {
    const first = await Kernel.boot({ isolation });
    const crashy = await first.load('crashy');
    expect(crashy.call('add', 2, 3)).toBe(5);
    await first.shutdown();
    kernel = await Kernel.boot({ isolation });
    const ticker = await kernel.load('ticker');
    expectUnloaded(() => crashy.call('add', 2, 3), 'crashy');
    expectUnloaded(() => crashy.unload(), 'crashy');
    expect(() => first.domains()).toThrow(/^the kernel was shut down: its drivers were unloaded \[EUNLOADED\]$/);
    expect(() => first.domains()).toThrow(DriverUnavailable);
    await expect(first.load('null')).rejects.toThrow(DriverUnavailable);
    expect(() => first.devices()).toThrow(DriverUnavailable);
    await first.shutdown(); // a second shutdown does nothing: above all, not to the new kernel
    expect(ticker.call('echo', 7)).toBe(7);
    expect(kernel.domains().map((d) => d.name)).toEqual(['ticker']);
  });
});

it('the addon refuses a call whose target is not in the driver\'s text', async () => {
  kernel = await Kernel.boot({ isolation: 'mprotect' });
  const crashy = await kernel.load('crashy');
  const ticker = await kernel.load('ticker');
  const echo = native().resolve(ticker.id, 'echo');
  expect(() => native().call(crashy.id, echo, 7)).toThrow(/is not a function of crashy/);
  expect(() => native().call(crashy.id, 0x1000, 7)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
});
