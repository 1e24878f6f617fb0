// `nooks report`: gathers the benchmarks' and experiments' results (sources.ts)
// and writes <out>/index.html: the figures (charts.ts) with the papers'
// numbers beside ours, a table per experiment, the command behind each, the
// run that measured them (about.ts) and links to the raw results beside the page.
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { WorkloadResult } from '../bench/classes.js';
import type { ScaleBenchResult } from '../bench/scale.js';
import { makeDirs } from '../dirs.js';
import type { XpcBenchResult } from '../bench/xpc.js';
import type { TableRow } from '../experiments/table-apps.js';
import { failureMeasures, measureLabel, readCampaignFile, type TrialRecord } from '../experiments/campaign.js';
import { describePlan } from '../experiments/plan.js';
import { aboutFile, type Machine, type Measured } from './about.js';
import {
  cpuChart, crashChart, crashRates, crossingChart, detectedBeforeVerdictRates, failureChart, failureRates, paper, paperXpcNs, recoveryChart, relativeChart, scaleChart, shadowAppRates, shadowAppsChart,
} from './charts.js';
import { byMode } from './modes.js';
import { MAX_COMPARABLE_WIDTH_PP, NO_FAILURES, percent, rateText, TOO_FEW, type Rate } from './stats.js';
import { gather, sources, type Gathered, type Source } from './sources.js';

export interface ReportOptions {
  /** Where index.html and data/ go (default: report). */
  out?: string;
  /** Measure again even where data/ has results. */
  fresh?: boolean;
  /** Short measurements (a first look; the tests). */
  quick?: boolean;
  /** Each source as it is gathered: measured now, or kept (with the run that measured it, where about.json knows it). */
  onSource?: (s: Source, cached: boolean, measured: Measured | undefined) => void;
}

export interface ReportResult {
  page: string;
  sections: { id: string; title: string; cached: boolean; error?: string; partial?: Gathered['partial'] }[];
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
  writeFileSync(page, html(got, out, dataDir));
  return { page, sections: got.map((g) => ({ id: g.source.id, title: g.source.title, cached: g.cached, ...(g.error ? { error: g.error } : {}), ...(g.partial ? { partial: g.partial } : {}) })) };
}

// the command that measured kept results, not the one this run would have used
const command = (g: Gathered) => `<code>npx nooks ${esc((g.measured?.argv ?? g.source.argv).join(' '))} --json</code>`;
const day = (iso: string) => iso.replace('T', ' ').replace(/:\d\d\.\d+Z$/, ' UTC');

/** Where a section's figures came from: the commands, when they were measured, and their raw results. */
function provenance(from: Gathered[], out: string): string {
  const when = from.map((g) => (g.measured ? `${g.cached ? 'kept from' : 'measured'} ${day(g.measured.date)}${g.measured.quick ? ', quick' : ''}` : `kept; its run is unknown${recordedPlans(g)}`));
  const links = from.filter((g) => !g.error).map((g) => `<a href="${esc(relative(out, g.file))}">${esc(relative(out, g.file))}</a>`);
  return `<p class="cmd">From ${from.map((g, i) => `${command(g)} (${when[i]})`).join(', ')}${
    from.some((g) => g.cached) ? '; <code>--fresh</code> measures again' : ''}. Raw data: ${links.join(', ') || 'none'}.</p>`;
}

/**
 * What a campaign file of an unknown run says of itself: the plans in its headers (a campaign of the
 * user's own driver put there, say), since the command shown is only the one this report would run.
 */
function recordedPlans(g: Gathered): string {
  if (!g.source.file || g.error) return '';
  const plans = readCampaignFile(g.file).plans.map((h) => esc(describePlan(h.plan)));
  return plans.length ? `; the file records ${plans.join(' and ')}` : '; the file records no plan';
}

/** A kept campaign of another plan cut short: said, since its modes' rates are each of the trials it holds. */
function partialNote(g: Gathered): string {
  return g.partial ? `, a partial campaign: ${g.partial.held} of the ${g.partial.planned} trials its plan has (cut short; each mode's rates are of the trials it holds)` : '';
}

/** A section: its figure, or why there is none. */
function section(title: string, about: string, from: Gathered[], out: string, body: () => string): string {
  const failed = from.filter((g) => g.error);
  const content = failed.length
    ? failed.map((g) => `<p class="error">Not measured: ${esc(g.error!)}</p>`).join('')
    : body();
  return `<section><h2>${esc(title)}</h2><p>${about}</p>${content}${provenance(from, out)}</section>`;
}

