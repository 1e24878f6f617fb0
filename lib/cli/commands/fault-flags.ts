// The flags `nooks inject` and `nooks campaign` share: which fault, from which seed, how long it stays.
import type { FaultType } from '../../inject/index.js';
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
