// The report's charts: SVG made by a charting library (Observable Plot) on a
// server-side DOM (jsdom), one function per figure, each with the papers'
// numbers beside ours where the papers have them.
import * as Plot from '@observablehq/plot';
import { JSDOM } from 'jsdom';
import type { WorkloadResult } from '../bench/classes.js';
import type { XpcBenchResult } from '../bench/xpc.js';
import type { TableRow } from '../experiments/table-apps.js';

const { document } = new JSDOM('').window;
const render = (options: Plot.PlotOptions): string => Plot.plot({ document, ...options }).outerHTML;

// Swift et al., SOSP 2003 and OSDI 2004.
export const paper = {
  xpcCycles: 3000, // a Nooks extension procedure call, round trip (page-table switch; 1.7 GHz Pentium 4)
  relative: [0.44, 1.0] as const, // Nooks' relative performance over the paper's workloads (Table 4)
  recoveryMs: { net: 5000, block: 4000, sound: 100 } as Record<string, number>, // e1000, IDE, sound (OSDI 2004, section 5)
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