/** The run behind the page: each field's values over the sources shown (several where kept results came from other runs). */
function aboutBlock(got: Gathered[], out: string, dataDir: string): string {
  const shown = got.filter((g) => !g.error);
  const runs = shown.map((g) => g.measured);
  const known = runs.filter((m): m is Measured => m !== undefined);
  const unknown = known.length < runs.length ? ['unknown for results this report did not measure (put there, or changed since)'] : [];
  const values = (f: (m: Measured) => string) => [...new Set(known.map(f)), ...unknown].map(esc).join('; ');
  const dates = known.map((m) => day(m.date)).sort();
  const span = dates.length ? [dates[0] === dates.at(-1) ? dates[0] : `${dates[0]} to ${dates.at(-1)}`] : [];
  const field = (name: string, value: string) => `<dt>${name}</dt><dd>${value}</dd>`;
  const yesNo = (b: boolean) => (b ? 'yes' : 'no');
  const quick = values((m) => (m.quick ? 'yes: short measurements, a first look; not for comparison' : 'no'));
  const raw = [aboutFile(dataDir), ...shown.map((g) => g.file)].map((f) => relative(out, f));
  const pick = (k: keyof Machine) => values((m) => String(m[k]));
  return `<dl class="about">
${field('Measured', [...span, ...unknown].map(esc).join('; '))}
${field('Page written', esc(day(new Date().toISOString())))}
${field('Commit', pick('commit'))}
${field('Kernel', pick('kernel'))}
${field('Node', pick('node'))}
${field('CPU', pick('cpu'))}
${field('Protection keys (PKU)', values((m) => yesNo(m.pku)))}
${field('Quick run', quick)}
${field('Raw data', raw.map((f) => `<a href="${esc(f)}">${esc(f)}</a>`).join(', '))}
</dl>`;
}

// the sample sizes of a figure whose rates are shares of trials or of failures
const ofFailures = 'trials (failures, for detected and recovered)';
const ofFailuresOrDetected = 'trials (failures, for detected and recovered; detected failures, for detected before the verdict)';

/** Whether any of these rates is too uncertain to compare, said once under the figure. */
function tooFewNote(rates: Rate[], of = 'trials'): string {
  const few = rates.filter((r) => r.tooFew);
  if (!few.length) return '';
  const ns = [...new Set(few.map((r) => r.n))].sort((a, b) => a - b).join(', ');
  return `<p class="few">Faded bars: ${TOO_FEW}. With ${ns} ${of}, the 95 % interval (Wilson score) is wider than ${MAX_COMPARABLE_WIDTH_PP} percentage points;
    the figures say only that the campaign ran, not how the modes compare, nor how they compare with the papers'. <code>nooks report</code> runs 100 trials per mode.</p>`;
}

function outcomeTable(rows: TableRow[]): string {
  const apps = [...new Set(rows.map((r) => r.app))];
  const configs = ['none', 'nooks', 'shadow'];
  const cell = (r?: TableRow) => (r ? `<td class="${r.outcome}">${r.outcome}${r.failures ? ` (${r.failures})` : ''}</td>` : '<td></td>');
  return `<table><tr><th>application</th><th>class</th>${configs.map((c) => `<th>${c}</th>`).join('')}</tr>${apps.map((a) => {
    const of = (c: string) => rows.find((r) => r.app === a && r.config === c);
    return `<tr><td>${esc(a)}</td><td>${esc(of('shadow')?.class ?? '')}</td>${configs.map((c) => cell(of(c))).join('')}</tr>`;
  }).join('')}</table>
<p>One run per application and configuration: an outcome, not a rate.</p>`;
}

/** Crossing costs in ns, with the cycles of the CPU that measured them beside the paper's cycles on its own CPU. */
function crossingTable(r: XpcBenchResult): string {
  const modes = byMode(r.modes.flatMap((m) => (m.supported ? [m] : [])), (m) => m.isolation);
  return `<table><tr><th>isolation</th><th>round trip, ns</th><th>round trip, cycles</th><th>kernel call, ns</th><th>kernel call, cycles</th></tr>
${modes.map((m) => `<tr><td>${m.isolation}</td><td>${Math.round(m.roundTripNs)}</td><td>${Math.round(m.roundTripCycles)}</td><td>${Math.round(m.upcallNs)}</td><td>${Math.round(m.upcallCycles)}</td></tr>`).join('\n')}
<tr class="paper"><td>Nooks (paper)</td><td>≈ ${paperXpcNs}</td><td>${paper.xpcCycles}</td><td></td><td></td></tr></table>
<p>Cycles here are TSC ticks of this CPU (${r.tscPerNs} per ns; ${esc(r.cpu)}); the paper's are core cycles of a ${paper.xpcGHz} GHz Pentium 4.
They count different things on different machines: compare the ns.</p>`;
}

