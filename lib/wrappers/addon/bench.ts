// The benchmarks' functions (native/bench/bench_napi.cc): crossing costs
// measured by C++ loops for `nooks bench xpc` (lib/bench/xpc.ts) and
// `nooks bench scale` (lib/bench/scale.ts), and the mprotect calls and the
// spins run out counted for the class benchmarks' breakdown (lib/bench/breakdown.ts).
import type { NativeBench } from '../../native.js';
import { fn, surface } from './describe.js';

export const bench = surface({
  name: 'bench',
  source: 'native/bench/bench_napi.cc',
  functions: {
    bench: fn<(id: number, nop: number, upcalls: number, runs: number, iters: number) => NativeBench>(
      'Crossing costs, measured with the driver\'s empty functions.', ['number', 'number', 'number', 'number', 'number']),
    benchDomains: fn<(id: number, nop: number, upcalls: number, runs: number, iters: number) =>
      Pick<NativeBench, 'roundTripTicks' | 'mprotectCallsPerCrossing' | 'upcallTicks' | 'mprotectCallsPerKernelCall'>>(
      'Only the round trip and the kernel call (bench xpc with more domains loaded).', ['number', 'number', 'number', 'number', 'number']),
    benchMmio: fn<(id: number, ioReadLoop: number, trappedReadLoop: number, bar: number, runs: number, iters: number) =>
      { ioReadTicks: number; trappedReadTicks: number }>(
      'One emulated register read through ioread32 (ioReadLoop(n)) and one trapped in a mapped BAR (trappedReadLoop(n, bar)).',
      ['number', 'number', 'number', 'number', 'number', 'number']),
    benchScale: fn<(ids: number[], fns: number[], threads: number, warmup: number, seconds: number) => { crossings: number; seconds: number }>(
      'Thread i crosses into ids[i % n] through fns[i % n] (empty functions) `warmup` times uncounted, then for `seconds`, all threads at once.',
      ['array', 'array', 'number', 'number', 'number']),
    mprotectCalls: fn<() => number>('The mprotect calls made so far, by every thread (isolation mprotect; 0 in the others): what its crossings cost in system calls.', []),
    processSpinsRunOut: fn<() => number>(
      "The waits of kernel threads on a driver's host process whose spin ran out, so that they slept (isolation process; 0 in the others): " +
      'how often a spin was spent in vain (a wait that sleeps at once, its host process last on the waiter\'s CPU, is not counted).', []),
  },
});
