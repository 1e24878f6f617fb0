// `nooks bench xpc|scale|net|block|sound|serial|pci|driver`: formats what lib/bench/
// measures (xpc.ts: crossing costs; scale.ts: crossings with 1 to 16 threads;
// classes.ts: a workload per device class, and the net one on a real PCI NIC;
// driver.ts: the user's driver under the user's bench module, as a class's).
import { benchClass, benchWorkload, classSuites, classWorkloads, type ClassModeResult, type ClassSuite, type WorkloadResult } from '../../bench/classes.js';
import { cpuModel, defaultModes } from '../../bench/common.js';
import { driverWorkload } from '../../bench/driver.js';
import { benchScale, threadCounts, WARMUP_CROSSINGS, type ScaleBenchResult } from '../../bench/scale.js';
import { benchXpc, domainCounts, maxXpcCount, type DomainsRoundTrip, type XpcBenchResult } from '../../bench/xpc.js';
import { Kernel, type Isolation } from '../../kernel.js';
import type { PciVia } from '../../pci.js';
import { closest, UsageError } from '../args.js';
import { Progress } from '../progress.js';
import { intFlag, policyOf, table, toJson, type Context } from './common.js';

export const suites = ['xpc', 'scale', ...classSuites, 'driver'] as const;

export async function bench(ctx: Context): Promise<number> {
  const [suite] = ctx.args;
  if (!suites.includes(suite as (typeof suites)[number])) {
    const hint = closest(suite, suites);
    throw new UsageError(`unknown benchmark "${suite}"${hint ? ` (did you mean "${hint}"?)` : ''}; available: ${suites.join(', ')}`);
  }
  if (suite !== 'pci' && ctx.args.length > 1) throw new UsageError(`bench ${suite} takes no more arguments`);
  for (const f of ['driver', 'workload', 'isolation'] as const)
    if (suite !== 'driver' && ctx.flags[f] !== undefined) throw new UsageError(`--${f} is an option of bench driver`);
  if (suite === 'xpc') return xpc(ctx);
  if (suite === 'driver') return driver(ctx);
  return suite === 'scale' ? scale(ctx) : classes(ctx, suite as ClassSuite);
}

async function xpc(ctx: Context): Promise<number> {
  for (const f of ['seconds', 'policy'] as const)
    if (ctx.flags[f] !== undefined)
      throw new UsageError(`--${f} is an option of bench ${[...(f === 'seconds' ? ['scale'] : []), ...classSuites].join('|')}; bench xpc takes --runs and --iters`);
  const runs = intFlag(ctx, 'runs', 7, maxXpcCount);
  const iters = intFlag(ctx, 'iters', 20_000, maxXpcCount);
  // four steps per mode (boot, the native loops, the JS loop, more domains); a skipped mode counts its four at once
  const progress = new Progress({ total: defaultModes.length * 4, label: 'bench xpc', json: ctx.flags.json });
  const result = await benchXpc({
    runs,
    iters,
    onStep: (s) => progress.tick(s.what === 'skip' ? 4 : 1),
  });
  progress.tick(Infinity);
  progress.finish();
  if (ctx.flags.json) {
    ctx.print(toJson(result));
    return 0;
  }
  printXpc(ctx, result);
  return 0;
}

