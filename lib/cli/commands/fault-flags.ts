// The flags `nooks inject` and `nooks campaign` share: which fault, from which
// seed, how long it stays; which driver it goes into, under what.
import { existsSync, readFileSync } from 'node:fs';
import { definesMain, dynamicImports, isElf } from '../../elf.js';
import type { UserTarget } from '../../experiments/campaign.js';
import { trialApps } from '../../experiments/trial.js';
import { importWorkload, workloadPath } from '../../experiments/workload.js';
import type { FaultType } from '../../inject/index.js';
import { native } from '../../native.js';
import { driverPath } from '../../paths.js';
import { block } from '../../wrappers/kapi/block.js';
import { net } from '../../wrappers/kapi/net.js';
import { serial } from '../../wrappers/kapi/serial.js';
import { sound } from '../../wrappers/kapi/sound.js';
import { UsageError } from '../args.js';
import type { Context } from './common.js';

/** `seed` without --seed: inject picks one (and prints it), a campaign starts from 1. */
export function faultOptions(ctx: Context, seed: () => number): { seed: number; type?: FaultType; transient: boolean } {
  if (ctx.flags.persistent && ctx.flags.transient) throw new UsageError('--persistent and --transient exclude each other');
  const raw = ctx.flags.seed;
  if (raw !== undefined && !(/^\d+$/.test(raw) && Number.isSafeInteger(Number(raw)))) throw new UsageError(`--seed must be a non-negative integer, got "${raw}"`);
  // the type's choices are checked by the argument parser
  return { seed: raw === undefined ? seed() : Number(raw), type: ctx.flags.type as FaultType | undefined, transient: !ctx.flags.persistent };
}

/**
 * What the faults go into. With a workload module: the driver (a path, or a
 * built-in driver's name) under it, a program with `argv` (its arguments after
 * its name) where given. Without: a built-in driver under its application.
 * Neither: every built-in application.
 */
export async function faultTarget(driver: string | undefined, workload: string | undefined, argv: readonly string[] = []): Promise<{ apps?: string[]; user?: UserTarget }> {
  if (argv.length && workload === undefined) {
    throw new UsageError(`"${argv.join(' ')}": a program's arguments (after --, as nooks exec takes them) go with --workload <module.mjs> and a driver `
      + 'that is a program; a built-in driver\'s application takes none');
  }
  if (workload === undefined) {
    if (driver === undefined) return {};
    const app = Object.keys(trialApps).find((a) => trialApps[a].driver === driver);
    // a path names the user's driver: one that is not there is said first
    if (!app && driver.includes('/') && !existsSync(driverPath(driver))) throw Object.assign(new Error(`driver ${driverPath(driver)} does not exist`), { code: 'ENOENT' });
    if (!app) {
      throw new UsageError(`no application uses "${driver}": the built-in applications run ${Object.values(trialApps).map((a) => a.driver).join(', ')}; `
        + 'exercise any other driver with --workload <module.mjs>');
    }
    return { apps: [app] };
  }
  if (driver === undefined) throw new UsageError('--workload needs the driver it exercises: --driver <path.so>');
  const path = driverPath(driver);
  if (!existsSync(path)) throw Object.assign(new Error(`driver ${path} does not exist`), { code: 'ENOENT' });
  // refused before any trial (one whose load failed would be recorded first), in the trial's own words
  if (argv.length && !isProgram(path)) {
    throw Object.assign(new Error(`${path} is no program (it defines no main, or is not built with --posix): the arguments after -- are for a program's main`), { code: 'EINVAL' });
  }
  const module = workloadPath(workload);
  await importWorkload(module); // a module without a default function is refused now, not in every trial
  return { user: { driver: path, workload: module, ...(argv.length ? { argv: [...argv] } : {}) } };
}

/** Whether the driver at `path` defines main; one the loader refuses is refused in its words first. */
function isProgram(path: string): boolean {
  native().checkDriver(path);
  return definesMain(readFileSync(path));
}

/**
 * Whether the driver at `path` imports a call of a device class (block, net, serial, sound): what a shadow
 * driver keeps. One of no class is restarted on failure with nothing to shadow: its mode is the isolation alone.
 */
export function callsDeviceClass(path: string): boolean {
  const elf = readFileSync(path);
  if (!isElf(elf)) return true; // no driver at all: the fault planner refuses it, in its own words
  native().checkDriver(path); // one the loader refuses: its words and code, before anything here reads the file
  const imports = new Set(dynamicImports(elf));
  return [...block, ...net, ...serial, ...sound].some((call) => imports.has(call.name));
}
