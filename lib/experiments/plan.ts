// A campaign's plan: the trials it is made of (each target's faults, each in
// every mode, one seed per fault), and the identity that names it. Every
// shard of a campaign records that identity, so that pieces run on many
// machines can be checked to be slices of one plan before they are merged.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { plannerVersion } from '../inject/index.js';

/** What the faults go into: an application and its driver, or a user's driver under a workload. */
export interface PlanTarget {
  /** The application, or the workload's name. */
  app: string;
  /** The driver's file name without .so. */
  driver: string;
  /** The driver binary's SHA-256 (its faults are planned from its code), and the workload module's. */
  driverSha256: string;
  workloadSha256?: string;
  /** A program's arguments after its name, given on the command line (a workload's own are in its module). */
  argv?: string[];
}

export interface PlanIdentity {
  /** The first 16 hex digits of the SHA-256 of everything below. */
  id: string;
  /** The fault planner's version (lib/inject): the same seed is another fault under another version. Absent: 1. */
  planner?: number;
  targets: PlanTarget[];
  seed: number;
  /** The one fault type, or `any`. */
  type: string;
  transient: boolean;
  /** Faults per target. */
  trials: number;
  modes: string[];
}

/** The i-th (1-based) of n slices. */
export interface Shard {
  index: number;
  count: number;
}

export interface PlannedTrial {
  /** Index into the plan's targets. */
  target: number;
  app: string;
  /** The fault's number within its target, its seed, and the mode it runs in. */
  index: number;
  seed: number;
  mode: string;
  key: string;
}

/** A plan's identity from its fields; a header from before planner versions (no `planner`) keeps the id it had. */
export function planIdentity(fields: Omit<PlanIdentity, 'id'>): PlanIdentity {
  const { planner, targets, seed, type, transient, trials, modes } = fields;
  const named = { planner, targets, seed, type, transient, trials, modes };
  return { id: createHash('sha256').update(JSON.stringify(named)).digest('hex').slice(0, 16), ...named };
}

/** The identity of the plan this version of nooks makes from these fields. */
export function currentPlan(fields: Omit<PlanIdentity, 'id' | 'planner'>): PlanIdentity {
  return planIdentity({ planner: plannerVersion, ...fields });
}

/** `plan 3f.. (blk under db; seed 1, any, transient, 10 trials, modes none,mprotect; fault planner 2)`: enough to tell two plans apart. */
export function describePlan(p: PlanIdentity): string {
  return `plan ${p.id} (${p.targets.map((t) => `${t.driver}${t.argv ? ` -- ${t.argv.join(' ')}` : ''} under ${t.app}`).join(', ')}; seed ${p.seed}, ${p.type}, `
    + `${p.transient ? 'transient' : 'persistent'}, ${p.trials} trials, modes ${p.modes.join(',')}; fault planner ${p.planner ?? 1})`;
}

/** The fields in which two plans differ. */
export function planDifferences(a: PlanIdentity, b: PlanIdentity): string[] {
  const fields = ['planner', 'targets', 'seed', 'type', 'transient', 'trials', 'modes'] as const;
  return fields.filter((f) => JSON.stringify(a[f]) !== JSON.stringify(b[f]));
}

export function fileSha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** A fault's seed: from the campaign's seed, the application and the fault's number (FNV-1a). */
function trialSeed(seed: number, app: string, index: number): number {
  let h = 0x811c9dc5;
  for (const c of `${seed}/${app}/${index}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
  return h >>> 0;
}

/**
 * Which of `count` shards a fault belongs to (1-based): a shard takes whole
 * faults (each in every mode), the k-th fault of the plan going to shard k % n + 1.
 */
export function shardOf(plan: PlanIdentity, target: number, index: number, count: number): number {
  return ((target * plan.trials + index) % count) + 1;
}

/** The plan's trials in order, or one shard's. */
export function planTrials(plan: PlanIdentity, shard?: Shard): PlannedTrial[] {
  const variant = `${plan.seed}/${plan.type}/${plan.transient ? 'transient' : 'persistent'}`;
  return plan.targets.flatMap(({ app }, target) => Array.from({ length: plan.trials }, (_, index) => index)
    .filter((index) => !shard || shardOf(plan, target, index, shard.count) === shard.index)
    .flatMap((index) => plan.modes.map((mode) => ({
      target, app, index, seed: trialSeed(plan.seed, app, index), mode, key: `${variant}/${app}/${index}/${mode}`,
    }))));
}

/** `2/8` -> the second of eight slices. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const [index, count] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!(count >= 1 && index >= 1 && index <= count)) {
    throw Object.assign(new Error(`--shard must be i/n with 1 <= i <= n (the i-th of n slices), got "${text}"`), { code: 'ESHARD' });
  }
  return { index, count };
}

export function shardName(s: Shard): string {
  return `${s.index}/${s.count}`;
}
