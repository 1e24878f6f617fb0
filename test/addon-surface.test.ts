// The addon's functions are described once (lib/wrappers/addon/): the loaded
// addon must export exactly the described names, and each call's arguments are
// checked against the description before the C++ function runs.
import { describe, expect, it } from 'vitest';
import { native } from '../lib/native.js';
import { addonSurfaces } from '../lib/wrappers/addon/index.js';

// Untyped: these tests pass what the types forbid.
const addon = (): Record<string, (...args: unknown[]) => unknown> => native() as unknown as Record<string, (...args: unknown[]) => unknown>;

describe('addon surface', () => {
  it('exports exactly the described functions, once each', () => {
    const described = addonSurfaces.flatMap((s) => Object.keys(s.functions));
    expect(new Set(described).size).toBe(described.length);
    expect(Object.keys(native()).sort()).toEqual([...described].sort());
    for (const name of described) expect(typeof addon()[name]).toBe('function');
  });

  it('refuses an argument of the wrong type with a TypeError naming the function', () => {
    expect(() => addon().blockDisk(7)).toThrow(expect.objectContaining({
      name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'blockDisk: argument 1 must be a string, got a number' }));
    expect(() => addon().netSend('eth0', 0, 'frames')).toThrow('netSend: argument 3 must be an array, got a string');
    expect(() => addon().pcmWrite(1, [1, 2])).toThrow('pcmWrite: argument 2 must be a Buffer or Uint8Array, got an array');
  });

  it('refuses a missing argument, and admits undefined or null only where described', () => {
    expect(() => addon().resolve(0)).toThrow('resolve: argument 2 must be a string, got undefined');
    expect(() => addon().pcmMixer(1, 50)).toThrow('pcmMixer: argument 3 must be a boolean or null, got undefined');
    expect(() => addon().serialRead(0, 0, null)).toThrow('serialRead: argument 3 must be a number or undefined, got null');
    // the arguments admitted, the function itself runs (and finds no kernel booted)
    const notBooted = expect.objectContaining({ code: 'ENOTBOOTED' });
    expect(() => addon().unload(0, undefined)).toThrow(notBooted);
    expect(() => addon().setFaultListener(() => {})).toThrow(notBooted);
  });

  it("leaves an argument described as 'any' to the function", () => {
    // memRead checks its address itself (EINVAL), after the domain (ENOTBOOTED first)
    expect(() => addon().memRead(0, 'x', 1)).toThrow(expect.objectContaining({ code: 'ENOTBOOTED' }));
  });
});
