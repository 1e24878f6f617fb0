// Fault-injection campaigns (`nooks campaign`), after the Nooks paper's
// Figures 6 and 7 and the shadow-driver paper's Figure 7: for each
// application and its driver, N faults (lib/inject, one seed each), each run
// in every mode -- none, then isolated without and with shadow drivers -- as
// one trial in a child process (child.ts, trial.ts), so that a host crash is
// observed, not suffered. Every trial is appended to a JSON-lines file as it
// ends; a campaign started again with the same file skips what it holds.
import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { planFault, type FaultType, type InjectedFault } from '../inject/index.js';
import { Kernel, type Isolation } from '../kernel.js';
import { runTrialChild, type Outcome } from './child.js';
import { trialApps } from './trial.js';

export interface Mode {
  /** `none`, `mprotect`, `mprotect+shadow`, `pkey`, `pkey+shadow`, `process`, `process+shadow`. */
  name: string;
  isolation: Isolation;
  shadow: boolean;
}

/** The detector that caught a fault, by its kind. */
export type Detector = 'trap' | 'watchdog' | 'bad-call' | 'nanny';

const detectorOf: Record<string, Detector> = {
  segv: 'trap', pkey: 'trap', 'stack-overflow': 'trap', bus: 'trap', ill: 'trap', fpe: 'trap',
  timeout: 'watchdog', 'bad-call': 'bad-call', stalled: 'nanny',
};

/** One line of the results file. */
export interface TrialRecord {
  key: string;
  app: string;
  driver: string;
  mode: string;
  /** The fault's number within its application (0..trials-1) and its seed. */
  index: number;
  seed: number;
  fault: Pick<InjectedFault, 'kind' | 'type' | 'site' | 'patch' | 'hook' | 'transient'>;
  /** Some sign of the fault: a crash, a detected failure, or the application not continuing. */
  failure: boolean;
  hostCrashed: boolean;
  /** Found by nooks (and by which detectors), rather than only visible to the application. */
  detected: boolean;
  detectors: Detector[];
  /** Detected, restarted, and running at the end. */
  recovered: boolean;
  outcome: Outcome;
  detail?: string;
  ms: number;
}

export interface CampaignOptions {
  /** Faults per application (and so per driver); each runs in every mode. Default 400. */
  trials?: number;
  apps?: readonly string[];
  seed?: number;
  /** Only this fault type. */
  type?: FaultType;
  /** Faults stay across recovery (default: removed at recovery, as in the shadow-driver paper's campaign). */
  persistent?: boolean;
  /** The JSON-lines file: appended to; what it holds is not run again. */
  out: string;
  /** Trials run at once (each a child process). Default 1. */
  jobs?: number;
  trialTimeoutMs?: number;
  /** Total trials and how many the file already held, before the first runs. */
  onStart?: (total: number, done: number) => void;
  onTrial?: (r: TrialRecord) => void;
}

export interface ModeSummary {
  trials: number;
  hostCrashes: number;
  visibleFailures: number;
  detected: number;
  recovered: number;
  appContinued: number;
}

export interface CampaignSummary {
  trials: number;
  byMode: Record<string, ModeSummary>;
}

/** none, and each isolated mode this machine runs, without and with shadow drivers. */
export function campaignModes(): Mode[] {
  const isolated: Isolation[] = Kernel.pkuSupported() ? ['mprotect', 'pkey', 'process'] : ['mprotect', 'process'];
  return [
    { name: 'none', isolation: 'none', shadow: false },
    ...isolated.flatMap((i) => [{ name: i, isolation: i, shadow: false }, { name: `${i}+shadow`, isolation: i, shadow: true }]),
  ];
}

