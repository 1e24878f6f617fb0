// `nooks policy check <file>`: validate a recovery policy file and show it
// resolved (every driver entry merged over the default); its fallback
// drivers must pass the loader's checks.
import { closest, UsageError } from '../args.js';
import { checkFallbacks, loadPolicy, type DriverPolicy } from '../../recovery/policy.js';
import { table, toJson, type Context } from './common.js';

export const policyActions = ['check'] as const;

export async function policy(ctx: Context): Promise<number> {
  const [action, file] = ctx.args;
  if (!policyActions.includes(action as (typeof policyActions)[number])) {
    const hint = closest(action, policyActions);
    throw new UsageError(`unknown policy action "${action}"${hint ? ` (did you mean "${hint}"?)` : ''}; usage: nooks policy check <file>`);
  }
  // PolicyError messages name the file, the key path and what was expected.
  const p = loadPolicy(file);
  checkFallbacks(p, file);
  const drivers = Object.fromEntries(p.drivers);
  if (ctx.flags.json) {
    ctx.print(toJson({ file, valid: true, default: p.default, drivers }));
    return 0;
  }
  ctx.print(`${file}: valid`);
  ctx.print('');
  const row = (name: string, d: DriverPolicy) => [name, d.action, d.action === 'fallback' ? d.fallback : '-', String(d.maxFailures),
    String(d.windowMs), String(d.timeBudgetMs), String(d.memLimitBytes), d.shadow ? 'yes' : 'no',
    d.preventRestartExitStatus.join(',') || '-'];
  for (const line of table(
    ['driver', 'action', 'fallback', 'maxFailures', 'windowMs', 'timeBudgetMs', 'memLimitBytes', 'shadow', 'preventRestartExitStatus'],
    [row('(default)', p.default), ...[...p.drivers].map(([n, d]) => row(n, d))],
    ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'left', 'left'],
  )) ctx.print(line);
  ctx.print('');
  ctx.print(`a driver restarts until it has failed maxFailures times within windowMs, then it is disabled ` +
    `(action restart) or replaced (action fallback); action disable gives up on the first fault. ` +
    `shadow: its class keeps the driver's devices and requests across a restart. ` +
    `preventRestartExitStatus: a program that ends with one of these is not restarted.`);
  return 0;
}
