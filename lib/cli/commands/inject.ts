// `nooks inject <driver>`: plan one fault (lib/inject) from a seed, load the
// driver with it, run its application (or the user's workload module) and
// unload it (one trial, in a child process so that a crash without isolation
// is observed), and show both. With --trials n: n faults in that one mode, run
// as a campaign (lib/experiments/campaign.ts) is.
import { runCampaign, type Mode, type UserTarget } from '../../experiments/campaign.js';
import { runTrialChild } from '../../experiments/child.js';
import { workloadName } from '../../experiments/workload.js';
import { describeFault, planFault, type FaultType } from '../../inject/index.js';
import { Kernel, type Isolation } from '../../kernel.js';
import { UsageError } from '../args.js';
import { modeTable } from './campaign.js';
import { intFlag, toJson, type Context } from './common.js';
import { callsDeviceClass, faultOptions, faultTarget } from './fault-flags.js';

export async function inject(ctx: Context): Promise<number> {
  const [driver, ...argv] = ctx.args; // a program's, as nooks exec takes them
  const target = await faultTarget(driver, ctx.flags.workload, argv);
  const { seed, type, transient } = faultOptions(ctx, () => Date.now() % 1_000_000);
  const wanted = ctx.flags.isolation ?? 'auto';
  const isolation = wanted === 'auto' ? (Kernel.pkuSupported() ? 'pkey' : 'mprotect') : (wanted as Isolation);
  // nothing is restarted without isolation; a driver of no device class is restarted with nothing to shadow
  const classless = target.user !== undefined && !callsDeviceClass(target.user.driver);
  const shadow = isolation !== 'none' && !classless;
  const mode: Mode = { name: shadow ? `${isolation}+shadow` : isolation, isolation, shadow };
  if (ctx.flags.trials !== undefined) return injectMany(ctx, target, mode, { seed, type, transient });

  const fault = planFault(driver, { seed, type, transient, fn: ctx.flags.site, exported: target.user !== undefined });
  const app = target.user ? workloadName(target.user.workload) : target.apps![0];
  const r = await runTrialChild({
    app, isolation, shadow, seed, fault, timeBudgetMs: 1000, stallMs: 1000,
    ...(target.user ? { workload: { driver: target.user.driver, module: target.user.workload, index: 0, mode: mode.name, ...(target.user.argv ? { argv: target.user.argv } : {}) } } : {}),
  }, 20_000);
  const result = {
    fault, app, isolation, shadow, outcome: r.outcome, hostCrashed: r.hostCrashed,
    failures: r.faultKinds.length, faultKinds: r.faultKinds, faultKindsBeforeVerdict: r.faultKindsBeforeVerdict, recoveryMs: r.recoveryMs,
    ...(r.detail ? { detail: r.detail } : {}), ms: r.ms,
  };
  if (ctx.flags.json) {
    ctx.print(toJson(result));
    return 0;
  }
  ctx.print(`seed ${seed}: ${describeFault(fault)}`);
  const recovery = shadow ? ', shadow drivers' : isolation !== 'none' ? ', restarted on failure (no device class: nothing to shadow)' : '';
  ctx.print(`ran ${target.user ? `the workload ${ctx.flags.workload}` : app} on ${driver}, isolation ${isolation}${recovery}, in a child process (${r.ms} ms)`);
  const what = r.hostCrashed
    ? `the host crashed: ${r.detail}`
    : result.failures
      ? `the driver failed ${result.failures} time${result.failures === 1 ? '' : 's'} (${result.faultKinds.join(', ')}), recovered ${result.recoveryMs.length} (${result.recoveryMs.map((m) => `${m} ms`).join(', ') || '-'})`
      : 'nooks detected no failure';
  const who = target.user ? 'the workload' : 'the application';
  ctx.print(`${what}; ${who} ${r.outcome === 'continued' ? 'continued (its work verified)' : r.outcome === 'crash' ? 'died with it' : 'malfunctioned'}${!r.hostCrashed && r.detail ? `: ${r.detail}` : ''}`);
  return 0;
}

/** `--trials n`: n faults from the seed, each one trial in the one mode; a line per trial, then the sums. */
async function injectMany(ctx: Context, target: { apps?: string[]; user?: UserTarget }, mode: Mode,
  fault: { seed: number; type?: FaultType; transient: boolean }): Promise<number> {
  if (ctx.flags.site !== undefined) throw new UsageError('--site names one fault\'s function: it goes with one trial, not --trials');
  const { records, summary } = await runCampaign({
    ...target, trials: intFlag(ctx, 'trials', 1), seed: fault.seed, type: fault.type, persistent: !fault.transient, modes: [mode],
    out: ctx.flags.out, fresh: ctx.flags.fresh, jobs: intFlag(ctx, 'jobs', 1),
    onTrial: (r) => {
      if (ctx.flags.json) return;
      const what = r.hostCrashed ? `the host crashed (${r.detail})`
        : r.detected ? `detected (${r.detectors.join(', ')}), ${r.recovered ? `recovered (${r.recoveryMs!.map((m) => `${m} ms`).join(', ')})` : 'not recovered'}`
          : r.failure ? 'not detected' : 'no failure';
      ctx.print(`#${r.index} seed ${r.seed}: ${describeFault(r.fault)}: ${what}; ${r.outcome}${!r.hostCrashed && r.detail ? ` (${r.detail})` : ''}`);
    },
  });
  if (ctx.flags.json) {
    ctx.print(toJson({ mode: mode.name, records, summary }));
    return 0;
  }
  ctx.print('');
  for (const l of modeTable([mode.name], summary)) ctx.print(l);
  return 0;
}
