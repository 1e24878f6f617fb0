// Fault-injection campaigns (`nooks campaign`), after the Nooks paper's
// Figures 6 and 7 and the shadow-driver paper's Figure 7: for each
// application and its driver, N faults (lib/inject, one seed each), each run
// in every mode -- none, then isolated without and with shadow drivers -- as
// one trial in a child process (child.ts, trial.ts), so that a host crash is
// observed, not suffered; or the same for a user's driver under a workload
// module (workload.ts). Every trial is appended to a JSON-lines file as it
// ends, after a header naming the plan (plan.ts); a campaign started again
// with the same file skips what it holds. A shard runs one slice of the plan.
import { appendFileSync, closeSync, existsSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { median } from '../bench/common.js';
import { planFault, plannerVersion, type FaultType, type InjectedFault } from '../inject/index.js';
import { Kernel, type Isolation } from '../kernel.js';
import { driverName, driverPath } from '../paths.js';
import { isolations } from '../wrappers/enums.js';
import { runTrialChild, type Outcome } from './child.js';
import { currentPlan, describePlan, fileSha256, parseShard, planDifferences, planIdentity, planTrials, shardName, shardOf, type PlanIdentity, type PlannedTrial, type Shard } from './plan.js';
import { trialApps } from './trial.js';
import { workloadName } from './workload.js';


export interface Mode {
  /** `none`, `mprotect`, `mprotect+shadow`, `pkey`, `pkey+shadow`, `process`, `process+shadow`. */
  name: string;
  isolation: Isolation;
  shadow: boolean;
}

/**
 * The detector that caught a fault, by its kind; `init`: module_init returned an error, and the load failed;
 * `exit`: a POSIX driver ended itself (exit, abort, a failed assert, a _FORTIFY_SOURCE overflow), contained.
 */
export type Detector = 'trap' | 'watchdog' | 'bad-call' | 'nanny' | 'init' | 'exit';

const detectorOf: Record<string, Detector> = {
  segv: 'trap', pkey: 'trap', 'stack-overflow': 'trap', bus: 'trap', ill: 'trap', fpe: 'trap',
  timeout: 'watchdog', 'bad-call': 'bad-call', stalled: 'nanny', 'init-failed': 'init', exit: 'exit', abort: 'exit',
};

/** The detectors behind a trial's faults, by their kinds (`aborted`, a thread sent out of a failed driver or an explicit recovery, is none). */
export function detectorsOf(faultKinds: readonly string[]): Detector[] {
  return [...new Set(faultKinds.flatMap((k) => detectorOf[k] ?? []))];
}

/** One line of the results file. */
export interface TrialRecord {
  key: string;
  /** The plan's identity (plan.ts): the same in every shard of one campaign. */
  plan: string;
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
  /** Detected before the application's work was judged, not only at the unload after it (absent in files from before it was kept). */
  detectedBeforeVerdict?: boolean;
  /** Detected, restarted, and running at the end. */
  recovered: boolean;
  /** Each recovery's time in ms, from the fault reported to the driver restarted (absent in files from before it was kept). */
  recoveryMs?: number[];
  outcome: Outcome;
  detail?: string;
  ms: number;
}

/**
 * A user's driver (a .so path, or a built-in driver's name) under a workload module (workload.ts), in place of the
 * applications; argv: a program's arguments after its name (`nooks campaign ... -- args`), for a workload whose load sets none.
 */
export interface UserTarget {
  driver: string;
  workload: string;
  argv?: string[];
}

export interface CampaignOptions {
  /** Faults per application (and so per driver); each runs in every mode. Default 400. */
  trials?: number;
  /** The built-in applications (default: all of them), unless `user`. */
  apps?: readonly string[];
  user?: UserTarget;
  seed?: number;
  /** Only this fault type. */
  type?: FaultType;
  /** Faults stay across recovery (default: removed at recovery, as in the shadow-driver paper's campaign). */
  persistent?: boolean;
  /** Default: campaignModes(). */
  modes?: readonly Mode[];
  /** Run only the i-th (1-based) of n disjoint slices of the plan: its faults k with k % n == i - 1. */
  shard?: Shard;
  /** The JSON-lines file: appended to; what it holds is not run again. Without it nothing is kept. */
  out?: string;
  /** Start `out` over (it may hold another plan's trials, which are refused otherwise). */
  fresh?: boolean;
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
  /** Of those, detected before the application's work was judged, not only at the unload after it... */
  detectedBeforeVerdict: number;
  /** ...of this many: the detected trials that record when (one from a file from before that was kept counts in neither). */
  detectedBeforeVerdictOf: number;
  recovered: number;
  appContinued: number;
  /** The recoveries of the mode's trials (a trial may have several) and their times in ms (the median: the upper middle one); absent where none. */
  recoveryTime?: RecoveryTime;
}

export interface RecoveryTime {
  recoveries: number;
  medianMs: number;
  maxMs: number;
}

export interface CampaignSummary {
  trials: number;
  byMode: Record<string, ModeSummary>;
}

/** none, and each isolated mode this machine runs, without and with shadow drivers. */
export function campaignModes(): Mode[] {
  const isolated = isolations.filter((i) => i !== 'none' && (i !== 'pkey' || Kernel.pkuSupported()));
  return [
    { name: 'none', isolation: 'none', shadow: false },
    ...isolated.flatMap((i) => [{ name: i, isolation: i, shadow: false }, { name: `${i}+shadow`, isolation: i, shadow: true }]),
  ];
}

/** The first line a campaign writes into its file: the plan its trials belong to, and which slice of it ran there. */
export interface PlanHeader {
  plan: PlanIdentity;
  shard?: string;
}

/** A campaign's JSON-lines file: its plan headers and its trials. */
export function readCampaignFile(path: string): { plans: PlanHeader[]; records: TrialRecord[] } {
  const plans: PlanHeader[] = [];
  const records: TrialRecord[] = [];
  if (!existsSync(path)) return { plans, records };
  if (statSync(path).isDirectory()) throw Object.assign(new Error(`${path} is a directory, not a results file`), { code: 'EISDIR' });
  for (const l of readFileSync(path, 'utf8').split('\n')) {
    let line: Partial<TrialRecord & PlanHeader>;
    try {
      line = l.trim() ? (JSON.parse(l) as Partial<TrialRecord & PlanHeader>) : {};
    } catch {
      continue; // a line cut short by an interruption is not a result
    }
    if (line.plan && typeof line.plan === 'object') plans.push(line as PlanHeader);
    else if (typeof line.key === 'string') records.push(line as TrialRecord);
  }
  return { plans, records };
}

export function readRecords(path: string): TrialRecord[] {
  return readCampaignFile(path).records;
}

/** A campaign file as a campaign resumes it: the plan its headers name (none in a new file), the trials its headers planned, and those it holds. */
export interface KeptCampaign {
  plan?: PlanIdentity;
  /** The trials of the slices its headers name: the plan's, or the union of the shards named (the plan's where no header is there). */
  trials: PlannedTrial[];
  /** Each trial of the whole plan the file holds (any shard's), once: its first copy, as a trial run again never replaces one measured. */
  held: Map<string, TrialRecord>;
}

/** Why a campaign's trials are not this nooks's to take: planned by another fault planner, whose trial N is another fault; else undefined. */
export function stalePlanner(plan: PlanIdentity): string | undefined {
  const planner = plan.planner ?? 1;
  if (planner === plannerVersion) return undefined;
  return `holds a campaign of fault planner ${planner}, whose trial N is another fault than this nooks's (fault planner ${plannerVersion}): ${describePlan(plan)}`;
}

/** Why a line of trial is no trial of `plan` (whose keys are `inPlan`): it names another plan, or a key the plan has not; else undefined. */
export function foreignTrial(record: TrialRecord, plan: PlanIdentity, inPlan: ReadonlySet<string>): string | undefined {
  if (record.plan === plan.id && inPlan.has(record.key)) return undefined;
  return `holds trial ${record.key} of ${record.plan ? `plan ${record.plan}` : 'no plan'}, not of ${describePlan(plan)}`;
}

/**
 * Reads a campaign file to resume or show it, refusing (EPLAN) one whose trials may be other faults than
 * their keys say: the trials of another plan than `plan` (default: the one its first header names), of
 * another fault planner than this nooks's, or under a header altered since it was written.
 */
export function keptCampaign(path: string, plan?: PlanIdentity): KeptCampaign {
  const file = readCampaignFile(path);
  const refuse = (why: string) => Object.assign(new Error(`${path} ${why}. --fresh starts the file over; or name another --out`), { code: 'EPLAN' });
  const altered = file.plans.find((h) => planIdentity(h.plan).id !== h.plan.id);
  if (altered) throw refuse(`holds a plan header altered since it was written (its fields no longer give its id ${altered.plan.id})`);
  const expected = plan ?? file.plans[0]?.plan;
  if (!expected) return { trials: [], held: new Map() };
  // another plan's trial N may be another fault (another planner, driver build, seed): never taken for this plan's
  const other = file.plans.find((h) => h.plan.id !== expected.id);
  if (other) throw refuse(`holds the trials of another campaign (they differ in ${planDifferences(other.plan, expected).join(', ')}): ${describePlan(other.plan)}, not ${describePlan(expected)}`);
  const stale = stalePlanner(expected);
  if (stale) throw refuse(stale);
  const whole = planTrials(expected);
  const inPlan = new Set(whole.map((t) => t.key));
  const held = new Map<string, TrialRecord>();
  for (const r of file.records) {
    const foreign = foreignTrial(r, expected, inPlan);
    if (foreign) throw refuse(foreign);
    if (!held.has(r.key)) held.set(r.key, r);
  }
  // every header is this plan's (checked above); one without a shard planned all of it
  const shards = file.plans.map((h) => (h.shard ? parseShard(h.shard) : undefined));
  const trials = shards.length === 0 || shards.includes(undefined)
    ? whole
    : whole.filter((t) => shards.some((s) => shardOf(expected, t.target, t.index, s!.count) === s!.index));
  return { plan: file.plans[0]?.plan, trials, held };
}

/** What each trial loads: the driver (a name or path), and the workload module in place of an application (and a program's argv). */
interface Target {
  app: string;
  driver: string;
  workload?: string;
  argv?: string[];
}

function targetsOf(options: CampaignOptions): Target[] {
  if (options.user) return [{ app: workloadName(options.user.workload), ...options.user }];
  const apps = options.apps ?? Object.keys(trialApps);
  for (const a of apps) if (!trialApps[a]) throw new Error(`unknown app "${a}" (apps: ${Object.keys(trialApps).join(', ')})`);
  return apps.map((app) => ({ app, driver: trialApps[app].driver }));
}

/** The plan a campaign of these options runs. */
export function campaignPlan(options: CampaignOptions): PlanIdentity {
  return currentPlan({
    targets: targetsOf(options).map((t) => ({
      app: t.app, driver: driverName(t.driver), driverSha256: fileSha256(driverPath(t.driver)),
      ...(t.workload ? { workloadSha256: fileSha256(t.workload) } : {}), ...(t.argv ? { argv: t.argv } : {}),
    })),
    seed: options.seed ?? 1, type: options.type ?? 'any', transient: !options.persistent, trials: options.trials ?? 400,
    modes: (options.modes ?? campaignModes()).map((m) => m.name),
  });
}

/**
 * Ends a last line cut short (a full disk, a machine that went down while writing it), which reading skips: the
 * next line appended would join it and be skipped too, its trial run again at every resume.
 */
function endLastLine(path: string): void {
  const size = existsSync(path) ? statSync(path).size : 0;
  if (size === 0) return;
  const last = Buffer.alloc(1);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, last, 0, 1, size - 1);
  } finally {
    closeSync(fd);
  }
  if (last[0] !== 0x0a) appendFileSync(path, '\n');
}

