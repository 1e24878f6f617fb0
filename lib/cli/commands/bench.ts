// `nooks bench xpc`: formats what lib/bench/xpc.ts measures.
import { benchXpc, defaultModes, type XpcBenchResult } from '../../bench/xpc.js';
import { closest, UsageError } from '../args.js';
import { Progress } from '../progress.js';
import { intFlag, table, toJson, type Context } from './common.js';

export const suites = ['xpc'] as const;

export async function bench(ctx: Context): Promise<number> {
  const [suite] = ctx.args;
  if (!suites.includes(suite as (typeof suites)[number])) {
    const hint = closest(suite, suites);
    throw new UsageError(`unknown benchmark "${suite}"${hint ? ` (did you mean "${hint}"?)` : ''}; available: ${suites.join(', ')}`);
  }
  const runs = intFlag(ctx, 'runs', 7);
  const iters = intFlag(ctx, 'iters', 20_000);
  // three steps per mode (boot, the native loops, the JS loop); a skipped mode counts its three at once
  const progress = new Progress({ total: defaultModes.length * 3, label: 'bench xpc', json: ctx.flags.json });
  const result = await benchXpc({
    runs,
    iters,
    onStep: (s) => progress.tick(s.what === 'skip' ? 3 : 1),
  });
  progress.tick(Infinity);
  progress.finish();
  if (ctx.flags.json) {
    ctx.print(toJson(result));
    return 0;
  }
  print(ctx, result);
  return 0;
}

function print(ctx: Context, r: XpcBenchResult): void {
  ctx.print(`cpu: ${r.cpu}`);
  ctx.print(`protection keys (PKU): ${r.pku ? 'yes' : 'no'}; TSC ${r.tscPerNs} ticks/ns; median of ${r.runs} runs of ${r.iters} operations`);
  ctx.print(`bare WRPKRU pair: ${r.wrpkruPairCycles === null ? 'n/a (no PKU)' : `${r.wrpkruPairCycles} cycles`}`);
  ctx.print('');
  const rows = r.modes.map((m) =>
    m.supported
      ? [m.isolation, fig(m.roundTripCycles), fig(m.roundTripNs), fig(m.upcallCycles), fig(m.upcallNs), fig(m.batchedCallNs), fig(m.jsCallNs)]
      : [m.isolation, 'unsupported', '', '', '', '', ''],
  );
  for (const line of table(
    ['isolation', 'round trip cycles', 'round trip ns', 'upcall cycles', 'upcall ns', 'batched call ns', 'JS drv.call ns'],
    rows,
    ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
  )) ctx.print(line);
  for (const m of r.modes) if (!m.supported) ctx.print(`${m.isolation}: not measured: ${m.reason}`);
  ctx.print('');
  ctx.print('cycles are TSC ticks (constant-rate time-stamp counter), converted to ns with the measured TSC rate.');
  ctx.print('round trip: host -> driver -> host around an empty driver function (C++ loop); upcall: one kernel call');
  ctx.print('from inside the driver (C++ loop); batched call: one empty call when 63 are deferred into one crossing;');
  ctx.print('JS drv.call: one call from JavaScript, N-API included.');
}

/** 3 significant digits below 100, whole numbers above. */
function fig(x: number): string {
  return x >= 100 ? Math.round(x).toString() : x.toPrecision(3);
}
