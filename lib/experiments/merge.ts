// `nooks campaign merge`: the shards of one campaign (`--shard i/n`, run on
// many machines) put back together, after checking that they are slices of
// one plan (plan.ts) that add up to it: no trial missing, none twice.
import { existsSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { foreignTrial, readCampaignFile, stalePlanner, type PlanHeader, type TrialRecord } from './campaign.js';
import { plannerVersion } from '../inject/index.js';
import { describePlan, parseShard, planDifferences, planIdentity, planTrials, shardOf, type PlanIdentity } from './plan.js';

export class MergeError extends Error {
  override name = 'MergeError';
  constructor(readonly code: 'ENOENT' | 'ENOPLAN' | 'EPLAN' | 'EDUPLICATE' | 'EGAP', message: string) {
    super(message);
  }
}

/** Where a file's plan was made by another fault planner than this nooks's (its trial N another fault, or run otherwise), what to do; else ''. */
function plannerAdvice(files: readonly [string, PlanIdentity][]): string {
  const stale = files.filter(([, p]) => (p.planner ?? 1) !== plannerVersion);
  if (stale.length === 0 || stale.length === files.length) return '';
  return `. The same trial is another fault (or runs it otherwise) under another fault planner: run ${stale.map(([f, p]) => `${f} (fault planner ${p.planner ?? 1})`).join(', ')} `
    + `again with this nooks (fault planner ${plannerVersion}), by ${stale.length === 1 ? 'its' : 'their'} own command with --fresh`;
}

const some = (items: readonly string[]) => `${items.slice(0, 3).join(', ')}${items.length > 3 ? `, ... (${items.length} in all)` : ''}`;

/** Reads the shards, checks them, and returns the plan and its trials in the plan's order. */
export function mergeShards(files: readonly string[]): { plan: PlanIdentity; records: TrialRecord[] } {
  const named = new Set<string>();
  const read = files.map((file) => {
    if (!existsSync(file)) throw new MergeError('ENOENT', `${file} does not exist`);
    if (!statSync(file).isFile()) throw new MergeError('ENOPLAN', `${file} is not a file`);
    const real = realpathSync(file);
    if (named.has(real)) throw new MergeError('EDUPLICATE', `${file} is named twice`);
    named.add(real);
    const content = readCampaignFile(file);
    if (content.plans.length === 0) {
      throw new MergeError('ENOPLAN', `${file} holds no plan header: it was not written by nooks campaign (or by a version before shards)`);
    }
    for (const { plan } of content.plans) {
      if (planIdentity(plan).id !== plan.id) throw new MergeError('EPLAN', `${file}: the header of plan ${plan.id} was altered (its fields no longer give that id)`);
    }
    return { file, ...content };
  });
  const headers = read.flatMap((r) => r.plans.map((h): [string, PlanHeader] => [r.file, h]));
  const [firstFile, first] = headers[0];
  const plan = first.plan;
  for (const [file, h] of headers) {
    if (h.plan.id !== plan.id) {
      throw new MergeError('EPLAN', `${firstFile} and ${file} are pieces of different campaigns (they differ in ${planDifferences(plan, h.plan).join(', ') || 'their identity'}): `
        + `${describePlan(plan)} against ${describePlan(h.plan)}${plannerAdvice([[firstFile, plan], [file, h.plan]])}`);
    }
  }
  // all from another fault planner: refused as a resumed campaign refuses it
  const stale = stalePlanner(plan);
  if (stale) throw new MergeError('EPLAN', `${firstFile} ${stale}; run each shard again with this nooks, by its own command with --fresh`);
  const trials = planTrials(plan);
  const inPlan = new Set(trials.map((t) => t.key));
  const seen = new Map<string, { file: string; record: TrialRecord }>();
  const duplicates: string[] = [];
  for (const { file, records } of read) {
    for (const record of records) {
      const foreign = foreignTrial(record, plan, inPlan);
      if (foreign) throw new MergeError('EPLAN', `${file} ${foreign}`);
      const before = seen.get(record.key);
      if (before) duplicates.push(`${record.key} (in ${before.file} and ${file})`);
      else seen.set(record.key, { file, record });
    }
  }
  if (duplicates.length) {
    throw new MergeError('EDUPLICATE', `${duplicates.length} trial${duplicates.length === 1 ? ' is' : 's are'} in the shards twice: ${some(duplicates)}; `
      + 'was a shard run twice, or into two files?');
  }
  const missing = trials.filter((t) => !seen.has(t.key));
  if (missing.length) {
    // which slices they belong to, when the shards say how many there were
    const counts = [...new Set(headers.flatMap(([, h]) => (h.shard ? [parseShard(h.shard).count] : [])))];
    const slices = counts.length === 1
      ? `; they belong to shard ${[...new Set(missing.map((t) => shardOf(plan, t.target, t.index, counts[0])))].map((i) => `${i}/${counts[0]}`).join(', ')}`
      : '';
    throw new MergeError('EGAP', `${missing.length} of ${trials.length} trials of ${describePlan(plan)} are in none of the shards: ${some(missing.map((t) => t.key))}${slices}`);
  }
  return { plan, records: trials.map((t) => seen.get(t.key)!.record) };
}

/** The merged campaign as one file: its plan header, then every trial in the plan's order. */
export function writeMerged(out: string, plan: PlanIdentity, records: readonly TrialRecord[]): void {
  const header: PlanHeader = { plan };
  writeFileSync(out, [header, ...records].map((l) => `${JSON.stringify(l)}\n`).join(''));
}
