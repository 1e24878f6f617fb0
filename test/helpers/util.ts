// Small helpers shared by the kernel tests.
import { expect } from 'vitest';
import { DriverFault } from '../../lib/index.js';

/** Polls `cond` every 5 ms; fails with `what` after `timeoutMs`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 2_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Runs a driver call that must fault and returns the DriverFault. */
export function faultOf(call: () => unknown): DriverFault {
  let result: unknown;
  try {
    result = call();
  } catch (e) {
    expect(e).toBeInstanceOf(DriverFault);
    return e as DriverFault;
  }
  throw new Error(`expected a DriverFault, but the call returned ${String(result)}`);
}
