// `nooks inject <driver>`: plan one fault (lib/inject) from a seed, inject it
// into the driver while its application runs (one trial, in a child process
// so that a crash without isolation is observed), and show both.
import { runTrialChild } from '../../experiments/child.js';
import { trialApps } from '../../experiments/trial.js';
import { describeFault, planFault } from '../../inject/index.js';
import { Kernel, type Isolation } from '../../kernel.js';
import { UsageError } from '../args.js';
import { toJson, type Context } from './common.js';
import { faultOptions } from './fault-flags.js';

export async function inject(ctx: Context): Promise<number> {
  const [driver] = ctx.args;
  const app = Object.keys(trialApps).find((a) => trialApps[a].driver === driver);
  if (!app) {
    throw new UsageError(`no application uses "${driver}": inject runs one of ${Object.values(trialApps).map((a) => a.driver).join(', ')} under its application`);
  }
  const { seed, type, transient } = faultOptions(ctx, () => Date.now() % 1_000_000);
  const fault = planFault(driver, { seed, type, transient, fn: ctx.flags.site });
  const wanted = ctx.flags.isolation ?? 'auto';
  const isolation = wanted === 'auto' ? (Kernel.pkuSupported() ? 'pkey' : 'mprotect') : (wanted as Isolation);
  const shadow = isolation !== 'none'; // nothing is restarted without isolation
  const r = await runTrialChild({ app, isolation, shadow, seed, fault, timeBudgetMs: 1000, stallMs: 1000 }, 20_000);
  const result = {
    fault, app, isolation, shadow, outcome: r.outcome, hostCrashed: r.hostCrashed,
    failures: r.faultKinds.length, faultKinds: r.faultKinds, recoveryMs: r.recoveryMs,
    ...(r.detail ? { detail: r.detail } : {}), ms: r.ms,
  };
  if (ctx.flags.json) {
    ctx.print(toJson(result));
    return 0;
  }
  ctx.print(`seed ${seed}: ${describeFault(fault)}`);
  ctx.print(`ran ${app} on ${driver}, isolation ${isolation}${shadow ? ', shadow drivers' : ''}, in a child process (${r.ms} ms)`);
  const what = r.hostCrashed
    ? `the host crashed: ${r.detail}`
    : result.failures
      ? `the driver failed ${result.failures} time${result.failures === 1 ? '' : 's'} (${result.faultKinds.join(', ')}), recovered ${result.recoveryMs.length} (${result.recoveryMs.map((m) => `${m} ms`).join(', ') || '-'})`
      : 'nooks detected no failure';
  ctx.print(`${what}; the application ${r.outcome === 'continued' ? 'continued (its work verified)' : r.outcome === 'crash' ? 'died with it' : 'malfunctioned'}${!r.hostCrashed && r.detail ? `: ${r.detail}` : ''}`);
  return 0;
}
