// The report's charts: SVG made by a charting library (Observable Plot) on a
// server-side DOM (jsdom), one function per figure, each with the papers'
// numbers beside ours where the papers have them.
import * as Plot from '@observablehq/plot';
import { JSDOM } from 'jsdom';
import type { WorkloadResult } from '../bench/classes.js';
import type { ScaleBenchResult } from '../bench/scale.js';
import type { XpcBenchResult } from '../bench/xpc.js';
import { summarize, type TrialRecord } from '../experiments/campaign.js';
import type { TableRow } from '../experiments/table-apps.js';
import { isolations } from '../wrappers/enums.js';

const { document } = new JSDOM('').window;
const render = (options: Plot.PlotOptions): string => Plot.plot({ document, ...options }).outerHTML;

// Swift et al., SOSP 2003 and OSDI 2004.
export const paper = {
  xpcCycles: 3000, // a Nooks extension procedure call, round trip (page-table switch; 1.7 GHz Pentium 4)
  relative: [0.44, 1.0] as const, // Nooks' relative performance over the paper's workloads (Table 4)
  recoveryMs: { net: 5000, block: 4000, sound: 100 } as Record<string, number>, // e1000, IDE, sound (OSDI 2004, section 5)
  crashes: { trials: 2000, native: 317, nooks: 4 }, // system crashes from injected faults (SOSP 2003, Figure 6)
  detected: 0.65, // shadow drivers: failures detected automatically; all of those recovered (OSDI 2004, section 5)
};

/** Round trip (host → driver → host) and kernel call per isolation mode, in cycles, log scale; the paper's XPC beside. */
export function crossingChart(r: XpcBenchResult): string {
  const rows: { who: string; what: string; cycles: number }[] = [];
  for (const m of r.modes) {
    if (!m.supported) continue;
    rows.push({ who: m.isolation, what: 'round trip', cycles: m.roundTripCycles }, { who: m.isolation, what: 'kernel call', cycles: m.upcallCycles });
  }
  rows.push({ who: 'Nooks (paper)', what: 'round trip', cycles: paper.xpcCycles });
  const label = (d: { cycles: number }) => `${Math.round(d.cycles)}`;
  return render({
    width: 720, height: 80 + 26 * rows.length, marginLeft: 110, marginRight: 90,
    // room on the right for the labels
    x: { type: 'log', domain: [1, 20 * Math.max(...rows.map((d) => d.cycles))], label: 'TSC cycles per crossing (log scale) →', grid: true },
    y: { label: null },
    fy: { label: null },
    marks: [
      Plot.ruleY(rows, { fy: 'what', y: 'who', x1: 1, x2: 'cycles', strokeOpacity: 0.3 }),
      Plot.dot(rows, { fy: 'what', x: 'cycles', y: 'who', fill: (d: { who: string }) => (d.who.includes('paper') ? 'paper' : 'ours'), r: 6 }),
      Plot.text(rows, { fy: 'what', x: 'cycles', y: 'who', text: label, dx: 10, textAnchor: 'start' }),
    ],
  });
}

// the isolation modes from the least isolated to the most
const isolationOrder: readonly string[] = isolations;

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
    color: { legend: true, domain: isolationOrder.filter((m) => rows.some((d) => d.mode === m)) },
    marks: [line('own-driver'), line('one-driver', '5,4'), Plot.dot(rows, { x: 'threads', y: 'perSec', stroke: 'mode', r: 3 })],
  });
}

/** Throughput relative to `none` per device workload and mode (Table 4's shape), the paper's range shaded. */
export function relativeChart(workloads: WorkloadResult[]): string {
  const rows = workloads.flatMap((w) =>
    w.modes.flatMap((m) => (m.supported && m.relative !== null ? [{ workload: w.workload, mode: m.isolation, relative: m.relative }] : [])));
  return render({
    width: 720, height: 60 + 70 * workloads.length, marginLeft: 80, marginRight: 120,
    x: { domain: [0, Math.max(1.1, ...rows.map((d) => d.relative))], label: 'throughput relative to no isolation →', grid: true },
    y: { label: null },
    fy: { label: null },
    marks: [
      Plot.rectX([paper.relative], { x1: (d: readonly number[]) => d[0], x2: (d: readonly number[]) => d[1], fill: '#999', fillOpacity: 0.15 }),
      Plot.barX(rows, { fy: 'workload', x: 'relative', y: 'mode', fill: 'mode', insetTop: 2, insetBottom: 2 }),
      Plot.text(rows, { fy: 'workload', x: 'relative', y: 'mode', text: (d: { relative: number }) => `${d.relative}`, dx: 4, textAnchor: 'start' }),
      Plot.ruleX([1], { strokeDasharray: '4,3' }),
    ],
  });
}

