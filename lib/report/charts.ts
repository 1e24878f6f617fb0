// The report's charts: SVG made by a charting library (Observable Plot) on a
// server-side DOM (jsdom), one function per figure, each with the papers'
// numbers beside ours where the papers have them. Modes keep one order and
// colour throughout (modes.ts); rates carry their 95 % interval as an error
// bar and are faded where too few trials stand behind them (stats.ts).
import * as Plot from '@observablehq/plot';
import { JSDOM } from 'jsdom';
import type { ClassModeResult, WorkloadResult } from '../bench/classes.js';
import type { ScaleBenchResult } from '../bench/scale.js';
import type { XpcBenchResult } from '../bench/xpc.js';
import { failureMeasures, measureLabel, share, summarize, type ModeSummary, type TrialRecord } from '../experiments/campaign.js';
import type { TableRow } from '../experiments/table-apps.js';
import { byMode, modeColors, ordered, paperColor } from './modes.js';
import { NO_FAILURES, percent, rate, type Rate } from './stats.js';

const { document } = new JSDOM('').window;
const render = (options: Plot.PlotOptions): string => Plot.plot({ document, ...options }).outerHTML;

// Swift et al., SOSP 2003 and OSDI 2004.
export const paper = {
  xpcCycles: 3000, // a Nooks extension procedure call, round trip (page-table switch)
  xpcGHz: 1.7, // on a 1.7 GHz Pentium 4: 3000 cycles are about 1765 ns
  relative: [0.44, 1.0] as const, // Nooks' relative performance over the paper's workloads (Table 4)
  recoveryMs: { net: 5000, block: 4000, sound: 100 } as Record<string, number>, // e1000, IDE, sound (OSDI 2004, section 5)
  crashes: { trials: 2000, native: 317, nooks: 4 }, // system crashes from injected faults (SOSP 2003, Figure 6)
  detected: 0.65, // shadow drivers: failures detected automatically; all of those recovered (OSDI 2004, section 5)
};

/** The paper's XPC round trip in ns, on its own CPU. */
export const paperXpcNs = Math.round(paper.xpcCycles / paper.xpcGHz);

/** Round trip (host → driver → host) and kernel call per isolation mode, in ns, log scale; the paper's XPC (in ns on its CPU) beside. */
export function crossingChart(r: XpcBenchResult): string {
  const rows: { who: string; what: string; ns: number }[] = [];
  for (const m of r.modes) {
    if (!m.supported) continue;
    rows.push({ who: m.isolation, what: 'round trip', ns: m.roundTripNs }, { who: m.isolation, what: 'kernel call', ns: m.upcallNs });
  }
  rows.push({ who: 'Nooks (paper)', what: 'round trip', ns: paperXpcNs });
  const who = [...ordered(rows.filter((d) => d.who !== 'Nooks (paper)').map((d) => d.who)), 'Nooks (paper)'];
  return render({
    width: 720, height: 80 + 26 * rows.length, marginLeft: 110, marginRight: 90,
    // room on the right for the labels
    x: { type: 'log', domain: [1, 20 * Math.max(...rows.map((d) => d.ns))], label: 'ns per crossing (log scale) →', grid: true },
    y: { label: null, domain: who },
    fy: { label: null, domain: ['round trip', 'kernel call'] },
    color: modeColors(who.slice(0, -1), 'Nooks (paper)'),
    marks: [
      Plot.ruleY(rows, { fy: 'what', y: 'who', x1: 1, x2: 'ns', strokeOpacity: 0.3 }),
      Plot.dot(rows, { fy: 'what', x: 'ns', y: 'who', fill: 'who', r: 6 }),
      Plot.text(rows, { fy: 'what', x: 'ns', y: 'who', text: (d: { ns: number }) => `${Math.round(d.ns)} ns`, dx: 10, textAnchor: 'start' }),
    ],
  });
}

