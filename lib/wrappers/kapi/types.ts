// The shape of the kernel API's interface description (see ../kapi.ts).

/** How a wrapper validates one parameter before the body runs. */
export type Check =
  /** no check (plain values: flags, jiffies, levels) */
  | { kind: 'value' }
  /**
   * a pointer to `size` bytes the calling driver may write: inside its own domain. `nullable`: NULL stands for
   * none, with a fixed size; with a size counted by the arguments, only when that size is 0 (generate.ts, nullBuffer)
   */
  | { kind: 'writable'; size: string; nullable?: boolean }
  /** as writable, in memory that outlives every thread (heap, DMA, data, bss; never a stack): an object the kernel keeps and reads at any time */
  | { kind: 'lasting'; size: string }
  /** a pointer to `size` bytes the driver may read: its domain or its read-only segments; `nullable` as writable's */
  | { kind: 'readable'; size: string; nullable?: boolean }
  /** a NUL-terminated string the driver may read, at most `max` bytes long */
  | { kind: 'string'; max: number; nullable?: boolean }
  /** a size argument: at most `max` bytes */
  | { kind: 'size'; max: number }
  /** a function pointer into the driver's own text; the host only ever calls it through a crossing */
  | { kind: 'driver-fn'; nullable?: boolean }
  /** a pointer the tracker must know as an object of `type` owned by the caller */
  | { kind: 'object'; type: ObjectType; nullable?: boolean };

/** A size the description gives as a number (a join's result: 8), not counted by the call's arguments (read's n). */
export const fixedSize = (size: string): boolean => /^\d+$/.test(size);

/** Object types the tracker knows; each has a release function in native/kapi/objects.cc. */
export type { ObjectType } from '../enums.js';
import type { ObjectType } from '../enums.js';

export interface Param {
  name: string;
  type: string;
  check: Check;
}

export interface KapiCall {
  name: string;
  ret: string;
  params: Param[];
  doc: string;
  /** Blocking calls may wait; the wrapper makes their waits end when the domain fails. */
  blocking?: boolean;
}

const value = { kind: 'value' } as const;
/** One parameter; plain values by default. */
export const p = (name: string, type: string, check: Check = value): Param => ({ name, type, check });
