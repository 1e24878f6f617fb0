// Where a class workload's cost goes, per unit completed (bench net|block|
// sound|serial): counters the kernel and the OS keep anyway, read at the start
// and the end of the measuring window. Nothing is counted in JavaScript per
// operation: the domain counts its crossings and interrupt handler runs, the
// taps (native/shadow/taps.h) the calls and crossings of each operation and
// kernel call, isolation 'mprotect' its system calls, isolation 'process' the
// waits on its host process whose spin ran out, the OS the CPU time
// and context switches (usage.ts). Whether a
// mode is slower because its batches get smaller, it sleeps and wakes more,
// or each crossing costs more shows in these figures.
import type { Isolation, Kernel } from '../kernel.js';
import { native } from '../native.js';
import { sampleUsage, usageSince, type UsageSample } from './usage.js';

/** Per unit of throughput (an operation, frame or byte) completed in the window. */
export interface Breakdown {
  /** Entries into the driver's domain: requests, interrupts, timers, work, queries. */
  crossingsPerUnit: number;
  /** Calls of the class's request operations (submit, ndo_start_xmit, start_tx, ack), refused ones (-EBUSY) made again included. */
  requestCallsPerUnit: number;
  /** Units per crossing that carried request operations: the batching achieved. null: no request crossed. */
  unitsPerRequestCrossing: number | null;
  /** Kernel calls the driver made (upcalls). null under isolation 'none': its kernel calls go straight to the bodies, uncounted. */
  kernelCallsPerUnit: number | null;
  /** The same by kernel call, the most frequent first, those of at least 0.001 per unit ({} under 'none'). */
  kernelCallsPerUnitByName: Record<string, number>;
  /** Under 'mprotect': its page-protection system calls (what its crossings and kernel calls cost); null in the other modes. */
  mprotectCallsPerUnit: number | null;
  /** Under 'process': waits of the kernel's threads on the driver's host process whose spin ran out, so that they slept (a wake-up each); null in the other modes. */
  spinsRunOutPerUnit: number | null;
  /** Runs of the driver's interrupt handler (each a crossing). */
  interruptsPerUnit: number;
  /** Waits (a lock, a futex, a sleep): threads of the process, and of the driver's host process under 'process', gave up the CPU. */
  voluntarySwitchesPerUnit: number;
  /** Preemptions of those threads. */
  involuntarySwitchesPerUnit: number;
  /** CPU time of the process and the driver's host process, in µs. */
  cpuUsPerUnit: number;
}

/** The counters at one moment. */
export interface Counters {
  crossings: number;
  interrupts: number;
  requestCalls: number;
  requestCrossings: number;
  kernelCalls: number;
  kernelCallsByName: Map<string, number>;
  mprotectCalls: number;
  spinsRunOut: number;
  usage: UsageSample;
}

/** The counters of `driver`'s domain and taps, and the usage of this process and of its children (the driver's host process under 'process'). */
export function readCounters(kernel: Kernel, driver: string): Counters {
  const domain = kernel.domains().find((d) => d.name === driver);
  const drv = kernel.driver(driver);
  if (!domain || !drv) throw new Error(`no domain for driver ${driver}`);
  const c: Counters = {
    crossings: domain.crossings, interrupts: domain.interrupts, requestCalls: 0, requestCrossings: 0, kernelCalls: 0, kernelCallsByName: new Map(),
    mprotectCalls: native().mprotectCalls(), spinsRunOut: native().processSpinsRunOut(), usage: sampleUsage(),
  };
  for (const t of drv.taps()) {
    if (t.direction === 'to-kernel') {
      c.kernelCalls += t.calls;
      c.kernelCallsByName.set(t.name, t.calls);
    } else if (t.role === 'request') {
      c.requestCalls += t.calls;
      c.requestCrossings += t.crossings;
    }
  }
  return c;
}

/** What happened between `a` and `b`, per unit of the `units` completed then. */
export function breakdown(a: Counters, b: Counters, units: number, isolation: Isolation): Breakdown {
  const per = (n: number) => (units > 0 ? significant(n / units) : 0);
  const used = usageSince(a.usage, b.usage);
  const requestCrossings = b.requestCrossings - a.requestCrossings;
  const byName = [...b.kernelCallsByName].map(([name, n]): [string, number] => [name, per(n - (a.kernelCallsByName.get(name) ?? 0))]);
  return {
    crossingsPerUnit: per(b.crossings - a.crossings),
    requestCallsPerUnit: per(b.requestCalls - a.requestCalls),
    unitsPerRequestCrossing: requestCrossings > 0 ? significant(units / requestCrossings) : null,
    kernelCallsPerUnit: isolation === 'none' ? null : per(b.kernelCalls - a.kernelCalls),
    kernelCallsPerUnitByName: Object.fromEntries(byName.filter(([, n]) => n >= 0.001).sort((x, y) => y[1] - x[1])),
    mprotectCallsPerUnit: isolation === 'mprotect' ? per(b.mprotectCalls - a.mprotectCalls) : null,
    spinsRunOutPerUnit: isolation === 'process' ? per(b.spinsRunOut - a.spinsRunOut) : null,
    interruptsPerUnit: per(b.interrupts - a.interrupts),
    voluntarySwitchesPerUnit: per(used.voluntarySwitches),
    involuntarySwitchesPerUnit: per(used.involuntarySwitches),
    cpuUsPerUnit: per(used.cpuUs),
  };
}

/** Three significant digits (per-byte figures are small). */
function significant(x: number): number {
  return Number(x.toPrecision(3));
}