function printXpc(ctx: Context, r: XpcBenchResult): void {
  ctx.print(`cpu: ${r.cpu}`);
  ctx.print(`protection keys (PKU): ${r.pku ? 'yes' : 'no'}; TSC ${r.tscPerNs} ticks/ns; median of ${r.runs} runs of ${r.iters} operations`);
  ctx.print(`bare WRPKRU pair: ${r.wrpkruPairCycles === null ? 'n/a (no PKU)' : `${r.wrpkruPairCycles} cycles`}`);
  ctx.print(`bare mprotect pair on the pages a crossing flips: ${r.mprotectPairCycles === null ? 'n/a (mprotect not measured)' : `${r.mprotectPairCycles} cycles`}`);
  ctx.print('');
  const rows = r.modes.map((m) =>
    m.supported
      ? [m.isolation, fig(m.roundTripCycles), fig(m.roundTripNs), fig(m.tappedRoundTripNs), fig(m.upcallCycles), fig(m.upcallNs), fig(m.batchedCallNs),
        fig(m.jsCallNs)]
      : [m.isolation, 'unsupported', '', '', '', '', '', ''],
  );
  for (const line of table(
    ['isolation', 'round trip cycles', 'round trip ns', 'via a tap ns', 'upcall cycles', 'upcall ns', 'batched call ns', 'JS drv.call ns'],
    rows,
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  )) ctx.print(line);
  for (const m of r.modes) if (!m.supported) ctx.print(`${m.isolation}: not measured: ${m.reason}`);
  ctx.print('');
  const byDomains = (what: string, cell: (d: DomainsRoundTrip) => string) => {
    ctx.print(`${what} with more domains loaded: cycles (mprotect calls each)`);
    for (const line of table(
      ['isolation', ...domainCounts.map((n) => `${n} loaded`)],
      r.modes.flatMap((m) => (m.supported ? [[m.isolation, ...m.domains.map(cell)]] : [])),
      ['left', ...domainCounts.map(() => 'right' as const)],
    )) ctx.print(line);
  };
  byDomains('round trip', (d) => `${fig(d.roundTripCycles)} (${d.mprotectCallsPerCrossing})`);
  byDomains('upcall', (d) => `${fig(d.upcallCycles)} (${d.mprotectCallsPerKernelCall})`);
  ctx.print('');
  ctx.print('one register read of an emulated device, from inside its driver: cycles (ns)');
  for (const line of table(
    ['isolation', 'ioread32 kernel call', 'load in a mapped BAR (trapped)'],
    r.modes.flatMap((m) => (m.supported ? [[m.isolation, `${fig(m.ioReadCycles)} (${fig(m.ioReadNs)})`, `${fig(m.mmioTrapCycles)} (${fig(m.mmioTrapNs)})`]] : [])),
    ['left', 'right', 'right'],
  )) ctx.print(line);
  ctx.print('');
  ctx.print('cycles are TSC ticks (constant-rate time-stamp counter), converted to ns with the measured TSC rate.');
  ctx.print('round trip: host -> driver -> host around an empty driver function (C++ loop); via a tap: the same as a');
  ctx.print('class calls its driver\'s operations, through the shadow\'s tap; upcall: one kernel call');
  ctx.print('from inside the driver (C++ loop); batched call: one empty call when 63 are deferred into one crossing;');
  ctx.print('JS drv.call: one call from JavaScript, N-API included. A load in a mapped BAR faults, is decoded and');
  ctx.print('becomes a kernel call (MMIO trap-and-emulate, docs/devices.md).');
}

async function scale(ctx: Context): Promise<number> {
  if (ctx.flags.policy !== undefined) throw new UsageError('--policy is not an option of bench scale; it takes --seconds (per point) and --runs');
  const { seconds, runs } = roundsOf(ctx, 'scale', 0.5);
  // per mode and round: boot, then a step per point of each shape; a skipped mode counts them at once
  const perMode = 1 + 2 * threadCounts.length;
  const progress = new Progress({ total: defaultModes.length * perMode * runs, label: 'bench scale', json: ctx.flags.json });
  const result = await benchScale({ seconds, runs, onStep: (s) => progress.tick(s.what === 'skip' ? perMode : 1) });
  progress.tick(Infinity);
  progress.finish();
  if (ctx.flags.json) {
    ctx.print(toJson(result));
    return 0;
  }
  printScale(ctx, result);
  return 0;
}

function printScale(ctx: Context, r: ScaleBenchResult): void {
  ctx.print(`cpu: ${r.cpu}; ${r.cores} cores; ${r.seconds} s per point after ${WARMUP_CROSSINGS} crossings per thread` +
    (r.runs > 1 ? `; ${r.runs} rounds of every mode in turn: the median run` : ''));
  ctx.print('');
  ctx.print('crossings per second (all threads together), by threads crossing at once');
  for (const line of table(
    ['isolation', 'shape', ...threadCounts.map(String)],
    r.modes.map((m) => (m.supported ? [m.isolation, m.shape, ...m.points.map((p) => fig(p.crossingsPerSec))] : [m.isolation, 'unsupported', ...threadCounts.map(() => '')])),
    ['left', 'left', ...threadCounts.map(() => 'right' as const)],
  )) ctx.print(line);
  for (const m of r.modes) if (!m.supported) ctx.print(`${m.isolation}: not measured: ${m.reason}`);
  ctx.print('');
  ctx.print('own-driver: each thread crosses into a null driver of its own (as many loaded as threads); one-driver: every');
  ctx.print('thread into the same one. Each crossing is a round trip into an empty function, in a C++ loop per thread.');
}

