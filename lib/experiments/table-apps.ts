// The applications experiment (`nooks table apps`), after Table 3 of the
// shadow-driver paper: each application runs in three configurations, its
// driver faulting twice (trial.ts), each trial in a child
// process so that a crash is observed, not suffered:
//   none    no isolation: the fault is a segmentation fault of the process;
//   nooks   isolated, restarted by the agent, no shadow (plain Nooks);
//   shadow  isolated, restarted, the class's shadow keeps the application's state.
// The outcome is the application's own verification: continued (it
// completed and verified its work), malfunction (it finished with an error or
// wrong output, or hung), crash (the process died).
import { planFault } from '../inject/index.js';
import type { Isolation } from '../kernel.js';
import { runTrialChild, type Outcome } from './child.js';
import { trialApps, type TrialSpec } from './trial.js';

export const configs = ['none', 'nooks', 'shadow'] as const;
export type Config = (typeof configs)[number];

export interface TableRow {
  app: string;
  class: string;
  config: Config;
  /** The isolation the trial ran under (absent when it crashed before saying). */
  isolation?: Isolation;
  outcome: Outcome;
  failures: number;
  recoveryMs: number[];
  /** Sound: the audible gap of each restart in the played WAV. */
  gapMs?: number[];
  /** What went wrong: the application's error, or how the process ended. */
  detail?: string;
}

export interface TableOptions {
  apps?: readonly string[];
  /** Default: none, nooks, shadow. */
  configs?: readonly Config[];
  seed?: number;
  /** The isolated configurations' mode (default auto). */
  isolation?: Isolation | 'auto';
  /** A trial still running after this long is a malfunction (it hung). */
  trialTimeoutMs?: number;
  onRow?: (row: TableRow) => void;
}

/** Runs one trial as a child process: the driver's null-dereference hook armed as the application starts and at a random moment. */
async function runChild(app: string, config: Config, isolation: Isolation | 'auto', seed: number, timeoutMs: number): Promise<TableRow> {
  const spec: TrialSpec = {
    app, isolation: config === 'none' ? 'none' : isolation, shadow: config === 'shadow', seed, moments: 2,
    fault: planFault(trialApps[app].driver, { seed, type: 'null-deref' }),
  };
  const r = await runTrialChild(spec, timeoutMs);
  return {
    app, class: trialApps[app].class, config, ...(r.report ? { isolation: r.report.isolation } : {}), outcome: r.outcome, failures: r.report?.failures ?? 0, recoveryMs: r.report?.recoveryMs ?? [],
    ...(r.report?.gapMs ? { gapMs: r.report.gapMs } : {}),
    ...(r.detail ? { detail: r.detail } : {}),
  };
}

/** Every application in every configuration, one after the other. */
export async function tableApps(options: TableOptions = {}): Promise<{ rows: TableRow[] }> {
  const apps = options.apps ?? Object.keys(trialApps);
  for (const a of apps) if (!trialApps[a]) throw new Error(`unknown app "${a}" (apps: ${Object.keys(trialApps).join(', ')})`);
  const rows: TableRow[] = [];
  for (const app of apps) {
    for (const config of options.configs ?? configs) {
      const r = await runChild(app, config, options.isolation ?? 'auto', options.seed ?? 1, options.trialTimeoutMs ?? 30_000);
      rows.push(r);
      options.onRow?.(r);
    }
  }
  return { rows };
}