/** Recovery time per class (shadow drivers, emulated devices), log scale; the paper's times beside. */
export function recoveryChart(rows: TableRow[]): string {
  const ours = rows.filter((r) => r.config === 'shadow').flatMap((r) => r.recoveryMs.map((ms) => ({ class: r.class, who: 'nooks (ours)', ms })));
  const theirs = Object.entries(paper.recoveryMs).map(([c, ms]) => ({ class: c, who: 'shadow drivers (paper)', ms }));
  const data = [...ours, ...theirs];
  return render({
    width: 720, height: 90 + 36 * new Set(data.map((d) => d.class)).size, marginLeft: 70,
    x: { type: 'log', label: 'recovery time, ms (log scale) →', grid: true },
    y: { label: null },
    color: { legend: true, domain: ['nooks (ours)', 'shadow drivers (paper)'] },
    marks: [Plot.dot(data, { x: 'ms', y: 'class', fill: 'who', r: 5, fillOpacity: 0.8 })],
  });
}

// none first, then each isolation without and with shadow drivers
const modeOrder = (modes: string[]) => [...modes].sort((a, b) => (a === 'none' ? -1 : b === 'none' ? 1 : a.localeCompare(b)));
const pct = (n: number, of: number) => (of ? Math.round((1000 * n) / of) / 10 : 0);

/** Host crashes per mode, as a share of trials (the Nooks paper's Figure 6), the paper's beside. */
export function crashChart(records: TrialRecord[]): string {
  const s = summarize(records).byMode;
  const data = [
    ...modeOrder(Object.keys(s)).map((mode) => [mode, s[mode]] as const).map(([mode, m]) => ({ who: 'ours', config: mode, percent: pct(m.hostCrashes, m.trials), n: `${m.hostCrashes}/${m.trials}` })),
    { who: 'paper', config: 'native (paper)', percent: pct(paper.crashes.native, paper.crashes.trials), n: `${paper.crashes.native}/${paper.crashes.trials}` },
    { who: 'paper', config: 'Nooks (paper)', percent: pct(paper.crashes.nooks, paper.crashes.trials), n: `${paper.crashes.nooks}/${paper.crashes.trials}` },
  ];
  return render({
    width: 720, height: 60 + 32 * data.length, marginLeft: 130, marginRight: 90,
    x: { label: 'host crashes, % of trials →', grid: true },
    y: { label: null, domain: data.map((d) => d.config) },
    color: { legend: true, domain: ['ours', 'paper'] },
    marks: [
      Plot.barX(data, { x: 'percent', y: 'config', fill: 'who', insetTop: 3, insetBottom: 3 }),
      Plot.text(data, { x: 'percent', y: 'config', text: (d: { percent: number; n: string }) => `${d.percent} % (${d.n})`, dx: 4, textAnchor: 'start' }),
    ],
  });
}

/** What became of the failures, per mode (the Nooks paper's Figure 7 and the shadow paper's detection): % of trials. */
export function failureChart(records: TrialRecord[]): string {
  const s = summarize(records).byMode;
  const measures = ['visible failures', 'detected', 'recovered', 'app continued'] as const;
  const data = Object.entries(s).flatMap(([mode, m]) => {
    const v = [m.visibleFailures, m.detected, m.recovered, m.appContinued];
    return measures.map((what, i) => ({ mode, what, percent: pct(v[i], m.trials) }));
  });
  return render({
    width: 720, height: 70 + 110 * Object.keys(s).length, marginLeft: 120, marginRight: 50,
    x: { label: '% of trials →', grid: true, domain: [0, 100] },
    y: { label: null, domain: [...measures] },
    fy: { label: null, domain: modeOrder(Object.keys(s)) },
    color: { domain: [...measures] },
    marks: [
      Plot.barX(data, { fy: 'mode', x: 'percent', y: 'what', fill: 'what', insetTop: 2, insetBottom: 2 }),
      Plot.text(data, { fy: 'mode', x: 'percent', y: 'what', text: (d: { percent: number }) => `${d.percent}`, dx: 4, textAnchor: 'start' }),
    ],
  });
}

/** Per application under shadow drivers: failures, detected, recovered (the shadow paper's Figure 7). */
export function shadowAppsChart(records: TrialRecord[]): string {
  const shadowed = records.filter((r) => r.mode.endsWith('+shadow'));
  const apps = [...new Set(shadowed.map((r) => r.app))];
  const measures = ['failures', 'detected', 'recovered'] as const;
  const data = apps.flatMap((app) => {
    const of = shadowed.filter((r) => r.app === app);
    const v = [of.filter((r) => r.failure).length, of.filter((r) => r.detected).length, of.filter((r) => r.recovered).length];
    return measures.map((what, i) => ({ app, what, count: v[i] }));
  });
  return render({
    width: 720, height: 70 + 90 * apps.length, marginLeft: 90, marginRight: 50,
    x: { label: 'trials →', grid: true, domain: [0, Math.max(1, ...data.map((d) => d.count))] },
    y: { label: null, domain: [...measures] },
    fy: { label: null },
    color: { domain: [...measures] },
    marks: [
      Plot.barX(data, { fy: 'app', x: 'count', y: 'what', fill: 'what', insetTop: 2, insetBottom: 2 }),
      Plot.text(data, { fy: 'app', x: 'count', y: 'what', text: (d: { count: number }) => `${d.count}`, dx: 4, textAnchor: 'start' }),
    ],
  });
}
