// What the benchmarks share: the walk through the isolation modes (a kernel
// booted for each, modes this machine cannot run reported with the reason),
// the CPU's name and the rounding of figures.
import { readFileSync } from 'node:fs';
import { Kernel, type Isolation } from '../kernel.js';
import type { Policy } from '../recovery/policy.js';

// 'process' beside 'pkey': what containing a driver in a process of its own costs.
export const defaultModes: readonly Isolation[] = ['none', 'mprotect', 'pkey', 'process'];

/** A mode that was not measured: this machine cannot run it. */
export interface ModeUnsupported {
  isolation: Isolation;
  supported: false;
  reason: string;
}

export interface ModeStep {
  isolation: Isolation;
  /** 'boot': about to boot the mode and measure it; 'skip': the mode cannot run here. */
  what: 'boot' | 'skip';
}

/**
 * Runs `body` once per mode, in order, each time in a kernel of its own
 * (one kernel per process: booted for the mode, shut down after, whatever
 * happens). pkey where it cannot run, and the modes `unsupported` names (the
 * workload cannot run in them), are not booted but reported unsupported.
 */
export async function eachMode<T>(
  modes: readonly Isolation[],
  body: (kernel: Kernel) => Promise<T>,
  onStep?: (step: ModeStep) => void,
  policy?: Policy,
  unsupported: Partial<Record<Isolation, string>> = {},
): Promise<(T | ModeUnsupported)[]> {
  const noPkey = Kernel.pkeyUnusableReason(); // '' when isolation 'pkey' can run here
  const results: (T | ModeUnsupported)[] = [];
  for (const isolation of modes) {
    const reason = isolation === 'pkey' && noPkey !== '' ? noPkey : unsupported[isolation];
    if (reason) {
      onStep?.({ isolation, what: 'skip' });
      results.push({ isolation, supported: false, reason });
      continue;
    }
    onStep?.({ isolation, what: 'boot' });
    const kernel = await Kernel.boot({ isolation, policy });
    try {
      results.push(await body(kernel));
    } finally {
      await kernel.shutdown();
    }
  }
  return results;
}

/** `model name` from /proc/cpuinfo. */
export function cpuModel(): string {
  let info = '';
  try {
    info = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // not Linux, or /proc not mounted: unknown
  }
  const m = /^model name\s*:\s*(.*)$/m.exec(info);
  return m ? m[1].trim() : 'unknown';
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
