// The applications experiment (`nooks table apps`), after Table 3 of the
// shadow-driver paper: each application runs in three configurations, its
// driver faulting at random moments (trial.ts), each trial in a child
// process so that a crash is observed, not suffered:
//   none    no isolation: the fault is a segmentation fault of the process;
//   nooks   isolated, restarted by the agent, no shadow (plain Nooks);
//   shadow  isolated, restarted, the class's shadow keeps the application's state.
// The outcome is the application's own verification: continued (it
// completed and verified its work), malfunction (it finished with an error or
// wrong output, or hung), crash (the process died).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';
import { configs, trialApps, type Config, type TrialReport } from './trial.js';

export type Outcome = 'continued' | 'malfunction' | 'crash';

export interface TableRow {
  app: string;
  class: string;
  config: Config;
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
  /** A trial still running after this long is a malfunction (it hung). */
  trialTimeoutMs?: number;
  onRow?: (row: TableRow) => void;
}

const trialScript = join(packageRoot, 'dist', 'lib', 'experiments', 'trial.js');

/** Runs one trial as a child process and classifies how it ended. */
function runChild(app: string, config: Config, seed: number, timeoutMs: number): Promise<TableRow> {
  const row = (outcome: Outcome, r: Partial<TrialReport>, detail?: string): TableRow => ({
    app, class: trialApps[app].class, config, outcome, failures: r.failures ?? 0, recoveryMs: r.recoveryMs ?? [],
    ...(r.gapMs ? { gapMs: r.gapMs } : {}),
    ...(detail ? { detail } : {}),
  });
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [trialScript, app, config, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (hung) return resolve(row('malfunction', {}, `no result within ${timeoutMs} ms: stalled`));
      if (signal || code !== 0) {
        const last = err.trim().split('\n').filter(Boolean).at(-1);
        return resolve(row('crash', {}, signal ? `the process died of ${signal}` : `exit status ${code}${last ? `: ${last}` : ''}`));
      }
      const report = JSON.parse(out.trim().split('\n').at(-1)!) as TrialReport;
      resolve(report.ok ? row('continued', report) : row('malfunction', report, `${report.error?.code}: ${report.error?.message}`));
    });
  });
}

/** Every application in every configuration, one after the other. */
export async function tableApps(options: TableOptions = {}): Promise<{ rows: TableRow[] }> {
  const apps = options.apps ?? Object.keys(trialApps);
  for (const a of apps) if (!trialApps[a]) throw new Error(`unknown app "${a}" (apps: ${Object.keys(trialApps).join(', ')})`);
  const rows: TableRow[] = [];
  for (const app of apps) {
    for (const config of options.configs ?? configs) {
      const r = await runChild(app, config, options.seed ?? 1, options.trialTimeoutMs ?? 30_000);
      rows.push(r);
      options.onRow?.(r);
    }
  }
  return { rows };
}
