// `nooks bench driver --driver <x.so> --workload <bench.mjs>`: the user's own
// driver under the user's own load, measured as the class benches measure
// theirs (classes.ts: every mode, rounds, medians, relative, the breakdown).
// The module is the user's; this file turns it into a class bench's Workload.
// Its contract (docs/results.md, "Measuring your own driver"):
//   export const unit = 'calls';                    // what done() counts (default 'units')
//   export function load({ kernel, isolation }) {}  // optional: the driver's load options, as a campaign workload's
//   export function start({ kernel, driver, dir }) { return { done: () => n, stop: async () => {} }; }
// start() returns at once and the load runs on, giving the event loop back.
import { failedWith, importUserModule, programLoadOptions, workloadLoadOptions, workloadName, workloadPath } from '../experiments/workload.js';
import type { Isolation, Kernel } from '../kernel.js';
import { native } from '../native.js';
import { driverName, driverPath } from '../paths.js';
import type { Workload } from './classes.js';
import type { Load } from './loads.js';

/** What a bench module's `load` is given (a campaign workload's gets the trial instead). */
export interface BenchLoadContext {
  kernel: Kernel;
  isolation: Isolation;
}

/** The user's driver (a path; checked as the loader checks it: ENOENT, ENOTELF, ...) under the bench module at `module`. */
export async function driverWorkload(driver: string, module: string): Promise<Workload> {
  const path = driverPath(driver);
  native().checkDriver(path);
  const modulePath = workloadPath(module);
  const m = await importUserModule(modulePath, 'bench');
  const refuse = (what: string) => Object.assign(new Error(`bench module ${modulePath}: ${what}`), { code: 'EWORKLOAD' });
  if (typeof m.start !== 'function')
    throw refuse(`it must export start({ kernel, driver, dir }) => { done(), stop() } (the load it puts on the driver), got ${typeof m.start}`);
  if (m.load !== undefined && typeof m.load !== 'function') throw refuse(`its load export must be a function ({ kernel, isolation }) => load options, got ${typeof m.load}`);
  if (m.unit !== undefined && (typeof m.unit !== 'string' || m.unit === '')) throw refuse(`its unit export must name what done() counts (e.g. 'calls'), got ${JSON.stringify(m.unit)}`);
  const start = m.start as (context: { kernel: Kernel; driver: unknown; dir: string }) => unknown;
  const load = m.load as ((context: BenchLoadContext) => unknown) | undefined;
  const name = driverName(path);
  return {
    name: `${name}/${workloadName(modulePath)}`,
    unit: `${(m.unit as string | undefined) ?? 'units'}/s`,
    driver: name,
    note: `${name} (${path}) under the load of ${modulePath}; throughput: what its done() counts.`,
    async start(kernel, dir) {
      const isolation = kernel.isolation;
      const drv = await said(isolation, 'loading the driver', async () =>
        kernel.load(path, load ? programLoadOptions(path, await workloadLoadOptions(load, { kernel, isolation }, modulePath, 'bench')) : {}));
      return checked(await said(isolation, "the bench module's start threw", () => start({ kernel, driver: drv, dir })), isolation);
    },
  };
}

/** The load start() returned, its done() and stop() checked and their failures said with the mode. */
function checked(running: unknown, isolation: Isolation): Load {
  const l = running as Partial<Record<'done' | 'stop', unknown>> | null;
  if (typeof l?.done !== 'function' || typeof l.stop !== 'function') {
    throw Object.assign(new Error(`isolation ${isolation}: the bench module's start must return { done(), stop() }, got ${JSON.stringify(running) ?? typeof running}`),
      { code: 'EWORKLOAD' });
  }
  const done = l.done as () => unknown, stop = l.stop as () => unknown;
  return {
    done() {
      let n: unknown;
      try {
        n = done();
      } catch (e) {
        throw failure(isolation, "the bench module's done() threw", e);
      }
      if (typeof n !== 'number' || !Number.isFinite(n) || n < 0)
        throw Object.assign(new Error(`isolation ${isolation}: the bench module's done() must return the units completed so far (a number >= 0), got ${JSON.stringify(n)}`), { code: 'EWORKLOAD' });
      return n;
    },
    async stop() {
      await said(isolation, "the bench module's stop threw", stop);
    },
  };
}

/** What `fn` gives; what it throws, said as failure() says it. */
async function said<T>(isolation: Isolation, what: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw failure(isolation, what, e);
  }
}

/** `e`, thrown while `what` in `isolation`: the mode leads the message; its code stays (a DriverFault's kind; EWORKLOAD without one). */
function failure(isolation: Isolation, what: string, e: unknown): Error {
  const { error } = failedWith(e, 'EWORKLOAD');
  return Object.assign(new Error(`isolation ${isolation}: ${what}: ${error!.message}`), { code: error!.code, cause: e });
}
