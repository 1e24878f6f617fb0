// What the benchmarks share: the walk through the isolation modes (a kernel
// booted for each, modes this machine cannot run reported with the reason),
// rounds of it (several runs, every mode in each), null drivers in domains of
// their own, the CPU's name, the check of counts and the rounding of figures.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kernel, type Driver, type Isolation, type LoadOptions } from '../kernel.js';
import { native } from '../native.js';
import { driverPath } from '../paths.js';
import type { Policy } from '../recovery/policy.js';
import { isolations } from '../wrappers/enums.js';

// Every mode, 'process' beside 'pkey': what containing a driver in a process of its own costs.
export const defaultModes: readonly Isolation[] = isolations;

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

/**
 * `runs` rounds of eachMode(): every mode in turn in each round, so that drift
 * over the invocation (another process, the CPU's clock) hits every mode alike.
 * Round r's results, in mode order, are element r.
 */
export async function eachRound<T>(
  runs: number,
  modes: readonly Isolation[],
  body: (kernel: Kernel) => Promise<T>,
  onStep?: (step: ModeStep) => void,
  policy?: Policy,
  unsupported: Partial<Record<Isolation, string>> = {},
): Promise<(T | ModeUnsupported)[][]> {
  const rounds: (T | ModeUnsupported)[][] = [];
  for (let r = 0; r < runs; r++) rounds.push(await eachMode(modes, body, onStep, policy, unsupported));
  return rounds;
}

/** `n`, checked to be a positive integer (a count of runs, iterations), at most `max` where a C++ loop counts it. */
export function positive(n: number, name: string, max?: number): number {
  if (Number.isSafeInteger(n) && n > 0 && n <= (max ?? Infinity)) return n;
  throw new RangeError(max === undefined ? `${name} must be a positive integer, got ${n}` : `${name} must be an integer 1..${max}, got ${n}`);
}

/** A loaded null driver (drivers/null): its domain and its empty function. */
export interface NullDriver {
  driver: Driver;
  nop: number;
}

/**
 * Null drivers in domains of their own, loaded on demand. The loader takes a
 * file once, so each after the first is a copy of build/drivers/null.so in a
 * temporary directory; remove() deletes the copies (a loaded one stays mapped).
 */
export class NullDrivers {
  private readonly loaded: NullDriver[] = [];
  private dir: string | undefined;

  constructor(private readonly kernel: Kernel, private readonly options: LoadOptions = {}) {}

  /** The first `n`, loading those missing. */
  async first(n: number): Promise<NullDriver[]> {
    while (this.loaded.length < n) {
      const k = this.loaded.length;
      let path = driverPath('null');
      if (k > 0) {
        this.dir ??= mkdtempSync(join(tmpdir(), 'nooks-null-'));
        copyFileSync(path, (path = join(this.dir, `null-${k}.so`)));
      }
      const drv = await this.kernel.load(path, { ...this.options, name: k ? `null-${k}` : 'null' });
      this.loaded.push({ driver: drv, nop: native().resolve(drv.id, 'nop') });
    }
    return this.loaded.slice(0, n);
  }

  remove(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
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

/** The middle element by `key`; of an even count, the upper of the two middle ones (an actual run, not a mean). */
export function medianBy<T>(v: readonly T[], key: (x: T) => number): T {
  return [...v].sort((a, b) => key(a) - key(b))[Math.floor(v.length / 2)];
}

export function median(v: readonly number[]): number {
  return medianBy(v, (x) => x);
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
