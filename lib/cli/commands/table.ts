// `nooks table apps`: the applications experiment (lib/experiments/table-apps.ts).
import { configs, tableApps, type TableRow } from '../../experiments/table-apps.js';
import { trialApps } from '../../experiments/trial.js';
import { closest, UsageError } from '../args.js';
import { Progress } from '../progress.js';
import { table, toJson, type Context } from './common.js';

export async function tableCommand(ctx: Context): Promise<number> {
  const [which] = ctx.args;
  if (which !== 'apps') {
    const hint = closest(which, ['apps']);
    throw new UsageError(`unknown table "${which}"${hint ? ` (did you mean "${hint}"?)` : ''}; available: apps`);
  }
  const apps = Object.keys(trialApps);
  const progress = new Progress({ total: apps.length * configs.length, label: 'table apps', json: ctx.flags.json });
  const result = await tableApps({ onRow: () => progress.tick() });
  progress.finish();
  if (ctx.flags.json) {
    ctx.print(toJson(result));
    return 0;
  }
  const cell = (r: TableRow | undefined) => (r ? `${r.outcome}${r.failures ? ` (${r.failures} failure${r.failures === 1 ? '' : 's'})` : ''}` : '');
  const rows = apps.map((app) => {
    const of = (c: string) => result.rows.find((r) => r.app === app && r.config === c);
    return [app, trialApps[app].class, ...configs.map((c) => cell(of(c)))];
  });
  for (const line of table(['app', 'class', ...configs], rows)) ctx.print(line);
  ctx.print('');
  const times = result.rows.filter((r) => r.config === 'shadow').flatMap((r) => r.recoveryMs.map((ms) => `${r.app} ${ms} ms`));
  if (times.length) ctx.print(`recovery times (shadow): ${times.join(', ')}`);
  const gaps = result.rows.filter((r) => r.config === 'shadow' && r.gapMs?.length).map((r) => `${r.app} ${r.gapMs!.join(' and ')} ms`);
  if (gaps.length) ctx.print(`audible gaps (shadow): ${gaps.join(', ')}`);
  for (const r of result.rows) if (r.detail) ctx.print(`${r.app}, ${r.config}: ${r.detail}`);
  return 0;
}