/** `bench net|block|sound|serial|pci`: the suite's workloads. */
async function classes(ctx: Context, suite: ClassSuite): Promise<number> {
  const { seconds, runs } = roundsOf(ctx, suite);
  // two steps per mode, workload and run (boot, measure); a skipped mode counts its two at once
  const total = classWorkloads(suite).length * defaultModes.length * 2 * runs;
  const progress = new Progress({ total, label: `bench ${suite}`, json: ctx.flags.json });
  const results = await benchClass(suite, { seconds, runs, policy: policyOf(ctx), pci: pciOf(ctx, suite), onStep: (s) => progress.tick(s.what === 'skip' ? 2 : 1) });
  progress.tick(Infinity);
  progress.finish();
  return printWorkloads(ctx, results, seconds, runs);
}

/**
 * `bench driver --driver <x.so> --workload <bench.mjs>`: the user's driver under the module's load, measured as
 * a class's workload is; --isolation m: only none (what relative compares with) and m.
 */
async function driver(ctx: Context): Promise<number> {
  if (ctx.args.length > 1) throw new UsageError('bench driver takes no arguments: --driver <x.so> --workload <bench.mjs>');
  const { driver: so, workload: module } = ctx.flags;
  if (so === undefined || module === undefined) throw new UsageError('bench driver needs --driver <x.so> and --workload <bench.mjs> (a module exporting start(); docs/results.md)');
  const { seconds, runs } = roundsOf(ctx, 'driver');
  const wanted = ctx.flags.isolation;
  const one = wanted === 'auto' ? (Kernel.pkuSupported() ? 'pkey' : 'mprotect') : (wanted as Isolation | undefined);
  const modes = one === undefined ? defaultModes : [...new Set<Isolation>(['none', one])];
  const w = await driverWorkload(so, module);
  const progress = new Progress({ total: modes.length * 2 * runs, label: 'bench driver', json: ctx.flags.json });
  const result = await benchWorkload(w, { seconds, runs, modes, policy: policyOf(ctx), onStep: (s) => progress.tick(s.what === 'skip' ? 2 : 1) });
  progress.tick(Infinity);
  progress.finish();
  return printWorkloads(ctx, [result], seconds, runs);
}

/** --seconds and --runs of a bench measured for a time, in rounds of every mode (--iters is bench xpc's). */
function roundsOf(ctx: Context, suite: string, seconds = 2): { seconds: number; runs: number } {
  if (ctx.flags.iters !== undefined) throw new UsageError(`--iters is an option of bench xpc; bench ${suite} takes --seconds and --runs`);
  return { seconds: secondsFlag(ctx, seconds), runs: intFlag(ctx, 'runs', 1) };
}

/** With --json: one object per workload (an array when there are several: net has two); else their tables. */
function printWorkloads(ctx: Context, results: WorkloadResult[], seconds: number, runs: number): number {
  if (ctx.flags.json) {
    ctx.print(toJson(results.length === 1 ? results[0] : results));
    return 0;
  }
  ctx.print(`cpu: ${cpuModel()}; ${seconds} s per mode after a 0.25 s warm-up` +
    (runs > 1 ? `; ${runs} rounds of every mode in turn: the median run, relative the median of the rounds' ratios` : ''));
  for (const r of results) printWorkload(ctx, r);
  return 0;
}

