// `nooks run <driver> <function> [args...]`: one call into a driver, isolated.
import { performance } from 'node:perf_hooks';
import { hostProbe } from '../../host-probe.js';
import { driverName } from '../../paths.js';
import type { RecoveryEvent } from '../../recovery/agent.js';
import {
  addressKinds, isolationOf, ms, parseCallArg, policyOf, timeBudgetOf, toJson, tryCall, withKernel, type Context,
} from './common.js';

export async function run(ctx: Context): Promise<number> {
  const [driver, fn, ...rawArgs] = ctx.args;
  const timeBudgetMs = timeBudgetOf(ctx);
  const policy = policyOf(ctx);

  return withKernel({ isolation: isolationOf(ctx), policy }, async (k) => {
    // named as the loaded driver will be: `hello.add`, not `build/hello.so.add`
    const args = rawArgs.map((a, i) => parseCallArg(a, () => hostProbe().address, `argument ${i + 1} of ${driverName(driver)}.${fn}`));
    const drv = await k.load(driver, { timeBudgetMs });
    const canary = hostProbe().value;
    const events: RecoveryEvent[] = [];
    let restartStarted = 0;
    let restartMs: number | null = null;
    for (const e of ['fault', 'recovering', 'recovered', 'disabled', 'fallback'] as const) {
      k.on(e, (ev) => {
        events.push(ev);
        if (e === 'recovering') restartStarted = performance.now();
        if (e === 'recovered' || e === 'fallback') restartMs = performance.now() - restartStarted;
      });
    }

    const t0 = performance.now();
    const r = tryCall(drv, fn, ...args);
    const elapsedMs = performance.now() - t0;
    const state = drv.state;
    const log = k.log().filter((l) => l.source === drv.name || l.level <= 4);
    const canaryIntact = hostProbe().value === canary;
    const outcome = events.find((e) => e.event !== 'fault' && e.event !== 'recovering');
    const shown = rawArgs.map((a, i) => (a === '@probe' ? `@probe=0x${Number(args[i]).toString(16)}` : a));
    const call = `${drv.name}.${fn}(${shown.join(', ')})`;

    if (ctx.flags.json) {
      ctx.print(toJson({
        isolation: k.isolation,
        driver: drv.name,
        function: fn,
        args,
        ...(r.ok ? { result: r.value } : { fault: r.fault }),
        elapsedMs: Math.round(elapsedMs * 1000) / 1000,
        state,
        recovery: outcome ? { event: outcome.event, decision: outcome.decision, failuresInWindow: outcome.failuresInWindow,
          restartMs: restartMs === null ? null : Math.round((restartMs as number) * 1000) / 1000 } : null,
        canaryIntact,
        log,
      }));
      return r.ok ? 0 : 2;
    }

    ctx.print(`isolation ${k.isolation}: ${drv.name} loaded from ${drv.path}`);
    if (r.ok) {
      ctx.print(`${call} = ${r.value}${typeof r.value === 'number' && r.value > 9 ? ` (0x${r.value.toString(16)})` : ''}   [${ms(elapsedMs)} ms]`);
    } else {
      ctx.print(`${call} FAULTED after ${ms(elapsedMs)} ms: ${r.fault.kind}: ${r.fault.message}`);
      const where = [addressKinds.includes(r.fault.kind) ? `address ${r.fault.address}` : '',
        r.fault.ip && r.fault.ip !== '0x0' ? `instruction ${r.fault.ip}` : ''].filter(Boolean).join(', ');
      if (where) ctx.print(`  ${where}`);
      const restart = restartMs === null ? '' : ` in ${ms(restartMs)} ms`;
      if (outcome?.event === 'recovered') {
        ctx.print(`  recovered: ${drv.name} restarted${restart} (failure ${outcome.failuresInWindow} in the policy window); state ${state}`);
      }
      else if (outcome?.event === 'fallback') ctx.print(`  recovered: ${drv.name} replaced by its fallback driver; state ${state}`);
      else if (outcome?.event === 'disabled') ctx.print(`  NOT recovered: the policy disabled ${drv.name} (${outcome.fault?.message ?? 'too many failures'}); state ${state}`);
      else ctx.print(`  state ${state}`);
      ctx.print(`  the kernel canary is ${canaryIntact ? 'intact' : 'OVERWRITTEN'}`);
    }
    for (const l of log) ctx.print(`  log <${l.level}> [${l.source}] ${l.text}`);
    return r.ok ? 0 : 2;
  });
}