export async function runCampaign(options: CampaignOptions): Promise<{ plan: PlanIdentity; records: TrialRecord[]; summary: CampaignSummary }> {
  const targets = targetsOf(options);
  const modes = options.modes ?? campaignModes();
  const transient = !options.persistent;
  const plan = campaignPlan(options);
  const trials = planTrials(plan, options.shard);
  if (options.out && options.fresh) writeFileSync(options.out, '');
  const kept = options.out ? keptCampaign(options.out, plan) : undefined;
  if (options.out) endLastLine(options.out);
  // a header for each slice run into the file that its headers do not plan yet: the file says what it is to hold
  const planned = new Set(kept?.trials.map((t) => t.key));
  if (options.out && (!kept?.plan || trials.some((t) => !planned.has(t.key)))) {
    const header: PlanHeader = { plan, ...(options.shard ? { shard: shardName(options.shard) } : {}) };
    appendFileSync(options.out, `${JSON.stringify(header)}\n`);
  }
  const held = kept?.held ?? new Map<string, TrialRecord>();
  const todo = trials.filter((t) => !held.has(t.key));
  options.onStart?.(trials.length, trials.length - todo.length);

  const runOne = async (t: PlannedTrial): Promise<void> => {
    const { driver, workload, argv } = targets[t.target];
    const mode = modes.find((m) => m.name === t.mode)!;
    const fault = planFault(driver, { seed: t.seed, type: options.type, transient, exported: workload !== undefined });
    const r = await runTrialChild({
      app: t.app, isolation: mode.isolation, shadow: mode.shadow, seed: t.seed, fault, timeBudgetMs: 1000, stallMs: 1000,
      ...(workload ? { workload: { driver: driverPath(driver), module: workload, index: t.index, mode: mode.name, ...(argv ? { argv } : {}) } } : {}),
    }, options.trialTimeoutMs ?? 12_000);
    const detectors = detectorsOf(r.faultKinds);
    const detected = detectors.length > 0;
    const record: TrialRecord = {
      key: t.key, plan: plan.id, app: t.app, driver: plan.targets[t.target].driver, mode: mode.name, index: t.index, seed: t.seed,
      fault: { kind: fault.kind, type: fault.type, site: fault.site, transient, ...(fault.patch ? { patch: fault.patch } : {}), ...(fault.hook ? { hook: fault.hook } : {}) },
      failure: r.hostCrashed || detected || r.outcome !== 'continued',
      hostCrashed: r.hostCrashed,
      detected, detectors, detectedBeforeVerdict: detectorsOf(r.faultKindsBeforeVerdict).length > 0,
      recovered: detected && r.recoveryMs.length > 0 && r.report?.running === true,
      recoveryMs: r.recoveryMs,
      outcome: r.outcome,
      ...(r.detail ? { detail: r.detail } : {}),
      ms: r.ms,
    };
    if (options.out) appendFileSync(options.out, `${JSON.stringify(record)}\n`);
    held.set(t.key, record);
    options.onTrial?.(record);
  };

  const queue = [...todo];
  await Promise.all(Array.from({ length: Math.max(1, options.jobs ?? 1) }, async () => {
    for (let t = queue.shift(); t; t = queue.shift()) {
      try {
        await runOne(t);
      } catch (e) {
        queue.length = 0; // a trial that cannot be set up: none can (the other jobs end their trial in hand)
        throw e;
      }
    }
  }));
  const records = trials.map((t) => held.get(t.key)!);
  return { plan, records, summary: summarize(records) };
}

