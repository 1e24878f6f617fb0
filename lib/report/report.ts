// `nooks report`: gathers the benchmarks' and experiments' results (sources.ts)
// and writes <out>/index.html: the figures (charts.ts) with the papers'
// numbers beside ours, a table per experiment, and the command behind each.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkloadResult } from '../bench/classes.js';
import type { ScaleBenchResult } from '../bench/scale.js';
import { makeDirs } from '../dirs.js';
import type { XpcBenchResult } from '../bench/xpc.js';
import type { TableRow } from '../experiments/table-apps.js';
import type { TrialRecord } from '../experiments/campaign.js';
import { crashChart, crossingChart, failureChart, paper, recoveryChart, relativeChart, scaleChart, shadowAppsChart } from './charts.js';
import { gather, sources, type Gathered, type Source } from './sources.js';

export interface ReportOptions {
  /** Where index.html and data/ go (default: report). */
  out?: string;
  /** Measure again even where data/ has results. */
  fresh?: boolean;
  /** Short measurements (a first look; the tests). */
  quick?: boolean;
  onSource?: (s: Source, cached: boolean) => void;
}

export interface ReportResult {
  page: string;
  sections: { id: string; title: string; cached: boolean; error?: string }[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Where a report in `out` keeps its results. */
export const dataDirOf = (out: string): string => join(out, 'data');

export async function writeReport(o: ReportOptions = {}): Promise<ReportResult> {
  const out = o.out ?? 'report';
  makeDirs(out);
  const dataDir = dataDirOf(out);
  const got = await gather(sources(o.quick ?? false, dataDir), dataDir, o.fresh ?? false, o.onSource);
  const page = join(out, 'index.html');
  writeFileSync(page, html(got));
  return { page, sections: got.map((g) => ({ id: g.source.id, title: g.source.title, cached: g.cached, ...(g.error ? { error: g.error } : {}) })) };
}

const command = (s: Source) => `<code>npx nooks ${esc(s.argv.join(' '))} --json</code>`;

/** A section: its figure, or why there is none. */
function section(title: string, about: string, from: Gathered[], body: () => string): string {
  const failed = from.filter((g) => g.error);
  const content = failed.length
    ? failed.map((g) => `<p class="error">Not measured: ${esc(g.error!)}</p>`).join('')
    : body();
  return `<section><h2>${esc(title)}</h2><p>${about}</p>${content}<p class="cmd">From ${from.map((g) => command(g.source)).join(', ')}${
    from.some((g) => g.cached) ? ' (kept results; <code>--fresh</code> measures again)' : ''}.</p></section>`;
}

function outcomeTable(rows: TableRow[]): string {
  const apps = [...new Set(rows.map((r) => r.app))];
  const configs = ['none', 'nooks', 'shadow'];
  const cell = (r?: TableRow) => (r ? `<td class="${r.outcome}">${r.outcome}${r.failures ? ` (${r.failures})` : ''}</td>` : '<td></td>');
  return `<table><tr><th>application</th><th>class</th>${configs.map((c) => `<th>${c}</th>`).join('')}</tr>${apps.map((a) => {
    const of = (c: string) => rows.find((r) => r.app === a && r.config === c);
    return `<tr><td>${esc(a)}</td><td>${esc(of('shadow')?.class ?? '')}</td>${configs.map((c) => cell(of(c))).join('')}</tr>`;
  }).join('')}</table>`;
}

/** The round trip with more drivers loaded, and mprotect's calls per crossing beside a bare pair of them. */
function domainsTable(r: XpcBenchResult): string {
  const modes = r.modes.flatMap((m) => (m.supported ? [m] : []));
  const loaded = modes[0]?.domains.map((d) => d.loaded) ?? [];
  const pair = r.mprotectPairCycles === null ? '' : ` A bare pair of <code>mprotect</code> calls on the pages a crossing flips: ${r.mprotectPairCycles} cycles.`;
  return `<p>Round trip in cycles with more drivers loaded (in brackets: <code>mprotect</code> calls per crossing).${pair}</p>
<table><tr><th>isolation</th>${loaded.map((n) => `<th>${n} loaded</th>`).join('')}</tr>${modes.map((m) =>
    `<tr><td>${m.isolation}</td>${m.domains.map((d) => `<td>${Math.round(d.roundTripCycles)} (${d.mprotectCallsPerCrossing})</td>`).join('')}</tr>`).join('')}</table>`;
}

function html(got: Gathered[]): string {
  const by = (id: string) => got.filter((g) => g.source.id === id);
  const benches = got.filter((g) => g.source.id.startsWith('bench-'));
  const workloads = benches.flatMap((g) => (g.data ? ([] as WorkloadResult[]).concat(g.data as WorkloadResult | WorkloadResult[]) : []));
  const apps = by('table-apps')[0]?.data as { rows: TableRow[] } | undefined;
  const xpc = by('xpc')[0]?.data as XpcBenchResult | undefined;
  const trials = by('campaign')[0]?.data as TrialRecord[] | undefined;
  const scale = by('scale')[0]?.data as ScaleBenchResult | undefined;
  const sections = [
    section('Crossing cost per isolation mode',
      `A host → driver → host round trip around an empty driver function, and one kernel call from inside a driver, per isolation mode
       (C++ loops, median run). The Nooks paper's extension procedure call (a page-table switch) took about ${paper.xpcCycles} cycles.
       ${xpc && !xpc.pku ? 'This CPU has no protection keys: <code>pkey</code> is not measured here.' : ''}`,
      by('xpc'), () => crossingChart(xpc!) + domainsTable(xpc!)),
    section('Crossings with threads',
      `Kernel threads crossing at once into an empty driver function (C++ loops), 1 to 16 of them: solid lines with a driver per
       thread (as many loaded as threads), dashed with every thread in one driver. mprotect serialises every crossing on one lock
       and changes page protections process-wide, so it cannot scale; its cost also grows with the drivers loaded.
       ${scale ? `${scale.cores} cores here, ${scale.seconds} s per point.` : ''}`,
      by('scale'), () => scaleChart(scale!)),
    section('Relative performance per workload',
      `Each device class's workload in every isolation mode, as throughput relative to no isolation (the paper's Table 4 shape;
       its range, ${paper.relative[0]}–${paper.relative[1]}, shaded).`,
      benches, () => relativeChart(workloads)),
    section('Applications under driver faults',
      `The shadow-driver paper's Table 3 on our four classes: each application with its driver failing twice at random moments,
       judged by the application's own verification. The paper: most applications crash or malfunction under Nooks; all continue under shadow drivers.`,
      by('table-apps'), () => outcomeTable(apps!.rows)),
    section('Recovery time per class',
      `From the fault to service resumed, with shadow drivers, on emulated devices. The paper: about 5 s for e1000, 4 s for IDE, 0.1 s for sound.`,
      by('table-apps'), () => recoveryChart(apps!.rows)),
    section('Fault injection: host crashes',
      `Each application's driver with injected faults (binary and targeted, lib/inject), one trial per fault and mode, each in a child
       process. The Nooks paper: ${paper.crashes.native} of ${paper.crashes.trials} injected faults crashed the system natively, ${paper.crashes.nooks} with Nooks.
       ${trials ? `Here: ${trials.length} trials.` : ''}`,
      by('campaign'), () => crashChart(trials!)),
    section('Fault injection: what became of the failures',
      `Per mode, as a share of its trials: faults that showed (a crash, a detected failure, or an application that did not continue),
       those nooks detected, those it recovered from, and the applications that continued. The shadow-driver paper detected
       ${paper.detected * 100} % of failures automatically and recovered all it detected.`,
      by('campaign'), () => failureChart(trials!)),
    section('Fault injection under shadow drivers, per application',
      'The shadow-driver paper\'s Figure 7: per application, the failures, those detected, those recovered.',
      by('campaign'), () => shadowAppsChart(trials!)),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nooks: the papers' evaluation, measured here</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; max-width: 780px; margin: 2em auto; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ddd; }
.cmd { color: #666; font-size: 0.85em; } .error { color: #a00; }
table { border-collapse: collapse; } td, th { padding: 0.25em 0.8em; border: 1px solid #ddd; text-align: left; }
td.continued { background: #e6f4e6; } td.malfunction { background: #fdf3d8; } td.crash { background: #f8dede; }
svg { max-width: 100%; height: auto; overflow: visible; }
</style></head><body>
<h1>nooks: the papers' evaluation, measured here</h1>
<p>Nooks (Swift et al., SOSP 2003) and shadow drivers (Swift et al., OSDI 2004) reimplemented for userspace drivers on Linux.
Each figure says which command measured it; ratios matter more than absolute figures on a shared machine.
${xpc ? `CPU: ${esc(xpc.cpu)}.` : ''}</p>
${sections.join('\n')}
</body></html>
`;
}
