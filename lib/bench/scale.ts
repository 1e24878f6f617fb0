// How crossings scale with threads (`nooks bench scale`): 1, 2, 4, 8 and 16
// kernel threads crossing at once into empty driver functions, each in a C++
// loop (native/bench/scale.cc), in two shapes: each thread into a driver of
// its own, and every thread into one driver. Per isolation mode, one after
// the other, like bench xpc.
import { availableParallelism } from 'node:os';
import type { Isolation } from '../kernel.js';
import { native } from '../native.js';
import { cpuModel, defaultModes, eachMode, NullDrivers, round, type ModeStep, type ModeUnsupported } from './common.js';

export const threadCounts = [1, 2, 4, 8, 16] as const;
export const scaleShapes = ['own-driver', 'one-driver'] as const;
export type ScaleShape = (typeof scaleShapes)[number];

export interface ScaleBenchOptions {
  /** Measuring time per point, in seconds (default 0.5). */
  seconds?: number;
  /** The modes to measure, in order (default: none, pkey, mprotect, process). */
  modes?: readonly Isolation[];
  onStep?: (step: { isolation: Isolation; what: ModeStep['what'] | 'point' }) => void;
}

export interface ScalePoint {
  threads: number;
  /** Crossings (round trips into an empty function) per second, all threads together. */
  crossingsPerSec: number;
  /** The same per thread (crossingsPerSec / threads). */
  perThread: number;
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
  /** One entry per mode and shape (an unsupported mode: one entry). */
  modes: (ScaleModeResult | ModeUnsupported)[];
}

export async function benchScale(options: ScaleBenchOptions = {}): Promise<ScaleBenchResult> {
  const seconds = options.seconds ?? 0.5;
  if (!(seconds > 0)) throw new RangeError(`seconds must be a positive number, got ${seconds}`);
  const perMode = await eachMode(options.modes ?? defaultModes, async (kernel): Promise<ScaleModeResult[]> => {
    const isolation = kernel.isolation;
    const nulls = new NullDrivers(kernel);
    try {
      const measure = async (shape: ScaleShape): Promise<ScaleModeResult> => {
        const points: ScalePoint[] = [];
        for (const threads of threadCounts) {
          options.onStep?.({ isolation, what: 'point' });
          const targets = await nulls.first(shape === 'own-driver' ? threads : 1);
          const r = native().benchScale(targets.map((t) => t.driver.id), targets.map((t) => t.nop), threads, seconds);
          const perSec = r.crossings / r.seconds;
          points.push({ threads, crossingsPerSec: round(perSec, 0), perThread: round(perSec / threads, 0) });
        }
        return { isolation, supported: true, shape, points };
      };
      // one-driver first: its points are measured with one domain loaded, as the shape says
      const one = await measure('one-driver');
      const own = await measure('own-driver');
      return [own, one];
    } finally {
      nulls.remove();
    }
  }, options.onStep);
  return { cpu: cpuModel(), cores: availableParallelism(), seconds, modes: perMode.flat() };
}
