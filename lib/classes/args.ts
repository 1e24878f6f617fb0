// The checks of what applications pass the device classes and the kernel, at
// the TypeScript boundary: a value of the wrong type, a fraction, or a number
// the addon would wrap (its 32-bit conversions) is refused with the caller's
// error type, EINVAL, naming the device (or the call) and the argument. An
// option given as undefined is an option not given.

/** The longest timeout, in ms: the longest timer Node keeps (a longer one fires after 1 ms). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** The largest number the addon takes as a 32-bit unsigned setting. */
export const MAX_UINT32 = 2 ** 32 - 1;

/** A value as these errors show it: `"text"`, `-1`, `NaN`, `null`, `a Uint16Array`. */
function shown(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (v === null || typeof v !== 'object') return String(v);
  if (Array.isArray(v)) return 'an array';
  const type = v.constructor?.name;
  return type && type !== 'Object' ? `a ${type}` : 'an object';
}

/** Checks the arguments of one call of `who` (a device's name, or the call's), throwing `invalid(message)`. */
export class ArgCheck {
  constructor(private readonly who: string, private readonly invalid: (message: string) => Error) {}

  /** The error for argument `arg`, which should have been `expected` and was `v`. */
  refuse(arg: string, expected: string, v: unknown): Error {
    return this.invalid(`${this.who}: ${arg} must be ${expected}, got ${shown(v)}`);
  }

  integer(v: unknown, arg: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw this.refuse(arg, `an integer ${min}..${max}`, v);
    return v;
  }

  /** A number the addon takes as a 32-bit unsigned setting (the device checks its own range). */
  uint32(v: unknown, arg: string): number {
    return this.integer(v, arg, 0, MAX_UINT32);
  }

  /** A timeout in ms: 1..MAX_TIMEOUT_MS, the same everywhere the classes take one. */
  timeout(v: unknown, arg: string): number {
    return this.integer(v, arg, 1, MAX_TIMEOUT_MS);
  }

  string(v: unknown, arg: string): string {
    if (typeof v !== 'string') throw this.refuse(arg, 'a string', v);
    return v;
  }

  boolean(v: unknown, arg: string): boolean {
    if (typeof v !== 'boolean') throw this.refuse(arg, 'true or false', v);
    return v;
  }

  bytes(v: unknown, arg: string): Uint8Array {
    if (!(v instanceof Uint8Array)) throw this.refuse(arg, 'a Buffer or Uint8Array', v);
    return v;
  }

  array(v: unknown, arg: string): unknown[] {
    if (!Array.isArray(v)) throw this.refuse(arg, 'an array', v);
    return v;
  }

  /**
   * An object of `kind`s (options, line settings), each of its keys one of `known` (JavaScript has no types to catch
   * a misspelt one): those given, without those given as undefined.
   */
  settings(v: unknown, kind: string, known: readonly string[]): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw this.refuse(`${kind}s`, 'an object', v);
    const unknown = Object.keys(v).find((k) => !known.includes(k));
    if (unknown !== undefined) throw this.invalid(`${this.who}: unknown ${kind} '${unknown}' (${known.join(', ')})`);
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined));
  }
}
