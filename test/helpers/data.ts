// Test data and reading it back: byte patterns to write and compare, numbers
// as messages print them, strings in driver memory, JSON lines files.
import { readFileSync } from 'node:fs';
import type { PlanHeader, TrialRecord } from '../../lib/experiments/campaign.js';
import type { Driver } from '../../lib/index.js';

/** `n` bytes of a pattern that differs with `seed` (and from sector to sector). */
export function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed * 17 + (i >> 9)) & 0xff;
  return b;
}

/** 0x-prefixed hexadecimal, as the kernel prints addresses. */
export const hex = (n: number): string => `0x${n.toString(16)}`;

/** The NUL-terminated string at `address` in the driver's memory, read from the `max` bytes there. */
export function stringAt(d: Driver, address: number, max: number): string {
  const b = d.read(address, max);
  const end = b.indexOf(0);
  if (end < 0) throw new Error(`no NUL in the ${max} bytes at ${hex(address)}`);
  return b.toString('utf8', 0, end);
}

/** Every record of a JSON lines file. */
export function jsonLines<T>(file: string): T[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
}

/** The trial records of a campaign's results file, its plan headers left out. */
export function trialRecords(file: string): TrialRecord[] {
  return jsonLines<TrialRecord | PlanHeader>(file).filter((l): l is TrialRecord => 'key' in l);
}