/** Crossings per second against threads crossing at once, log scales: a line per mode and shape (solid: a driver per thread). */
export function scaleChart(r: ScaleBenchResult): string {
  const rows = r.modes.flatMap((m) => (m.supported ? m.points.map((p) => ({ mode: m.isolation, shape: m.shape, threads: p.threads, perSec: p.crossingsPerSec })) : []));
  const line = (shape: string, dash?: string) =>
    Plot.line(rows.filter((d) => d.shape === shape), { x: 'threads', y: 'perSec', stroke: 'mode', z: 'mode', strokeWidth: 2, strokeDasharray: dash });
  const threads = [...new Set(rows.map((d) => d.threads))];
  return render({
    width: 720, height: 420, marginLeft: 80, marginRight: 20,
    x: { type: 'log', base: 2, ticks: threads, tickFormat: (t: number) => `${t}`, label: 'threads crossing at once (log scale) →', grid: true },
    y: { type: 'log', label: '↑ crossings per second, all threads (log scale)', grid: true },
    color: { legend: true, ...modeColors(rows.map((d) => d.mode)) },
    marks: [line('own-driver'), line('one-driver', '5,4'), Plot.dot(rows, { x: 'threads', y: 'perSec', stroke: 'mode', r: 3 })],
  });
}

type Measured = ClassModeResult & { workload: string; seconds: number };
const measuredModes = (workloads: WorkloadResult[]): Measured[] =>
  workloads.flatMap((w) => w.modes.flatMap((m) => (m.supported ? [{ ...m, workload: w.workload, seconds: w.seconds }] : [])));

/** Each facet's name above its panel (Plot's own facet labels sit in the right margin, where the bars' labels run). */
const panelTitles = (names: string[]) =>
  Plot.text(names, { fy: (d: string) => d, text: (d: string) => d, frameAnchor: 'top-left', dy: -14, fontWeight: 'bold' });

/** Bars per workload (a panel each) and mode, in the modes' order and colours. */
function workloadBars(rows: { workload: string; mode: string; x: number; label: string }[], x: Plot.ScaleOptions, extra: Plot.Markish[] = []): string {
  const workloads = [...new Set(rows.map((d) => d.workload))];
  return render({
    width: 360, height: 60 + 90 * workloads.length, marginLeft: 80, marginRight: 50,
    x, y: { label: null, domain: ordered(rows.map((d) => d.mode)) }, fy: { label: null, domain: workloads, axis: null, padding: 0.3 },
    color: modeColors(rows.map((d) => d.mode)),
    marks: [
      ...extra,
      panelTitles(workloads),
      Plot.barX(rows, { fy: 'workload', x: 'x', y: 'mode', fill: 'mode', insetTop: 2, insetBottom: 2 }),
      Plot.text(rows, { fy: 'workload', x: 'x', y: 'mode', text: 'label', dx: 4, textAnchor: 'start' }),
    ],
  });
}

/** Throughput relative to `none` per device workload and mode (Table 4's shape), the paper's range shaded. */
export function relativeChart(workloads: WorkloadResult[]): string {
  const rows = measuredModes(workloads).flatMap((m) => (m.relative === null ? [] : [{ workload: m.workload, mode: m.isolation, x: m.relative, label: `${m.relative}` }]));
  return workloadBars(rows, { domain: [0, Math.max(1.1, ...rows.map((d) => d.x))], label: 'throughput relative to none →', grid: true }, [
    Plot.rectX([paper.relative], { x1: (d: readonly number[]) => d[0], x2: (d: readonly number[]) => d[1], fill: paperColor, fillOpacity: 0.12 }),
    Plot.ruleX([1], { strokeDasharray: '4,3' }),
  ]);
}

/** CPU seconds per second of measuring (cores kept busy, whole process) per workload and mode: Table 4's CPU utilisation. */
export function cpuChart(workloads: WorkloadResult[]): string {
  const rows = measuredModes(workloads).map((m) => {
    const busy = m.cpuSeconds / m.seconds;
    return { workload: m.workload, mode: m.isolation, x: busy, label: busy.toFixed(2) };
  });
  return workloadBars(rows, { domain: [0, Math.max(1, ...rows.map((d) => d.x))], label: 'CPU s per s measured →', grid: true });
}

