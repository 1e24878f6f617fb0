// A user's workload: the module that exercises a user's own driver in a
// fault-injection trial (`nooks inject <driver.so> --workload <module.mjs>`,
// `nooks campaign --driver <driver.so> --workload <module.mjs>`), in place of
// the built-in drivers' applications. Its verdict judges the trial's outcome.
import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { withCode } from '../error-code.js';
import type { InjectedFault } from '../inject/index.js';
import { DriverFault, type Driver, type Isolation, type Kernel, type LoadOptions } from '../kernel.js';
import { driverName } from '../paths.js';

/** What the workload is given: the driver is loaded already, the fault injected into it. */
export interface WorkloadContext {
  kernel: Kernel;
  driver: Driver;
  /** Which trial: its number in the campaign (0 for one `nooks inject`), its mode and the fault injected. */
  trial: { index: number; mode: string; isolation: Isolation; shadow: boolean; fault: InjectedFault };
  /** The trial's seed (the fault's): for the workload's own random choices, so that a trial runs again alike. */
  seed: number;
}

/** Whether the workload's work was correct; `detail` says what went wrong. */
export type WorkloadResult = boolean | { ok: boolean; detail?: string };

/**
 * The module's default export. Throwing counts as failure (a DriverFault by
 * its kind: `segv`, `timeout`, ...).
 */
export type Workload = (context: WorkloadContext) => Promise<WorkloadResult> | WorkloadResult;

/**
 * What a workload's `load` may set of kernel.load's options: the driver's
 * configuration. The rest (its name, limits, shadow, patches) is the trial's,
 * which its records state. A program's `argv` is its arguments after its name
 * (as `nooks exec <driver> -- args`): the trial puts the name first.
 */
const workloadLoadKeys = ['devices', 'env', 'params', 'dmaBytes', 'argv'] as const;
export type WorkloadLoadOptions = Pick<LoadOptions, Exclude<(typeof workloadLoadKeys)[number], 'argv'>> & { argv?: string[] };

/**
 * The module's optional `load` export, called before the driver is loaded: the
 * options it is loaded with (WorkloadLoadOptions), e.g. the devices a POSIX
 * driver's view holds, added to the kernel here.
 */
export type WorkloadLoad = (context: Omit<WorkloadContext, 'driver'>) => WorkloadLoadOptions | void | Promise<WorkloadLoadOptions | void>;

/** A workload module, imported: its default export and its `load`. */
export interface WorkloadModule {
  run: Workload;
  load?: WorkloadLoad;
}

/** Which kind of user module: a trial's workload, or a benchmark's load (lib/bench/driver.ts); its messages name it. */
export type UserModuleKind = 'workload' | 'bench';

/**
 * Calls the `load` of the `kind` module at `module`: its options, checked (kernel.load checks their values; argv's
 * shape here, as kernel.load would speak of the list with the name put first). Its context: a trial's
 * (WorkloadLoad), or a benchmark's (lib/bench/driver.ts).
 */
export async function workloadLoadOptions<C>(load: (context: C) => unknown, context: C, module: string, kind: UserModuleKind): Promise<WorkloadLoadOptions> {
  let options: unknown;
  try {
    options = await load(context);
  } catch (e) {
    const err = e as (Error & { code?: unknown }) | undefined;
    throw Object.assign(new Error(`the ${kind} module's load export threw: ${withCode(err?.message ?? String(e), err?.code)}`), { code: 'EWORKLOAD', cause: e });
  }
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw Object.assign(new Error(`the ${kind} module's load export must return the driver's load options (an object), got ${JSON.stringify(options)}`), { code: 'EWORKLOAD' });
  const other = Object.keys(options).filter((k) => !(workloadLoadKeys as readonly string[]).includes(k));
  if (other.length)
    throw Object.assign(new Error(`the ${kind} module's load export may set ${workloadLoadKeys.join(', ')}; not ${other.join(', ')} (the ${kind === 'bench' ? 'benchmark' : 'trial'}'s own)`), { code: 'EWORKLOAD' });
  const { argv } = options as { argv?: unknown };
  if (argv !== undefined && !(Array.isArray(argv) && argv.every((a) => typeof a === 'string'))) {
    throw Object.assign(new Error(`${kind} module ${module}: its load export's argv must be the program's arguments after its name, `
      + `a list of strings (as nooks exec <driver> -- args), got ${JSON.stringify(argv)}`), { code: 'EWORKLOAD' });
  }
  return options as WorkloadLoadOptions;
}

