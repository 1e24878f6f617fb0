// What the report is made of: the results of the project's own commands, each
// run as `nooks <command> --json` in a child process of its own (a kernel per
// process; a benchmark undisturbed by the others) and kept in <out>/data/ so
// that a later report reads them instead of measuring again.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { makeDirs } from '../dirs.js';
import { endWithProcess } from '../ending-signals.js';
import { campaignPlan, keptCampaign, type TrialRecord } from '../experiments/campaign.js';
import { packageRoot } from '../paths.js';
import { machine, readAbout, writeAbout, type Machine, type Measured } from './about.js';

export interface Source {
  id: string;
  /** What it measures, for progress lines and the page. */
  title: string;
  /** `nooks` arguments (--json is added). */
  argv: string[];
  /** Its results are this campaign file the command appends to, not its output. */
  file?: string;
  /** The campaign's faults per driver, to tell its own file (resumed where cut short) from another campaign's put there. */
  trials?: number;
  /** Short measurements (--quick). */
  quick: boolean;
}

/** Full measurements; `quick` ones are short (a first look, the tests). Results files go to dataDir. */
export function sources(quick: boolean, dataDir: string): Source[] {
  const seconds = quick ? ['--seconds', '0.5'] : [];
  const campaign = join(dataDir, 'campaign.jsonl');
  const trials = quick ? 1 : 25;
  return [
    { id: 'xpc', title: 'crossing costs', argv: ['bench', 'xpc', ...(quick ? ['--runs', '3', '--iters', '2000'] : [])], quick },
    { id: 'scale', title: 'crossings with threads', argv: ['bench', 'scale', ...(quick ? ['--seconds', '0.05'] : [])], quick },
    ...['net', 'block', 'sound', 'serial'].map((c) => ({ id: `bench-${c}`, title: `${c} throughput`, argv: ['bench', c, ...seconds], quick })),
    { id: 'table-apps', title: 'applications under faults', argv: ['table', 'apps'], quick },
    // a bigger campaign's file put there (nooks campaign --out <out>/data/campaign.jsonl) is read whole
    { id: 'campaign', title: 'fault-injection campaign', argv: ['campaign', '--trials', String(trials), '--jobs', '2', '--out', campaign], file: campaign, trials, quick },
  ];
}

/** Where a source's raw results lie: its JSON-lines file, or <dataDir>/<id>.json. */
export const resultFile = (s: Source, dataDir: string): string => s.file ?? join(dataDir, `${s.id}.json`);

export interface Gathered {
  source: Source;
  /** The command's JSON, or undefined when it failed (error says why). */
  data?: unknown;
  error?: string;
  cached: boolean;
  /** Its raw results (linked from the page). */
  file: string;
  /** The run that measured it; undefined for kept results that about.json does not describe (put there by hand). */
  measured?: Measured;
  /** A kept campaign of another plan, cut short: the trials it holds of how many its plan has. */
  partial?: { held: number; planned: number };
}

const cli = join(packageRoot, 'dist', 'lib', 'cli', 'main.js');

function runJson(argv: string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    // a report ended by a signal ends the command too (a campaign its trials), else it would measure on, unseen;
    // listened for before the spawn (a signal in between would end the report by its default, the command left),
    // the listener runs only after it
    let child: ChildProcessByStdio<null, Readable, Readable>;
    const ended = endWithProcess(() => child.kill('SIGTERM'));
    try {
      child = spawn(process.execPath, [cli, ...argv, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      ended();
      throw e;
    }
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', (e) => {
      ended();
      reject(e);
    });
    child.on('close', (code, signal) => {
      ended();
      let data: unknown;
      try {
        data = JSON.parse(out);
      } catch {
        // no JSON: what it said last is the reason
      }
      if (code === 0 && data !== undefined) return resolve(data);
      const said = (data as { error?: { message?: string } } | undefined)?.error?.message ?? err.trim().split('\n').at(-1) ?? '';
      reject(new Error(`nooks ${argv.join(' ')}: ${signal ? `killed by ${signal}` : `exit status ${code}`}: ${said.slice(0, 300)}`));
    });
  });
}

/** A kept campaign of the report's own plan, cut short (by an interrupted report): the campaign command resumes it. */
function cutShort(trials: number, file: string): boolean {
  try {
    const kept = keptCampaign(file);
    return kept.trials.some((t) => !kept.held.has(t.key)) && kept.plan?.id === campaignPlan({ trials }).id;
  } catch {
    return false; // not resumable: reading it again below says why
  }
}

/** A campaign file's trials, checked and each once, as a campaign resuming it would take them; how many are missing. */
function campaignData(file: string): { data: TrialRecord[]; partial?: Gathered['partial'] } {
  const { plan, trials, held } = keptCampaign(file);
  if (!plan) throw Object.assign(new Error(`${file} holds no plan header: nooks campaign did not write it`), { code: 'ENOPLAN' });
  const data = trials.flatMap((t) => held.get(t.key) ?? []);
  return { data, ...(data.length < trials.length ? { partial: { held: data.length, planned: trials.length } } : {}) };
}

/**
 * Each source's results: from <dataDir>/<id>.json when there and not `fresh`,
 * else measured now (and kept, with the run that measured them in about.json).
 * The report's own campaign cut short is resumed. A source that fails is reported, not fatal.
 */
export async function gather(list: Source[], dataDir: string, fresh: boolean,
  onSource?: (s: Source, cached: boolean, measured: Measured | undefined) => void): Promise<Gathered[]> {
  makeDirs(dataDir);
  const about = readAbout(dataDir);
  let here: Machine | undefined;
  const out: Gathered[] = [];
  for (const source of list) {
    const file = resultFile(source, dataDir);
    const kept = !fresh && existsSync(file);
    const resume = kept && source.trials !== undefined && cutShort(source.trials, file);
    const cached = kept && !resume;
    if (!cached) {
      here ??= machine();
      about[source.id] = { ...here, date: new Date().toISOString(), argv: source.argv, quick: source.quick };
    } else if (about[source.id]?.bytes !== statSync(file).size) {
      delete about[source.id]; // not the file that run wrote
    }
    // kept results: the run that measured them (a --quick one, maybe), not the run this one would make
    onSource?.(source, cached, cached ? about[source.id] : undefined);
    try {
      let got: Pick<Gathered, 'data' | 'partial'>;
      if (source.file) {
        if (!cached) {
          if (!resume) rmSync(file, { force: true });
          await runJson(source.argv);
        }
        got = campaignData(file);
      } else {
        got = { data: cached ? JSON.parse(readFileSync(file, 'utf8')) : await runJson(source.argv) };
        if (!cached) writeFileSync(file, `${JSON.stringify(got.data, null, 2)}\n`);
      }
      if (!cached) about[source.id].bytes = statSync(file).size;
      out.push({ source, ...got, cached, file, measured: about[source.id] });
    } catch (e) {
      if (!cached) delete about[source.id]; // nothing measured
      out.push({ source, cached, file, error: (e as Error).message });
    }
  }
  writeAbout(dataDir, about);
  return out;
}
