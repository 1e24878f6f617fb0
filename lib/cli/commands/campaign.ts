// `nooks campaign`: the fault-injection campaign (lib/experiments/campaign.ts)
// with a progress line, then the papers' figures as tables; one shard of it
// (--shard i/n); `nooks campaign merge`: the shards put back together.
import { campaignModes, failureMeasures, measureLabel, runCampaign, share, summarize, type TrialRecord } from '../../experiments/campaign.js';
import { mergeShards, writeMerged } from '../../experiments/merge.js';
import { parseShard } from '../../experiments/plan.js';
import { UsageError } from '../args.js';
import { Progress } from '../progress.js';
import { intFlag, table, toJson, type Context } from './common.js';
import { callsDeviceClass, faultOptions, faultTarget } from './fault-flags.js';

export async function campaign(ctx: Context): Promise<number> {
  // a campaign's arguments after --: a program's argv; merge's: its files still (a name that starts with -)
  const argv = ctx.dashed ?? [];
  const [action, ...files] = ctx.args;
  const named = ctx.args.length > argv.length; // an action before --
  if (named && action === 'merge') return merge(ctx, files);
  if (named) throw new UsageError(`campaign: unknown action "${action}": the only one is merge (nooks campaign merge <shard.jsonl>... --out <all.jsonl>)`);
  const { seed, type, transient } = faultOptions(ctx, () => 1);
  const target = await faultTarget(ctx.flags.driver, ctx.flags.workload, argv);
  const shard = ctx.flags.shard === undefined ? undefined : parseShard(ctx.flags.shard);
  const out = ctx.flags.out ?? 'campaign.jsonl';
  // a driver of no device class has nothing to shadow: its +shadow modes would repeat the plain ones
  const classless = target.user !== undefined && !callsDeviceClass(target.user.driver);
  let progress: Progress | undefined;
  const started = Date.now();
  let ran = 0;
  const { plan, records, summary } = await runCampaign({
    trials: intFlag(ctx, 'trials', 400), seed, type, persistent: !transient, out, fresh: ctx.flags.fresh, jobs: intFlag(ctx, 'jobs', 1), shard, ...target,
    ...(classless ? { modes: campaignModes().filter((m) => !m.shadow) } : {}),
    onStart: (total, done) => {
      progress = new Progress({ total: total - done, label: `campaign${shard ? ` shard ${ctx.flags.shard}` : ''} (${done} of ${total} in ${out})`, json: ctx.flags.json });
    },
    onTrial: () => {
      ran++;
      progress?.tick();
    },
  });
  progress?.finish();
  if (ctx.flags.json) {
    ctx.print(toJson(summary));
    return 0;
  }
  const faults = plan.trials / (shard?.count ?? 1);
  ctx.print(`${summary.trials} trials (${shard ? `shard ${ctx.flags.shard} of plan ${plan.id}: about ${Math.round(faults)}` : plan.trials} faults per driver, each in ${plan.modes.join(', ')}${classless ? ': no device class, nothing to shadow' : ''}); results in ${out}`);
  ctx.print(`${ran} run now in ${((Date.now() - started) / 1000).toFixed(0)} s, ${records.length - ran} from the file`);
  printFigures(ctx, plan.modes, records, summary);
  return 0;
}

/** `nooks campaign merge a.jsonl b.jsonl --out all.jsonl`: checked to be one plan with nothing missing or twice. */
function merge(ctx: Context, files: string[]): number {
  if (files.length === 0) throw new UsageError('campaign merge: name the shards\' files: nooks campaign merge <shard.jsonl>... [--out <all.jsonl>]');
  const planFlags = (['trials', 'seed', 'type', 'persistent', 'jobs', 'driver', 'workload', 'shard'] as const).filter((f) => ctx.flags[f]);
  if (planFlags.length) throw new UsageError(`campaign merge takes the plan from the files: ${planFlags.map((f) => `--${f}`).join(', ')} ${planFlags.length === 1 ? 'is' : 'are'} not for merge`);
  const { plan, records } = mergeShards(files);
  if (ctx.flags.out) writeMerged(ctx.flags.out, plan, records);
  const summary = summarize(records);
  if (ctx.flags.json) {
    ctx.print(toJson(summary));
    return 0;
  }
  ctx.print(`${records.length} trials of plan ${plan.id} from ${files.length} file${files.length === 1 ? '' : 's'} (${plan.trials} faults per driver, each in ${plan.modes.join(', ')})${ctx.flags.out ? `; merged into ${ctx.flags.out}` : ''}`);
  printFigures(ctx, plan.modes, records, summary);
  return 0;
}

