// `nooks recover <driver> [--times N]`: explicit recovery, as an operator
// would request it: fail the driver on purpose and let the policy act.
import { performance } from 'node:perf_hooks';
import type { NativeObject } from '../../native.js';
import { defaultPolicy, type Policy } from '../../recovery/policy.js';
import type { RecoveryEvent } from '../../recovery/agent.js';
import { intFlag, isolationOf, ms, objectSummary, policyOf, table, toJson, withKernel, type Context } from './common.js';

interface RecoveryRow {
  n: number;
  /** What the agent did: recovered, disabled or fallback. */
  outcome: string;
  /** drv.recover() from call to return: teardown (release of every object) and the policy's action. */
  durationMs: number;
  /** The restart alone, as timed around the agent's recovering -> recovered events. */
  restartMs: number | null;
  state: string;
  objectsBefore: NativeObject[];
  objectsAfter: NativeObject[];
}

export async function recover(ctx: Context): Promise<number> {
  const [driverName] = ctx.args;
  const times = intFlag(ctx, 'times', 1);
  // Without a policy file every requested recovery is allowed; with one, its limits apply.
  const policy: Policy = policyOf(ctx) ?? {
    default: { ...defaultPolicy.default, maxFailures: Math.max(defaultPolicy.default.maxFailures, times + 1) },
    drivers: new Map(),
  };

  return withKernel({ isolation: isolationOf(ctx), policy }, async (k) => {
    const drv = await k.load(driverName);
    const rows: RecoveryRow[] = [];
    let restartStarted = 0;
    let restartMs: number | null = null;
    let outcome = 'none';
    const onEvent = (e: RecoveryEvent) => {
      if (e.driver !== drv.name) return;
      if (e.event === 'recovering') restartStarted = performance.now();
      if (e.event === 'recovered' || e.event === 'fallback') restartMs = performance.now() - restartStarted;
      if (e.event !== 'fault' && e.event !== 'recovering') outcome = e.event;
    };
    for (const e of ['fault', 'recovering', 'recovered', 'disabled', 'fallback'] as const) k.on(e, onEvent);

    for (let n = 1; n <= times; n++) {
      const objectsBefore = drv.objects();
      restartMs = null;
      outcome = 'none';
      const t0 = performance.now();
      drv.recover();
      const durationMs = performance.now() - t0;
      const state = drv.state;
      rows.push({ n, outcome, durationMs: round(durationMs), restartMs: restartMs === null ? null : round(restartMs), state, objectsBefore,
        objectsAfter: state === 'running' ? drv.objects() : [] });
      if (!ctx.flags.json) {
        const r = rows[rows.length - 1];
        ctx.print(`recovery ${n}/${times}: ${r.outcome} in ${ms(r.durationMs)} ms` +
          `${r.restartMs === null ? '' : ` (restart ${ms(r.restartMs)} ms)`}; state ${state}`);
        ctx.print(`  objects before: ${objectSummary(r.objectsBefore)}`);
        ctx.print(`  objects after:  ${objectSummary(r.objectsAfter)}`);
      }
      if (state !== 'running') break; // disabled by the policy: nothing left to recover
    }
    const ok = rows.length === times && rows.every((r) => r.state === 'running');

    if (ctx.flags.json) {
      ctx.print(toJson({ isolation: k.isolation, driver: drv.name, requested: times, recoveries: rows, domain: k.domains().find((d) => d.id === drv.id) }));
      return ok ? 0 : 1;
    }
    ctx.print('');
    for (const line of table(
      ['#', 'outcome', 'ms', 'restart ms', 'objects before', 'objects after', 'state'],
      rows.map((r) => [String(r.n), r.outcome, ms(r.durationMs), r.restartMs === null ? '-' : ms(r.restartMs),
        String(r.objectsBefore.length), String(r.objectsAfter.length), r.state]),
      ['right', 'left', 'right', 'right', 'right', 'right', 'left'],
    )) ctx.print(line);
    const d = k.domains().find((x) => x.id === drv.id);
    ctx.print('');
    ctx.print(ok
      ? `${drv.name}: ${rows.length} recover${rows.length === 1 ? 'y' : 'ies'} under ${k.isolation}, running again (domain recoveries: ${d?.recoveries ?? '?'})`
      : `${drv.name}: stopped after ${rows.length} of ${times}: the policy left it ${rows[rows.length - 1]?.state}`);
    return ok ? 0 : 1;
  });
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
