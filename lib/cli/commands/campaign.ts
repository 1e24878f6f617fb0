// `nooks campaign`: the fault-injection campaign (lib/experiments/campaign.ts)
// with a progress line, then the papers' figures as tables.
import { campaignModes, runCampaign, type TrialRecord } from '../../experiments/campaign.js';
import { trialApps } from '../../experiments/trial.js';
import { Progress } from '../progress.js';
import { intFlag, table, toJson, type Context } from './common.js';
import { faultOptions } from './fault-flags.js';

export async function campaign(ctx: Context): Promise<number> {
  const { seed, type, transient } = faultOptions(ctx, () => 1);
  const out = ctx.flags.out ?? 'campaign.jsonl';
  let progress: Progress | undefined;
  const started = Date.now();
  let ran = 0;
  const { records, summary } = await runCampaign({
    trials: intFlag(ctx, 'trials', 400), seed, type, persistent: !transient, out, jobs: intFlag(ctx, 'jobs', 1),
    onStart: (total, done) => {
      progress = new Progress({ total: total - done, label: `campaign (${done} of ${total} in ${out})`, json: ctx.flags.json });
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
  const modes = campaignModes().map((m) => m.name).filter((m) => summary.byMode[m]);
  const apps = [...new Set(records.map((r) => r.app))];
  const of = (app: string, mode: string) => records.filter((r) => r.app === app && r.mode === mode);
  const count = (rs: TrialRecord[], p: (r: TrialRecord) => boolean) => rs.filter(p).length;
  const pct = (a: number, b: number) => (b ? `${Math.round((100 * a) / b)}%` : '-');
  const label = (app: string) => `${trialApps[app].driver} (${app})`;

  ctx.print(`${summary.trials} trials (${records.length / Math.max(1, modes.length) / Math.max(1, apps.length)} faults per driver, each in ${modes.join(', ')}); results in ${out}`);
  ctx.print(`${ran} run now in ${((Date.now() - started) / 1000).toFixed(0)} s, ${records.length - ran} from the file`);
  ctx.print('');
  ctx.print('System crashes (Nooks, Figure 6): trials in which the host process died or hung');
  for (const l of table(['driver', ...modes], apps.map((a) => [label(a), ...modes.map((m) => String(count(of(a, m), (r) => r.hostCrashed)))]))) ctx.print(l);
  ctx.print('');
  ctx.print('Non-fatal failures (Nooks, Figure 7): a failure showed, the host survived');
  for (const l of table(['driver', ...modes], apps.map((a) => [label(a), ...modes.map((m) => String(count(of(a, m), (r) => r.failure && !r.hostCrashed)))]))) ctx.print(l);
  for (const m of modes.filter((x) => x.endsWith('+shadow'))) {
    ctx.print('');
    ctx.print(`Detected and recovered failures per application (shadow drivers, Figure 7), ${m}`);
    const rows = apps.map((a) => {
      const failed = of(a, m).filter((r) => r.failure);
      return [a, String(failed.length), pct(count(failed, (r) => r.detected), failed.length), pct(count(failed, (r) => r.recovered), failed.length),
        pct(count(failed, (r) => r.outcome === 'continued'), failed.length)];
    });
    for (const l of table(['application', 'failures', 'detected', 'recovered', 'app continued'], rows)) ctx.print(l);
  }
  ctx.print('');
  for (const l of table(['mode', 'trials', 'host crashes', 'failures shown', 'detected', 'recovered', 'app continued'],
    modes.map((m) => {
      const s = summary.byMode[m];
      return [m, String(s.trials), String(s.hostCrashes), String(s.visibleFailures), String(s.detected), String(s.recovered), String(s.appContinued)];
    }))) ctx.print(l);
  return 0;
}