/** The round trip and the kernel call with more drivers loaded, and mprotect's calls for each beside a bare pair of them. */
function domainsTable(r: XpcBenchResult): string {
  const modes = byMode(r.modes.flatMap((m) => (m.supported ? [m] : [])), (m) => m.isolation);
  const loaded = modes[0]?.domains.map((d) => d.loaded) ?? [];
  const pair = r.mprotectPairCycles === null ? '' : ` A bare pair of <code>mprotect</code> calls on the pages a crossing flips: ${Math.round(r.mprotectPairCycles / r.tscPerNs)} ns.`;
  return `<p>Round trip / kernel call in ns with more drivers loaded (in brackets: <code>mprotect</code> calls for each).${pair}</p>
<table><tr><th>isolation</th>${loaded.map((n) => `<th>${n} loaded</th>`).join('')}</tr>${modes.map((m) =>
    `<tr><td>${m.isolation}</td>${m.domains.map((d) => `<td>${Math.round(d.roundTripNs)} (${d.mprotectCallsPerCrossing}) / ${Math.round(d.upcallNs)} (${d.mprotectCallsPerKernelCall})</td>`).join('')}</tr>`).join('')}</table>`;
}

/** Throughput and the CPU it took, per workload and mode (the paper's Table 4 reported both). */
function throughputTable(workloads: WorkloadResult[]): string {
  const rows = workloads.flatMap((w) => {
    const modes = byMode(w.modes.flatMap((m) => (m.supported ? [m] : [])), (m) => m.isolation);
    return modes.map((m) =>
      `<tr><td>${esc(w.workload)}</td><td>${m.isolation}</td><td>${Math.round(m.throughput)} ${esc(m.unit)}</td><td>${m.relative ?? ''}</td><td>${m.cpuSeconds} s of ${w.seconds} s</td></tr>`);
  });
  return `<table><tr><th>workload</th><th>isolation</th><th>throughput</th><th>relative</th><th>CPU (user + system)</th></tr>${rows.join('\n')}</table>`;
}

/** Host crashes per mode as text, the paper's beside. */
function crashTable(records: TrialRecord[]): string {
  const rows = crashRates(records);
  return `<table><tr><th>mode</th><th>host crashes (95 % interval)</th></tr>${rows.map((r) =>
    `<tr${r.color === 'paper' ? ' class="paper"' : ''}><td>${esc(r.y)}</td><td${r.tooFew ? ' class="few"' : ''}>${rateText(r)}</td></tr>`).join('')}</table>
${tooFewNote(rows)}`;
}

const detectedBeforeVerdictLabel = 'detected before the verdict (of detected)';

/** Each failure measure per mode, with its interval; then the detected failures that came before the verdict. */
function failureTable(records: TrialRecord[]): string {
  const modes = failureRates(records);
  const before = detectedBeforeVerdictRates(records);
  const cell = (r: Rate, none = NO_FAILURES) => (r.n ? `<td${r.tooFew ? ' class="few"' : ''}>${percent(r.p)} %<br><small>${r.k}/${r.n}; ${percent(r.low)}–${percent(r.high)} %</small></td>` : `<td>${none}</td>`);
  return `<table><tr><th>mode</th>${failureMeasures.map((m) => `<th>${measureLabel(m)}</th>`).join('')}<th>${detectedBeforeVerdictLabel}</th></tr>${modes.map(({ mode, rates }, i) =>
    `<tr><td>${esc(mode)}</td>${rates.map((r) => cell(r)).join('')}${cell(before[i].rate, '- (none detected)')}</tr>`).join('')}</table>
<p>${detectedBeforeVerdictLabel}: nooks saw the failure while the application worked, not only at the unload after its work was judged
  (a fault in <code>remove</code> or <code>module_exit</code>), which the application could not see; detected counts both.</p>
${tooFewNote([...modes.flatMap((m) => m.rates), ...before.map((b) => b.rate)], ofFailuresOrDetected)}`;
}

