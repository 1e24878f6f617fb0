// How crossings scale with threads (`nooks bench scale`): 1, 2, 4, 8 and 16
// kernel threads crossing at once into empty driver functions, each in a C++
// loop (native/bench/scale.cc), in two shapes: each thread into a driver of
// its own, and every thread into one driver. Per isolation mode, one after
// the other, like bench xpc; with several runs, in rounds of every mode in
// turn, like the class benches, the median run per point.
import { availableParallelism } from 'node:os';
import type { Isolation } from '../kernel.js';
import { native } from '../native.js';
import { cpuModel, defaultModes, eachRound, medianBy, NullDrivers, positive, round, type ModeStep, type ModeUnsupported } from './common.js';

export const threadCounts = [1, 2, 4, 8, 16] as const;
export const scaleShapes = ['own-driver', 'one-driver'] as const;
export type ScaleShape = (typeof scaleShapes)[number];
/** Crossings each thread makes before the start, uncounted: the first registers it and maps its stack, the rest warm caches and predictors. */
export const WARMUP_CROSSINGS = 1000;

export interface ScaleBenchOptions {
  /** Measuring time per point, in seconds (default 0.5). */
  seconds?: number;
  /** Rounds, each of every mode in turn (default 1); per point the median run is reported. */
  runs?: number;
  /** The modes to measure, in order (default: none, pkey, mprotect, process). */
  modes?: readonly Isolation[];
  onStep?: (step: { isolation: Isolation; what: ModeStep['what'] | 'point' }) => void;
}

/** One run of one point. */
export interface ScaleRun {
  /** Crossings (round trips into an empty function) per second, all threads together. */
  crossingsPerSec: number;
  /** The same per thread (crossingsPerSec / threads). */
  perThread: number;
}

/** A point's median run (by crossingsPerSec), and every run in round order. */
export interface ScalePoint extends ScaleRun {
  threads: number;
  runs: ScaleRun[];
}

export interface ScaleModeResult {
  isolation: Isolation;
  supported: true;
  /** own-driver: thread i crosses into a null driver of its own (as many loaded as threads); one-driver: all into one. */
  shape: ScaleShape;
  points: ScalePoint[];
}

export interface ScaleBenchResult {
  cpu: string;
  /** CPUs this process may run on. */
  cores: number;
  seconds: number;
  /** Rounds of every mode in turn. */
  runs: number;
  /** One entry per mode and shape (an unsupported mode: one entry). */
  modes: (ScaleModeResult | ModeUnsupported)[];
}

/** A mode and shape measured in one round: a run per thread count. */
interface Measured {
  isolation: Isolation;
  supported: true;
  shape: ScaleShape;
  runs: ScaleRun[];
}

export async function benchScale(options: ScaleBenchOptions = {}): Promise<ScaleBenchResult> {
  const seconds = options.seconds ?? 0.5;
  if (!(seconds > 0)) throw new RangeError(`seconds must be a positive number, got ${seconds}`);
  const runs = positive(options.runs ?? 1, 'runs');
  const rounds = await eachRound(runs, options.modes ?? defaultModes, async (kernel): Promise<Measured[]> => {
    const isolation = kernel.isolation;
    const nulls = new NullDrivers(kernel);
    try {
      const measure = async (shape: ScaleShape): Promise<Measured> => {
        const points: ScaleRun[] = [];
        for (const threads of threadCounts) {
          options.onStep?.({ isolation, what: 'point' });
          const targets = await nulls.first(shape === 'own-driver' ? threads : 1);
          const r = native().benchScale(targets.map((t) => t.driver.id), targets.map((t) => t.nop), threads, WARMUP_CROSSINGS, seconds);
          const perSec = r.crossings / r.seconds;
          points.push({ crossingsPerSec: round(perSec, 0), perThread: round(perSec / threads, 0) });
        }
        return { isolation, supported: true, shape, runs: points };
      };
      // one-driver first: its points are measured with one domain loaded, as the shape says
      const one = await measure('one-driver');
      const own = await measure('own-driver');
      return [own, one];
    } finally {
      nulls.remove();
    }
  }, options.onStep);
  const flat = rounds.map((modes) => modes.flat());
  return { cpu: cpuModel(), cores: availableParallelism(), seconds, runs, modes: flat[0].map((_, i) => summary(flat, i)) };
}

/** Mode and shape `i` over the rounds: per point, its median run and every run. */
function summary(rounds: (Measured | ModeUnsupported)[][], i: number): ScaleModeResult | ModeUnsupported {
  const first = rounds[0][i];
  if (!first.supported) return first; // unsupported in every round: the reason is the machine's
  const points = threadCounts.map((threads, j): ScalePoint => {
    const runs = rounds.map((modes) => (modes[i] as Measured).runs[j]);
    return { threads, ...medianBy(runs, (r) => r.crossingsPerSec), runs };
  });
  return { isolation: first.isolation, supported: true, shape: first.shape, points };
}
