// The crossing benchmark (`nooks bench xpc`): what one host -> driver round
// trip, one driver -> host kernel call, one JavaScript drv.call() and one
// emulated register read (through ioread32, or trapped in a mapped BAR) cost in
// each isolation mode, measured side by side in one process, one mode after
// the other. The loops that need cycle precision run in C++ (native/bench);
// this module boots each mode, drives them and converts the results.
//
// "Cycles" here are TSC ticks (rdtsc), not core clock cycles: the TSC runs at
// a constant rate whatever the core's frequency. tscPerNs converts them.
import { Kernel, type Isolation } from '../kernel.js';
import { native } from '../native.js';
import { cpuModel, defaultModes, eachMode, median, NullDrivers, positive, round, type ModeStep, type ModeUnsupported } from './common.js';

/** How many null drivers are loaded for the round trips of `domains` (under mprotect a crossing's cost must not grow with them). */
export const domainCounts = [1, 4, 16] as const;

/** The most runs and operations per run: the C++ loops (native/bench) count them in an int. */
export const maxXpcCount = 2 ** 31 - 1;

export interface XpcBenchOptions {
  /** Runs of each measurement; the median run is reported (default 7; at most maxXpcCount). */
  runs?: number;
  /** Operations per run (default 20000; at most maxXpcCount). */
  iters?: number;
  /** The modes to measure, in order (default: none, pkey, mprotect, process). */
  modes?: readonly Isolation[];
  /** Called before each step, for progress lines. */
  onStep?: (step: XpcBenchStep) => void;
}

export interface XpcBenchStep {
  isolation: Isolation;
  what: ModeStep['what'] | 'native' | 'js' | 'domains' | 'mmio';
}

/** One mode's figures. Cycles are TSC ticks per operation (median run). */
export interface XpcModeResult {
  isolation: Isolation;
  supported: true;
  /** host -> driver -> host around an empty driver function, measured in C++. */
  roundTripCycles: number;
  roundTripNs: number;
  /** mprotect calls per round trip (isolation 'mprotect'; 0 in the others). */
  mprotectCallsPerCrossing: number;
  /** The round trip and the kernel call with 1, 4 and 16 domains loaded (`iters / loaded` operations per run). */
  domains: DomainsRoundTrip[];
  /** The same round trip as a device class makes it: through the operation's tap (native/shadow/taps.cc). */
  tappedRoundTripCycles: number;
  tappedRoundTripNs: number;
  /** One driver -> host -> driver kernel call (nooks_jiffies), measured in C++. */
  upcallCycles: number;
  upcallNs: number;
  /** mprotect calls per kernel call (isolation 'mprotect'; 0 in the others). */
  mprotectCallsPerKernelCall: number;
  /** One call to the empty function when calls are deferred, 63 per crossing (driver.batch). */
  batchedCallCycles: number;
  batchedCallNs: number;
  /** One `drv.call('nop')` from JavaScript, N-API included (median of the runs). */
  jsCallNs: number;
  /** One register read of an emulated device (testdev) through the ioread32 kernel call, from inside the driver. */
  ioReadCycles: number;
  ioReadNs: number;
  /** The same read as a load in the BAR the driver mapped: trapped, decoded and emulated (native/trap/mmio.h). */
  mmioTrapCycles: number;
  mmioTrapNs: number;
}

export interface DomainsRoundTrip {
  loaded: number;
  roundTripCycles: number;
  roundTripNs: number;
  mprotectCallsPerCrossing: number;
  upcallCycles: number;
  upcallNs: number;
  mprotectCallsPerKernelCall: number;
}

export interface XpcBenchResult {
  /** `model name` from /proc/cpuinfo. */
  cpu: string;
  /** Whether isolation 'pkey' can run here: a CPU with protection keys and a kernel that supports them (Linux >= 6.12). */
  pku: boolean;
  /** A bare pair of WRPKRU instructions, in TSC ticks; null without PKU. */
  wrpkruPairCycles: number | null;
  /** mprotect then mprotect back on the pages a round trip flips with one domain loaded, in TSC ticks; null without isolation 'mprotect' measured. */
  mprotectPairCycles: number | null;
  modes: (XpcModeResult | ModeUnsupported)[];
  /** TSC ticks per nanosecond, measured against CLOCK_MONOTONIC. */
  tscPerNs: number;
  runs: number;
  iters: number;
}

