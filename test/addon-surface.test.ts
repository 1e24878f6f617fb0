// The addon's functions are described once (lib/wrappers/addon/): the loaded
// addon must export exactly the described names, and each call's arguments are
// checked against the description before the C++ function runs.
import { describe, expect, it } from 'vitest';
import { native } from '../lib/native.js';
import { addonSurfaces } from '../lib/wrappers/addon/index.js';

/** The error `fn` throws. */
function errorOf(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected an error');
}

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
    const e = errorOf(() => addon().blockDisk(7));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.code).toBe('ERR_INVALID_ARG_TYPE');
    expect(e.message).toBe('blockDisk: argument 1 must be a string, got a number');
    expect(errorOf(() => addon().netSend('eth0', 'frames')).message).toBe('netSend: argument 2 must be an array, got a string');
    expect(errorOf(() => addon().pcmWrite(1, [1, 2])).message).toBe('pcmWrite: argument 2 must be a Buffer or Uint8Array, got an array');
  });

  it('refuses a missing argument, and admits undefined or null only where described', () => {
    expect(errorOf(() => addon().resolve(0)).message).toBe('resolve: argument 2 must be a string, got undefined');
    expect(errorOf(() => addon().pcmMixer(1, 50)).message).toBe('pcmMixer: argument 3 must be a boolean or null, got undefined');
    expect(errorOf(() => addon().serialRead(0, 0, null)).message).toBe('serialRead: argument 3 must be a number or undefined, got null');
    // the argument admitted, the function itself runs (and finds no kernel booted)
    expect(errorOf(() => addon().unload(0, undefined)).code).toBe('ENOTBOOTED');
    expect(errorOf(() => addon().setFaultListener(() => {})).code).toBe('ENOTBOOTED');
  });

  it("leaves an argument described as 'any' to the function", () => {
    // memRead checks its address itself (EINVAL), after the domain (ENOTBOOTED first)
    expect(errorOf(() => addon().memRead(0, 'x', 1)).code).toBe('ENOTBOOTED');
  });
});