function printWorkload(ctx: Context, r: WorkloadResult): void {
  ctx.print('');
  ctx.print(r.workload);
  const unit = r.modes.find((m) => m.supported)?.unit ?? 'throughput';
  const measured = r.modes.filter((m): m is ClassModeResult => m.supported);
  const each = r.runs > 1 ? ['each run'] : [];
  const rows = r.modes.map((m) =>
    m.supported
      ? [m.isolation, fig(m.throughput), m.relative === null ? '' : m.relative.toFixed(2), fig(m.crossingsPerSec),
        m.cpuSeconds.toFixed(2), fig((m.cpuSeconds / r.seconds) * 100), ...(r.runs > 1 ? [m.runs.map((x) => fig(x.throughput)).join(' ')] : [])]
      : [m.isolation, 'unsupported', '', '', '', '', ...each.map(() => '')],
  );
  for (const line of table(
    ['isolation', unit, 'relative', 'crossings/s', 'CPU s', 'CPU % of a core', ...each],
    rows,
    ['left', 'right', 'right', 'right', 'right', 'right', ...each.map(() => 'left' as const)],
  )) ctx.print(line);
  for (const m of r.modes) if (!m.supported) ctx.print(`${m.isolation}: not measured: ${m.reason}`);
  // "ops/s" -> "op": what the figures below are per
  const one = unit.replace(/\/s$/, '').replace(/s$/, '');
  ctx.print(`per ${one}: crossings into the driver, its request calls, ${one}s per request crossing (batching), kernel calls, interrupts,`);
  ctx.print('voluntary and involuntary context switches, CPU µs');
  const perUnit = (x: number | null) => (x === null ? 'n/a' : fig(x));
  for (const line of table(
    ['isolation', 'crossings', 'requests', `${one}s/request crossing`, 'kernel calls', 'interrupts', 'vol. switches', 'invol. switches', 'CPU µs'],
    measured.map(({ isolation, breakdown: b }) => [isolation, perUnit(b.crossingsPerUnit), perUnit(b.requestCallsPerUnit), perUnit(b.unitsPerRequestCrossing),
      perUnit(b.kernelCallsPerUnit), perUnit(b.interruptsPerUnit), perUnit(b.voluntarySwitchesPerUnit), perUnit(b.involuntarySwitchesPerUnit),
      perUnit(b.cpuUsPerUnit)]),
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  )) ctx.print(line);
  if (measured.some((m) => m.breakdown.kernelCallsPerUnit === null)) ctx.print("kernel calls n/a: under 'none' a driver's kernel calls go straight to the kernel, uncounted");
  if (measured.some((m) => m.breakdown.unitsPerRequestCrossing === null)) ctx.print(`${one}s/request crossing n/a: no request operation of the class crossed`);
  for (const m of measured) {
    const top = Object.entries(m.breakdown.kernelCallsPerUnitByName).slice(0, 6);
    if (top.length) ctx.print(`kernel calls per ${one}, ${m.isolation}: ${top.map(([name, n]) => `${name} ${fig(n)}`).join(', ')}`);
    if (m.breakdown.mprotectCallsPerUnit !== null) ctx.print(`mprotect calls per ${one} (page protection flipped): ${fig(m.breakdown.mprotectCallsPerUnit)}`);
    if (m.breakdown.spinsRunOutPerUnit !== null) ctx.print(`waits on the host process that spun out and slept per ${one}: ${fig(m.breakdown.spinsRunOutPerUnit)}`);
  }
  for (const line of wrap(r.note, 110)) ctx.print(line);
}

/** bench pci <address> uio|vfio: the NIC (bound already, with `nooks pci bind`). */
function pciOf(ctx: Context, suite: ClassSuite): { address: string; via: PciVia } | undefined {
  if (suite !== 'pci') return undefined;
  const [, address, via] = ctx.args;
  if (!address || (via !== 'uio' && via !== 'vfio'))
    throw new UsageError('usage: nooks bench pci <address> uio|vfio (an 82540EM-family NIC bound with nooks pci bind; in a QEMU guest: nooks guest bench pci)');
  return { address, via };
}

const INT32_MAX = 2 ** 31 - 1;
/** The longest a Node timer waits, in s: a longer one fires at once. */
const MAX_SECONDS = Math.floor(INT32_MAX / 1000);

/** --seconds: a positive number (0.5 allowed) up to MAX_SECONDS, or `fallback` when absent. */
function secondsFlag(ctx: Context, fallback: number): number {
  const raw = ctx.flags.seconds;
  if (raw === undefined) return fallback;
  const n = /^\d*\.?\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(n > 0)) throw new UsageError(`--seconds must be a positive number, got "${raw}"`);
  if (n > MAX_SECONDS) throw new UsageError(`--seconds must be at most ${MAX_SECONDS} (about 24 days: Node's longest timer), got "${raw}"`);
  return n;
}

/** Words into lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 1 + word.length <= width) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines;
}

/** 3 significant digits below 100, whole numbers above. */
function fig(x: number): string {
  return x >= 100 ? Math.round(x).toString() : x.toPrecision(3);
}