export async function benchXpc(options: XpcBenchOptions = {}): Promise<XpcBenchResult> {
  const runs = positive(options.runs ?? 7, 'runs', maxXpcCount);
  const iters = positive(options.iters ?? 20_000, 'iters', maxXpcCount);
  const modes = options.modes ?? defaultModes;
  const pku = Kernel.pkuSupported();
  const result: XpcBenchResult = { cpu: cpuModel(), pku, wrpkruPairCycles: null, mprotectPairCycles: null, modes: [], tscPerNs: 0, runs, iters };
  const tscPerNs: number[] = [];

  result.modes = await eachMode(modes, async (kernel): Promise<XpcModeResult> => {
    const isolation = kernel.isolation;
    // one entry makes `iters` kernel calls: under mprotect on a busy machine that can outlast the default watchdog
    const nulls = new NullDrivers(kernel, { timeBudgetMs: 60_000 });
    try {
      const [{ driver: drv, nop }] = await nulls.first(1);
      const upcalls = native().resolve(drv.id, 'upcall_nop');

      options.onStep?.({ isolation, what: 'native' });
      const b = native().bench(drv.id, nop, upcalls, runs, iters);
      tscPerNs.push(b.tscPerNs);
      if (b.wrpkruPairTicks !== null && result.wrpkruPairCycles === null) result.wrpkruPairCycles = round(b.wrpkruPairTicks);
      if (b.mprotectPairTicks !== null) result.mprotectPairCycles = round(b.mprotectPairTicks);

      options.onStep?.({ isolation, what: 'js' });
      const jsCallNs = jsCallCost(() => drv.call('nop'), runs, iters);

      // With the one driver loaded, as the figures above.
      options.onStep?.({ isolation, what: 'mmio' });
      const m = await mmioCost(kernel, runs, iters);

      options.onStep?.({ isolation, what: 'domains' });
      const domains: DomainsRoundTrip[] = [];
      for (const loaded of domainCounts) {
        await nulls.first(loaded);
        const r = loaded === 1 ? b : native().benchDomains(drv.id, nop, upcalls, runs, Math.max(1, Math.round(iters / loaded)));
        domains.push({
          loaded,
          roundTripCycles: round(r.roundTripTicks),
          roundTripNs: round(r.roundTripTicks / b.tscPerNs),
          mprotectCallsPerCrossing: round(r.mprotectCallsPerCrossing, 2),
          upcallCycles: round(r.upcallTicks),
          upcallNs: round(r.upcallTicks / b.tscPerNs),
          mprotectCallsPerKernelCall: round(r.mprotectCallsPerKernelCall, 2),
        });
      }

      return {
        isolation,
        supported: true,
        roundTripCycles: round(b.roundTripTicks),
        roundTripNs: round(b.roundTripTicks / b.tscPerNs),
        mprotectCallsPerCrossing: round(b.mprotectCallsPerCrossing, 2),
        domains,
        tappedRoundTripCycles: round(b.tappedRoundTripTicks),
        tappedRoundTripNs: round(b.tappedRoundTripTicks / b.tscPerNs),
        upcallCycles: round(b.upcallTicks),
        upcallNs: round(b.upcallTicks / b.tscPerNs),
        mprotectCallsPerKernelCall: round(b.mprotectCallsPerKernelCall, 2),
        batchedCallCycles: round(b.batchedCallTicks),
        batchedCallNs: round(b.batchedCallTicks / b.tscPerNs),
        jsCallNs: round(jsCallNs),
        ioReadCycles: round(m.ioReadTicks),
        ioReadNs: round(m.ioReadTicks / b.tscPerNs),
        mmioTrapCycles: round(m.trappedReadTicks),
        mmioTrapNs: round(m.trappedReadTicks / b.tscPerNs),
      };
    } finally {
      nulls.remove();
    }
  }, options.onStep);
  result.tscPerNs = tscPerNs.length ? round(median(tscPerNs), 3) : 0;
  return result;
}

/** One emulated register read (the bus test device's scratch register), through ioread32 and trapped in a mapped BAR. */
async function mmioCost(kernel: Kernel, runs: number, iters: number): Promise<{ ioReadTicks: number; trappedReadTicks: number }> {
  const dev = kernel.addDevice('testdev');
  const drv = await kernel.load('testdev', { timeBudgetMs: 60_000 });
  try {
    const fn = (name: string) => native().resolve(drv.id, name);
    const bar = native().mapBar(drv.id, dev.index, 0);
    // Fewer: a trapped access costs a few microseconds.
    return native().benchMmio(drv.id, fn('io_read_loop'), fn('mmio_read_loop'), bar, runs, Math.max(1, Math.round(iters / 10)));
  } finally {
    drv.unload();
  }
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