/** A measure of what became of the faults: the trials it counts, as a share of all trials or of those that failed. */
export interface FailureMeasure {
  name: string;
  of: 'trials' | 'failures';
  is: (r: TrialRecord) => boolean;
}

export const failureMeasures: readonly FailureMeasure[] = [
  { name: 'failures shown', of: 'trials', is: (r) => r.failure },
  // the shadow-driver paper's Figure 7: "the percentage of failures that are automatically detected" and "that shadow drivers successfully recovered"
  { name: 'detected', of: 'failures', is: (r) => r.detected },
  { name: 'recovered', of: 'failures', is: (r) => r.recovered },
  { name: 'app continued', of: 'trials', is: (r) => r.outcome === 'continued' },
];

/** `detected (of failures)`: the measure with its denominator, wherever it is shown. */
export const measureLabel = (m: FailureMeasure): string => `${m.name} (of ${m.of})`;

/** A measure over some trials: how many it counts, out of how many (all of them, or those with a failure shown). */
export function share(m: FailureMeasure, records: readonly TrialRecord[]): { k: number; n: number } {
  const of = m.of === 'failures' ? records.filter((r) => r.failure) : records;
  return { k: of.filter(m.is).length, n: of.length };
}

export function summarize(records: readonly TrialRecord[]): CampaignSummary {
  const byMode: Record<string, ModeSummary> = {};
  for (const r of records) {
    const m = (byMode[r.mode] ??= { trials: 0, hostCrashes: 0, visibleFailures: 0, detected: 0, detectedBeforeVerdict: 0, detectedBeforeVerdictOf: 0, recovered: 0, appContinued: 0 });
    m.trials++;
    if (r.hostCrashed) m.hostCrashes++;
    if (r.failure) m.visibleFailures++;
    if (r.detected) m.detected++;
    if (r.detected && r.detectedBeforeVerdict !== undefined) m.detectedBeforeVerdictOf++;
    if (r.detected && r.detectedBeforeVerdict) m.detectedBeforeVerdict++;
    if (r.recovered) m.recovered++;
    if (r.outcome === 'continued') m.appContinued++;
  }
  for (const [mode, m] of Object.entries(byMode)) {
    const times = records.filter((r) => r.mode === mode).flatMap((r) => r.recoveryMs ?? []);
    if (times.length) m.recoveryTime = { recoveries: times.length, medianMs: median(times), maxMs: Math.max(...times) };
  }
  return { trials: records.length, byMode };
}