/** kernel.load's options for the driver at `path`: a program's arguments (argv) after its name, as `nooks exec` gives them. */
export function programLoadOptions(path: string, options: WorkloadLoadOptions): Omit<LoadOptions, 'patches'> {
  const { argv, ...rest } = options;
  return argv ? { ...rest, argv: [driverName(path), ...argv] } : rest;
}

/** The application's verdict, as the trials report it. */
export interface Verdict {
  ok: boolean;
  error?: { code: string; message: string };
}

/** A workload module's path, checked: it exists and is a file. */
export function workloadPath(path: string): string {
  const abs = resolve(path);
  if (!existsSync(abs)) throw Object.assign(new Error(`workload module ${abs} does not exist`), { code: 'ENOENT' });
  if (!statSync(abs).isFile()) throw Object.assign(new Error(`workload module ${abs} is not a file`), { code: 'EWORKLOAD' });
  return abs;
}

/** `hello.workload.mjs` -> `hello.workload`: the name it goes by in records and tables. */
export function workloadName(path: string): string {
  return basename(path).replace(/\.(m|c)?[jt]s$/, '');
}

/** Imports a user's module (a workload, or a bench's: lib/bench/driver.ts): its exports; one that does not import is EWORKLOAD. */
export async function importUserModule(path: string, kind: UserModuleKind): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (e) {
    throw Object.assign(new Error(`cannot import the ${kind} module ${path}: ${(e as Error).message}`), { code: 'EWORKLOAD' });
  }
}

/** Imports the module: its default export must be a function, and so must `load` where it has one. */
export async function importWorkload(path: string): Promise<WorkloadModule> {
  const m = await importUserModule(path, 'workload');
  if (typeof m.default !== 'function') {
    throw Object.assign(new Error(`workload module ${path} must export a default function ({ kernel, driver, trial, seed }) => ok, got ${typeof m.default}`),
      { code: 'EWORKLOAD' });
  }
  if (m.load !== undefined && typeof m.load !== 'function') {
    throw Object.assign(new Error(`workload module ${path}: its load export must be a function ({ kernel, trial, seed }) => load options, got ${typeof m.load}`),
      { code: 'EWORKLOAD' });
  }
  return { run: m.default as Workload, load: m.load as WorkloadLoad | undefined };
}

/** The verdict of work that threw: a DriverFault by its kind, another error by its code (or `otherwise`). */
export function failedWith(e: unknown, otherwise: string): Verdict {
  const err = e as Error & { code?: unknown };
  const code = e instanceof DriverFault ? e.kind : typeof err?.code === 'string' ? err.code : otherwise;
  return { ok: false, error: { code, message: err?.message ?? String(e) } };
}

/** Runs the workload and turns what it returned or threw into a verdict. */
export async function runWorkload(workload: Workload, context: WorkloadContext): Promise<Verdict> {
  let result: WorkloadResult;
  try {
    result = await workload(context);
  } catch (e) {
    return failedWith(e, 'EWORKLOAD');
  }
  // Its own verdict that the work went wrong is EFAIL (as an application's); EWORKLOAD is a broken module.
  if (typeof result === 'boolean') return result ? { ok: true } : { ok: false, error: { code: 'EFAIL', message: 'the workload returned false' } };
  if (result === null || typeof result !== 'object' || typeof result.ok !== 'boolean') {
    return { ok: false, error: { code: 'EWORKLOAD', message: `the workload must return true, false or { ok, detail? }, got ${JSON.stringify(result)}` } };
  }
  return result.ok ? { ok: true } : { ok: false, error: { code: 'EFAIL', message: result.detail ?? 'the workload reported failure' } };
}