/** Recovery time per class (shadow drivers, emulated devices), log scale; the paper's times beside. */
export function recoveryChart(rows: TableRow[]): string {
  const ours = rows.filter((r) => r.config === 'shadow').flatMap((r) => r.recoveryMs.map((ms) => ({ class: r.class, who: `${r.isolation ?? '?'}+shadow`, ms })));
  const theirs = Object.entries(paper.recoveryMs).map(([c, ms]) => ({ class: c, who: 'shadow drivers (paper)', ms }));
  const data = [...ours, ...theirs];
  return render({
    width: 720, height: 90 + 36 * new Set(data.map((d) => d.class)).size, marginLeft: 70,
    x: { type: 'log', label: 'recovery time, ms (log scale) →', grid: true },
    y: { label: null },
    color: { legend: true, ...modeColors(ours.map((d) => d.who), 'shadow drivers (paper)') },
    marks: [Plot.dot(data, { x: 'ms', y: 'class', fill: 'who', r: 5, fillOpacity: 0.8 })],
  });
}

/** A rate's bar: faded, its label saying so, when too few trials stand behind it. */
export interface RateBar extends Rate {
  y: string;
  fy?: string;
  color: string;
}

/** Horizontal bars of rates in %, with their 95 % intervals as error bars and `k/n` beside; for 0 of 0, no bar, only NO_FAILURES. */
function rateBars(all: RateBar[], o: { y: string[]; fy?: string[]; color: { domain: string[]; range: string[] }; height: number; marginLeft: number }): string {
  const pc = (x: number) => x * 100;
  const fy = o.fy ? { fy: 'fy' } : {};
  const data = all.filter((d) => d.n > 0);
  return render({
    width: 720, height: o.height, marginLeft: o.marginLeft, marginRight: 170,
    x: { label: '% of trials (bars: 95 % interval) →', grid: true, domain: [0, 100] },
    y: { label: null, domain: o.y },
    ...(o.fy ? { fy: { label: null, domain: o.fy, axis: null, padding: 0.25 } } : {}),
    color: o.color,
    marks: [
      ...(o.fy ? [panelTitles(o.fy)] : []),
      Plot.barX(data, { ...fy, x: (d: RateBar) => pc(d.p), y: 'y', fill: 'color', fillOpacity: (d: RateBar) => (d.tooFew ? 0.3 : 1), insetTop: 3, insetBottom: 3 }),
      Plot.ruleY(data, { ...fy, y: 'y', x1: (d: RateBar) => pc(d.low), x2: (d: RateBar) => pc(d.high), stroke: '#222' }),
      Plot.tickX(data, { ...fy, y: 'y', x: (d: RateBar) => pc(d.low), stroke: '#222', insetTop: 6, insetBottom: 6 }),
      Plot.tickX(data, { ...fy, y: 'y', x: (d: RateBar) => pc(d.high), stroke: '#222', insetTop: 6, insetBottom: 6 }),
      Plot.text(all, {
        ...fy, y: 'y', x: (d: RateBar) => (d.n ? pc(d.high) : 0), dx: 6, textAnchor: 'start',
        text: (d: RateBar) => (d.n ? `${percent(d.p)} % (${d.k}/${d.n})${d.tooFew ? ' too few to compare' : ''}` : NO_FAILURES),
      }),
    ],
  });
}

/** The campaign's summary per mode, in the report's order. */
export const summaryByMode = (records: TrialRecord[]): [string, ModeSummary][] => byMode(Object.entries(summarize(records).byMode), ([mode]) => mode);