/** A fault's seed: from the campaign's seed, the application and the fault's number (FNV-1a). */
function trialSeed(seed: number, app: string, index: number): number {
  let h = 0x811c9dc5;
  for (const c of `${seed}/${app}/${index}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
  return h >>> 0;
}

export function readRecords(path: string): TrialRecord[] {
  if (!existsSync(path)) return [];
  if (statSync(path).isDirectory()) throw Object.assign(new Error(`${path} is a directory, not a results file`), { code: 'EISDIR' });
  // a line cut short by an interruption is not a result
  return readFileSync(path, 'utf8').split('\n').flatMap((l) => {
    try {
      return l.trim() ? [JSON.parse(l) as TrialRecord] : [];
    } catch {
      return [];
    }
  });
}

export async function runCampaign(options: CampaignOptions): Promise<{ records: TrialRecord[]; summary: CampaignSummary }> {
  const apps = options.apps ?? Object.keys(trialApps);
  for (const a of apps) if (!trialApps[a]) throw new Error(`unknown app "${a}" (apps: ${Object.keys(trialApps).join(', ')})`);
  const n = options.trials ?? 400;
  const seed = options.seed ?? 1;
  const modes = campaignModes();
  const transient = !options.persistent;
  const variant = `${seed}/${options.type ?? 'any'}/${transient ? 'transient' : 'persistent'}`;
  const plan = apps.flatMap((app) => Array.from({ length: n }, (_, index) => modes.map((mode) => ({ app, index, mode, key: `${variant}/${app}/${index}/${mode.name}` })))).flat();
  const held = new Map(readRecords(options.out).map((r) => [r.key, r]));
  const todo = plan.filter((t) => !held.has(t.key));
  options.onStart?.(plan.length, plan.length - todo.length);

  const runOne = async ({ app, index, mode, key }: (typeof plan)[number]): Promise<void> => {
    const driver = trialApps[app].driver;
    const s = trialSeed(seed, app, index);
    const fault = planFault(driver, { seed: s, type: options.type, transient });
    const r = await runTrialChild({
      app, isolation: mode.isolation, shadow: mode.shadow, seed: s, fault, timeBudgetMs: 1000, stallMs: 1000,
    }, options.trialTimeoutMs ?? 12_000);
    const detectors = [...new Set(r.faultKinds.flatMap((k) => detectorOf[k] ?? []))];
    const detected = detectors.length > 0;
    const record: TrialRecord = {
      key, app, driver, mode: mode.name, index, seed: s,
      fault: { kind: fault.kind, type: fault.type, site: fault.site, transient, ...(fault.patch ? { patch: fault.patch } : {}), ...(fault.hook ? { hook: fault.hook } : {}) },
      failure: r.hostCrashed || detected || r.outcome !== 'continued',
      hostCrashed: r.hostCrashed,
      detected, detectors,
      recovered: detected && r.recoveryMs.length > 0 && r.report?.running === true,
      outcome: r.outcome,
      ...(r.detail ? { detail: r.detail } : {}),
      ms: r.ms,
    };
    appendFileSync(options.out, `${JSON.stringify(record)}\n`);
    held.set(key, record);
    options.onTrial?.(record);
  };

  const queue = [...todo];
  await Promise.all(Array.from({ length: Math.max(1, options.jobs ?? 1) }, async () => {
    for (let t = queue.shift(); t; t = queue.shift()) await runOne(t);
  }));
  const records = plan.map((t) => held.get(t.key)!);
  return { records, summary: summarize(records) };
}

export function summarize(records: readonly TrialRecord[]): CampaignSummary {
  const byMode: Record<string, ModeSummary> = {};
  for (const r of records) {
    const m = (byMode[r.mode] ??= { trials: 0, hostCrashes: 0, visibleFailures: 0, detected: 0, recovered: 0, appContinued: 0 });
    m.trials++;
    if (r.hostCrashed) m.hostCrashes++;
    if (r.failure) m.visibleFailures++;
    if (r.detected) m.detected++;
    if (r.recovered) m.recovered++;
    if (r.outcome === 'continued') m.appContinued++;
  }
  return { trials: records.length, byMode };
}