/** The Nooks paper's Figures 6 and 7 and the shadow-driver paper's Figure 7, as tables. */
function printFigures(ctx: Context, planModes: readonly string[], records: readonly TrialRecord[], summary: ReturnType<typeof summarize>): void {
  const modes = planModes.filter((m) => summary.byMode[m]);
  const apps = [...new Set(records.map((r) => r.app))];
  const of = (app: string, mode: string) => records.filter((r) => r.app === app && r.mode === mode);
  const count = (rs: TrialRecord[], p: (r: TrialRecord) => boolean) => rs.filter(p).length;
  const pct = (a: number, b: number) => (b ? `${Math.round((100 * a) / b)}%` : '-');
  const label = (app: string) => `${records.find((r) => r.app === app)!.driver} (${app})`;

  ctx.print('');
  ctx.print('System crashes (Nooks, Figure 6): trials in which the host process died or hung');
  for (const l of table(['driver', ...modes], apps.map((a) => [label(a), ...modes.map((m) => String(count(of(a, m), (r) => r.hostCrashed)))]))) ctx.print(l);
  ctx.print('');
  ctx.print('Non-fatal failures (Nooks, Figure 7): a failure showed, the host survived');
  for (const l of table(['driver', ...modes], apps.map((a) => [label(a), ...modes.map((m) => String(count(of(a, m), (r) => r.failure && !r.hostCrashed)))]))) ctx.print(l);
  for (const m of modes.filter((x) => x.endsWith('+shadow'))) {
    ctx.print('');
    ctx.print(`Detected and recovered failures per application (shadow drivers, Figure 7), ${m}`);
    const rows = apps.map((a) => [a, ...failureMeasures.map((measure) => {
      const { k, n } = share(measure, of(a, m));
      return `${pct(k, n)} (${k}/${n})`;
    })]);
    for (const l of table(['application', ...failureMeasures.map(measureLabel)], rows)) ctx.print(l);
  }
  ctx.print('');
  for (const l of modeTable(modes, summary)) ctx.print(l);
}

/** One row per mode: trials, host crashes, failures shown, detected (and before the verdict), recovered, app continued, recovery time. */
export function modeTable(modes: readonly string[], summary: ReturnType<typeof summarize>): string[] {
  const rows = table(['mode', 'trials', 'host crashes', 'failures shown', 'detected', 'before verdict', 'recovered', 'app continued', 'recovery ms: median, max (recoveries)'],
    modes.map((m) => {
      const s = summary.byMode[m];
      const time = s.recoveryTime ? `${s.recoveryTime.medianMs}, ${s.recoveryTime.maxMs} (${s.recoveryTime.recoveries})` : '-';
      // of the detected trials that record it, as the report counts them
      const before = s.detectedBeforeVerdictOf === s.detected ? String(s.detectedBeforeVerdict)
        : s.detectedBeforeVerdictOf ? `${s.detectedBeforeVerdict} of ${s.detectedBeforeVerdictOf}` : '-';
      return [m, String(s.trials), String(s.hostCrashes), String(s.visibleFailures), String(s.detected), before, String(s.recovered), String(s.appContinued), time];
    }));
  return [...rows, 'before verdict: detected while the application worked, not only at the unload after its work was judged '
    + '(k of n: of the n detected trials that record it; -: none does, a file from before it was kept)', 'recovery ms: from the fault reported to the driver running again, each restart of every trial of the mode (a trial may restart its driver more than once)'];
}