/** Host crashes per mode (the Nooks paper's Figure 6), the paper's two rates after ours: a bar each, coloured by mode or `paper`. */
export function crashRates(records: TrialRecord[]): RateBar[] {
  return [
    ...summaryByMode(records).map(([mode, m]) => ({ y: mode, color: mode, ...rate(m.hostCrashes, m.trials) })),
    { y: 'native (paper)', color: 'paper', ...rate(paper.crashes.native, paper.crashes.trials) },
    { y: 'Nooks (paper)', color: 'paper', ...rate(paper.crashes.nooks, paper.crashes.trials) },
  ];
}

/** Host crashes per mode, as a share of trials with its interval, the paper's beside. */
export function crashChart(records: TrialRecord[]): string {
  const data = crashRates(records);
  const modes = data.filter((d) => d.color !== 'paper').map((d) => d.y);
  return rateBars(data, { y: data.map((d) => d.y), color: modeColors(modes, 'paper'), height: 60 + 32 * data.length, marginLeft: 130 });
}

/** Each mode's trials, in the modes' order. */
const trialsByMode = (records: TrialRecord[]): [string, TrialRecord[]][] => summaryByMode(records).map(([mode]) => [mode, records.filter((r) => r.mode === mode)]);

/** Each of the campaign's failure measures (lib/experiments/campaign.ts) per mode, with its own denominator. */
export function failureRates(records: TrialRecord[]): { mode: string; rates: Rate[] }[] {
  return trialsByMode(records).map(([mode, of]) => ({ mode, rates: failureMeasures.map((m) => { const { k, n } = share(m, of); return rate(k, n); }) }));
}

/**
 * Per mode, of its trials with a detected failure, those detected before the application's work was judged, not
 * only at the unload after it, where the application could not see it (TrialRecord.detectedBeforeVerdict; a trial
 * from a file before it was kept counts in neither).
 */
export function detectedBeforeVerdictRates(records: TrialRecord[]): { mode: string; rate: Rate }[] {
  return summaryByMode(records).map(([mode, m]) => ({ mode, rate: rate(m.detectedBeforeVerdict, m.detectedBeforeVerdictOf) }));
}

/** What became of the failures, a panel per measure and a bar per mode (the Nooks paper's Figure 7, the shadow paper's detection). */
export function failureChart(records: TrialRecord[]): string {
  const modes = failureRates(records);
  const names = failureMeasures.map(measureLabel);
  const data: RateBar[] = modes.flatMap(({ mode, rates }) => rates.map((r, i) => ({ fy: names[i], y: mode, color: mode, ...r })));
  return rateBars(data, {
    y: modes.map((m) => m.mode), fy: names, color: modeColors(modes.map((m) => m.mode)),
    height: 70 + names.length * (20 + 22 * modes.length), marginLeft: 120,
  });
}

// the shadow paper's Figure 7: the failures, and those detected and recovered of them
const shadowMeasures = failureMeasures.filter((m) => m.name !== 'app continued');

/** Per application under shadow drivers (all isolation modes): failures (of its trials), detected and recovered (of its failures). */
export function shadowAppRates(records: TrialRecord[]): RateBar[] {
  const shadowed = records.filter((r) => r.mode.endsWith('+shadow'));
  return [...new Set(shadowed.map((r) => r.app))].flatMap((app) => {
    const of = shadowed.filter((r) => r.app === app);
    return shadowMeasures.map((m) => { const { k, n } = share(m, of); return { fy: app, y: measureLabel(m), color: measureLabel(m), ...rate(k, n) }; });
  });
}

/** The shadow paper's Figure 7: a panel per application, a bar per measure. */
export function shadowAppsChart(records: TrialRecord[]): string {
  const data = shadowAppRates(records);
  const apps = [...new Set(data.map((d) => d.fy!))];
  const names = shadowMeasures.map(measureLabel);
  return rateBars(data, {
    y: names, fy: apps, color: { domain: names, range: ['#bab0ac', '#76b7b2', '#edc948'] },
    height: 70 + 90 * apps.length, marginLeft: 90,
  });
}
