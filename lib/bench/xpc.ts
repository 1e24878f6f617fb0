// The crossing benchmark (`nooks bench xpc`): what one host -> driver round
// trip, one driver -> host kernel call and one JavaScript drv.call() cost in
// each isolation mode, measured side by side in one process, one mode after
// the other. The loops that need cycle precision run in C++ (native/bench);
// this module boots each mode, drives them and converts the results.
//
// "Cycles" here are TSC ticks (rdtsc), not core clock cycles: the TSC runs at
// a constant rate whatever the core's frequency. tscPerNs converts them.
import { readFileSync } from 'node:fs';
import { Kernel, type Isolation } from '../kernel.js';
import { native } from '../native.js';

export interface XpcBenchOptions {
  /** Runs of each measurement; the median run is reported (default 7). */
  runs?: number;
  /** Operations per run (default 20000). */
  iters?: number;
  /** The modes to measure, in order (default: none, mprotect, pkey). */
  modes?: readonly Isolation[];
  /** Called before each step, for progress lines. */
  onStep?: (step: XpcBenchStep) => void;
}

export interface XpcBenchStep {
  isolation: Isolation;
  what: 'boot' | 'native' | 'js' | 'skip';
}

/** One mode's figures. Cycles are TSC ticks per operation (median run). */
export interface XpcModeResult {
  isolation: Isolation;
  supported: true;
  /** host -> driver -> host around an empty driver function, measured in C++. */
  roundTripCycles: number;
  roundTripNs: number;
  /** One driver -> host -> driver kernel call (nooks_jiffies), measured in C++. */
  upcallCycles: number;
  upcallNs: number;
  /** One call to the empty function when calls are deferred, 63 per crossing (driver.batch). */
  batchedCallCycles: number;
  batchedCallNs: number;
  /** One `drv.call('nop')` from JavaScript, N-API included (median of the runs). */
  jsCallNs: number;
}

export interface XpcModeUnsupported {
  isolation: Isolation;
  supported: false;
  reason: string;
}

export interface XpcBenchResult {
  /** `model name` from /proc/cpuinfo. */
  cpu: string;
  /** Whether isolation 'pkey' can run here: a CPU with protection keys and a kernel that supports them (Linux >= 6.12). */
  pku: boolean;
  /** A bare pair of WRPKRU instructions, in TSC ticks; null without PKU. */
  wrpkruPairCycles: number | null;
  modes: (XpcModeResult | XpcModeUnsupported)[];
  /** TSC ticks per nanosecond, measured against CLOCK_MONOTONIC. */
  tscPerNs: number;
  runs: number;
  iters: number;
}

export const defaultModes: readonly Isolation[] = ['none', 'mprotect', 'pkey'];

export async function benchXpc(options: XpcBenchOptions = {}): Promise<XpcBenchResult> {
  const runs = positive(options.runs ?? 7, 'runs');
  const iters = positive(options.iters ?? 20_000, 'iters');
  const modes = options.modes ?? defaultModes;
  const noPkey = Kernel.pkeyUnusableReason(); // '' when isolation 'pkey' can run here
  const pku = noPkey === '';
  const result: XpcBenchResult = { cpu: cpuModel(), pku, wrpkruPairCycles: null, modes: [], tscPerNs: 0, runs, iters };
  const tscPerNs: number[] = [];

  for (const isolation of modes) {
    if (isolation === 'pkey' && !pku) {
      options.onStep?.({ isolation, what: 'skip' });
      result.modes.push({ isolation, supported: false, reason: noPkey });
      continue;
    }
    options.onStep?.({ isolation, what: 'boot' });
    const kernel = await Kernel.boot({ isolation });
    try {
      const drv = await kernel.load('null');
      const nop = native().resolve(drv.id, 'nop');
      const upcalls = native().resolve(drv.id, 'upcall_nop');

      options.onStep?.({ isolation, what: 'native' });
      const b = native().bench(drv.id, nop, upcalls, runs, iters);
      tscPerNs.push(b.tscPerNs);
      if (b.wrpkruPairTicks !== null && result.wrpkruPairCycles === null) result.wrpkruPairCycles = round(b.wrpkruPairTicks);

      options.onStep?.({ isolation, what: 'js' });
      const jsCallNs = jsCallCost(() => drv.call('nop'), runs, iters);

      result.modes.push({
        isolation,
        supported: true,
        roundTripCycles: round(b.roundTripTicks),
        roundTripNs: round(b.roundTripTicks / b.tscPerNs),
        upcallCycles: round(b.upcallTicks),
        upcallNs: round(b.upcallTicks / b.tscPerNs),
        batchedCallCycles: round(b.batchedCallTicks),
        batchedCallNs: round(b.batchedCallTicks / b.tscPerNs),
        jsCallNs: round(jsCallNs),
      });
    } finally {
      await kernel.shutdown();
    }
  }
  result.tscPerNs = tscPerNs.length ? round(median(tscPerNs), 3) : 0;
  return result;
}

/** ns per call of `fn`: median over `runs` runs of `iters` calls, after a warm-up. */
function jsCallCost(fn: () => unknown, runs: number, iters: number): number {
  // Until V8 has optimised the loop and drv.call (thousands of calls), or 200 ms; the symbol is resolved here too.
  const warmUntil = process.hrtime.bigint() + 200_000_000n;
  for (let i = 0; i < 50_000 && (i % 256 !== 0 || process.hrtime.bigint() < warmUntil); i++) fn();
  const perCall: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) fn();
    perCall.push(Number(process.hrtime.bigint() - t0) / iters);
  }
  return median(perCall);
}

export function cpuModel(): string {
  const m = /^model name\s*:\s*(.*)$/m.exec(cpuinfo() ?? '');
  return m ? m[1].trim() : 'unknown';
}

function cpuinfo(): string | undefined {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return undefined;
  }
}

function positive(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`${name} must be a positive integer, got ${n}`);
  return n;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