function html(got: Gathered[], out: string, dataDir: string): string {
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
       (C++ loops, median run), in ns. The Nooks paper's extension procedure call (a page-table switch) took about ${paper.xpcCycles} cycles
       on a ${paper.xpcGHz} GHz CPU, about ${paperXpcNs} ns.
       ${xpc && !xpc.pku ? 'This CPU has no protection keys: <code>pkey</code> is not measured here.' : ''}`,
      by('xpc'), out, () => crossingChart(xpc!) + crossingTable(xpc!) + domainsTable(xpc!)),
    section('Crossings with threads',
      `Kernel threads crossing at once into an empty driver function (C++ loops), 1 to 16 of them: solid lines with a driver per
       thread (as many loaded as threads), dashed with every thread in one driver. mprotect serialises every crossing on one lock
       and changes page protections process-wide (TLB shoot-downs on every core), so it cannot scale.
       ${scale ? `${scale.cores} cores here, ${scale.seconds} s per point.` : ''}`,
      by('scale'), out, () => scaleChart(scale!)),
    section('Throughput and CPU per workload',
      `Each device class's workload in every isolation mode: throughput relative to no isolation (the paper's Table 4 shape;
       its range, ${paper.relative[0]}–${paper.relative[1]}, shaded), and beside it the CPU time the whole process used per second
       measured, as Table 4 did: a workload paced by its device (sound, serial) keeps its throughput and pays in CPU.`,
      benches, out, () => `<div class="pair">${relativeChart(workloads)}${cpuChart(workloads)}</div>${throughputTable(workloads)}`),
    section('Applications under driver faults',
      `The shadow-driver paper's Table 3 on our four classes: each application with its driver failing twice at random moments,
       judged by the application's own verification. The paper: most applications crash or malfunction under Nooks; all continue under shadow drivers.`,
      by('table-apps'), out, () => outcomeTable(apps!.rows)),
    section('Recovery time per class',
      `From the fault to service resumed, with shadow drivers, on emulated devices. The paper: about 5 s for e1000, 4 s for IDE, 0.1 s for sound.`,
      by('table-apps'), out, () => recoveryChart(apps!.rows)),
    section('Fault injection: host crashes',
      `Each application's driver with injected faults (binary and targeted, lib/inject), one trial per fault and mode, each in a child
       process. The Nooks paper: ${paper.crashes.native} of ${paper.crashes.trials} injected faults crashed the system natively, ${paper.crashes.nooks} with Nooks.
       ${trials ? `Here: ${trials.length} trials${partialNote(by('campaign')[0])}.` : ''} Each rate with its 95 % interval (Wilson score), drawn as an error bar.`,
      by('campaign'), out, () => crashChart(trials!) + crashTable(trials!)),
    section('Fault injection: what became of the failures',
      `Per mode: the faults that showed a failure (a crash, a detected failure, or an application that did not continue), as a share
       of its trials; of those failures, the ones nooks detected and those it recovered from (the shadow-driver paper's denominator);
       and the applications that continued, of all its trials. The shadow-driver paper detected
       ${paper.detected * 100} % of failures automatically and recovered all it detected.`,
      by('campaign'), out, () => failureChart(trials!) + failureTable(trials!)),
    section('Fault injection under shadow drivers, per application',
      'The shadow-driver paper\'s Figure 7: per application, the share of its trials under shadow drivers (all isolation modes) that failed, and of those failures, the share detected and the share recovered.',
      by('campaign'), out, () => shadowAppsChart(trials!) + tooFewNote(shadowAppRates(trials!), ofFailures)),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nooks: the papers' evaluation, measured here</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; max-width: 780px; margin: 2em auto; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ddd; }
.cmd { color: #666; font-size: 0.85em; } .error { color: #a00; } .few { color: #777; }
dl.about { display: grid; grid-template-columns: max-content 1fr; gap: 0.1em 1em; font-size: 0.9em; } dl.about dt { font-weight: 600; } dl.about dd { margin: 0; }
table { border-collapse: collapse; margin: 0.5em 0; } td, th { padding: 0.25em 0.8em; border: 1px solid #ddd; text-align: left; }
td.continued { background: #e6f4e6; } td.malfunction { background: #fdf3d8; } td.crash { background: #f8dede; } tr.paper { color: #444; font-style: italic; }
.pair { display: flex; gap: 10px; } .pair svg { flex: 1; min-width: 0; }
svg { max-width: 100%; height: auto; overflow: visible; }
</style></head><body>
<h1>nooks: the papers' evaluation, measured here</h1>
<p>Nooks (Swift et al., SOSP 2003) and shadow drivers (Swift et al., OSDI 2004) reimplemented for userspace drivers on Linux.
Each figure says which command measured it; ratios matter more than absolute figures on a shared machine.
Modes keep one order and colour throughout (none, pkey, mprotect, process, each +shadow beside its base, in a lighter shade); the papers' figures are dark grey.</p>
${aboutBlock(got, out, dataDir)}
${sections.join('\n')}
</body></html>
`;
}
