// The flags `nooks inject` and `nooks campaign` share: which fault, from which seed, how long it stays.
import { faultTypes, type FaultType } from '../../inject/index.js';
import { closest, UsageError } from '../args.js';
import type { Context } from './common.js';

export function faultOptions(ctx: Context): { seed: number; type?: FaultType; transient: boolean } {
  if (ctx.flags.persistent && ctx.flags.transient) throw new UsageError('--persistent and --transient exclude each other');
  const raw = ctx.flags.seed;
  const seed = raw === undefined ? Date.now() % 1_000_000 : Number(raw);
  if (!/^\d+$/.test(raw ?? '0') || !Number.isSafeInteger(seed)) throw new UsageError(`--seed must be a non-negative integer, got "${raw}"`);
  const type = ctx.flags.type as FaultType | undefined;
  if (type !== undefined && !faultTypes.includes(type)) {
    const hint = closest(type, faultTypes);
    throw new UsageError(`unknown fault type "${type}"${hint ? ` (did you mean "${hint}"?)` : ''}; types: ${faultTypes.join(', ')}`);
  }
  return { seed, type, transient: !ctx.flags.persistent };
}
