// `nooks inject`: one fault from a seed, injected while the driver's
// application runs in a child process; without isolation the host dies,
// isolated the fault is trapped and the application continues.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InjectedFault } from '../lib/inject/index.js';
import { packageRoot } from '../lib/paths.js';
import { cli, nooks as run } from './helpers/cli.js';

const nooks = (args: string[]) => run(args, { timeoutMs: 30_000 });

interface InjectResult {
  fault: InjectedFault;
  app: string;
  isolation: string;
  outcome: string;
  hostCrashed: boolean;
  faultKinds: string[];
  recoveryMs: number[];
  detail?: string;
}

describe('nooks inject', () => {
  it('the echo session\'s NULL dereference: the host dies without isolation, is recovered under mprotect', async () => {
    const results = await Promise.all(['none', 'mprotect'].map(async (isolation) => {
      const r = await nooks(['inject', 'uart16550', '--type', 'null-deref', '--seed', '3', '--isolation', isolation, '--json']);
      expect(r.code, r.stderr).toBe(0); // the host's death too: the trial's result, not the command's failure
      return JSON.parse(r.stdout) as InjectResult;
    }));
    const [none, mprotect] = results;
    expect(none.fault).toEqual(mprotect.fault);
    expect(none.fault).toMatchObject({ driver: 'uart16550', type: 'null-deref', kind: 'targeted', hook: 'crash_on_next_tx', transient: true });
    expect(none).toMatchObject({ app: 'echo', hostCrashed: true, outcome: 'crash', detail: 'the process died of SIGSEGV' });
    expect(mprotect).toMatchObject({ app: 'echo', hostCrashed: false, outcome: 'continued', faultKinds: ['segv'] });
    expect(mprotect.recoveryMs).toHaveLength(1);
  });

  it('shows the seed, the site and the bytes; the same seed injects the same fault', async () => {
    const [a, b] = await Promise.all([1, 2].map(() => nooks(['inject', 'blk', '--seed', '11', '--type', 'invert-branch', '--persistent'])));
    expect(a.code, a.stderr).toBe(0);
    const first = a.stdout.split('\n')[0];
    expect(first).toMatch(/^seed 11: invert-branch in blk_\w+ at 0x[0-9a-f]+ \(j\w+ [0-9a-f]+\): [0-9a-f]+ -> [0-9a-f]+ \(persistent\)$/);
    expect(b.stdout.split('\n')[0]).toBe(first);
    expect(a.stdout).toMatch(/^ran db on blk, isolation (mprotect|pkey), shadow drivers/m);
  });

  it('refuses what it cannot do', async () => {
    const bad = await nooks(['inject', 'blk', '--type', 'flip-bits']);
    expect(bad.code).toBe(1);
    for (const named of ['--type', 'flip-bit, nop,']) expect(bad.stderr).toContain(named); // the flag and the choices
    const both = await nooks(['inject', 'blk', '--persistent', '--transient']);
    expect(both.code).toBe(1);
    for (const named of ['--persistent', '--transient']) expect(both.stderr).toContain(named);
    const none = await nooks(['inject', 'crashy']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('"crashy"');
    // a path that is not there is said as such, not as a driver no application uses
    const missing = await nooks(['inject', 'build/nosuch.so']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`driver ${join(packageRoot, 'build', 'nosuch.so')} does not exist [ENOENT]`);
  });

  // Before: the running trial's directory was removed only at its process's close, which a killed nooks never saw.
  it('killed (SIGTERM) between trials: ends its trial and leaves no nooks-trial-* directory', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'nooks-inject-kill-'));
    try {
      const workload = join(tmp, 'idle.mjs');
      writeFileSync(workload, 'export default () => true;\n');
      const args = ['inject', 'null', '--workload', workload, '--trials', '4', '--seed', '1', '--type', 'nop', '--isolation', 'mprotect'];
      // TMPDIR: the run's own, where its trials make their directories
      const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, TMPDIR: tmp } });
      const trialDirs = () => readdirSync(tmp).filter((f) => f.startsWith('nooks-trial-'));
      let stdout = '';
      let killing = false;
      child.stdout.on('data', (b: Buffer) => {
        stdout += b.toString();
        if (killing || !/^#0 /m.test(stdout)) return;
        killing = true;
        void (async () => {
          // after the first trial, while the next one runs (its directory there)
          while (child.exitCode === null && trialDirs().length === 0) await new Promise((r) => setTimeout(r, 2));
          child.kill('SIGTERM');
        })();
      });
      const signal = await new Promise((resolve) => child.on('exit', (_code, s) => resolve(s)));
      expect(signal, stdout).toBe('SIGTERM');
      expect(stdout).not.toMatch(/^#3 /m);
      expect(trialDirs()).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  /**
   * Runs `nooks inject` on `workload` (its source), SIGKILLs it once the trial runs (and its directory holds the file
   * `ready`, the workload's own), waits for the trial to end: what is left of the trials' directories.
   */
  async function leftAfterKilledParent(workload: string, ready?: string): Promise<string[]> {
    const tmp = mkdtempSync(join(tmpdir(), 'nooks-inject-kill-'));
    try {
      const module = join(tmp, 'workload.mjs');
      writeFileSync(module, workload);
      const runTmp = mkdtempSync(join(tmp, 'run-'));
      const args = ['inject', 'null', '--workload', module, '--seed', '1', '--type', 'nop', '--isolation', 'mprotect'];
      const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, TMPDIR: runTmp }, stdio: 'ignore' });
      const ended = new Promise((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
      // once the trial runs: its process spawned, its directory there (with the workload's file in it)
      const trials = () => readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim();
      const readied = () => readdirSync(runTmp).some((d) => ready === undefined || existsSync(join(runTmp, d, ready)));
      while (child.exitCode === null && (!readied() || trials() === '')) await new Promise((r) => setTimeout(r, 2));
      const trial = trials();
      expect(trial).toMatch(/^\d+$/);
      child.kill('SIGKILL');
      expect(await ended).toBe('SIGKILL');
      // until the trial is gone (reaped by whoever inherits it)
      while (existsSync(`/proc/${trial}`)) await new Promise((r) => setTimeout(r, 10));
      return readdirSync(runTmp);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  // Before: the trial, its parent gone, died of the EPIPE of its next heartbeat and left its directory (no one else
  // could remove it): '[ "nooks-trial-..." ]'
  it('SIGKILLed while its trial runs: the trial removes its directory itself', async () => {
    expect(await leftAfterKilledParent('export default () => new Promise(() => {});\n')).toEqual([]);
  });

  // Before: the workload's output, its pipe broken, ended the trial (an uncaught EPIPE of process.stdout) before its
  // heartbeat could find the parent gone, the directory left: '[ "nooks-trial-..." ]'
  it('SIGKILLed while its trial\'s workload prints: the trial removes its directory itself', async () => {
    const printing = `import { writeFileSync } from 'node:fs';
export default () => new Promise(() => {
  setInterval(() => console.log('tick'), 1);
  writeFileSync(process.argv[3] + '/printing', ''); // in the trial's directory (trial.js's second argument)
});
`;
    expect(await leftAfterKilledParent(printing, 'printing')).toEqual([]);
  });

  // Before: the trial, SIGKILLed, was not dead yet as its directory was removed; its threads created files there, and
  // rmSync's ENOTEMPTY, thrown in the signal's listener, ended nooks with status 1 (one run in three or so).
  it('killed (SIGTERM) while its trial writes into its directory from several threads: dies of the signal, leaves none', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'nooks-inject-kill-'));
    try {
      const workload = join(tmp, 'flood.mjs');
      // the trial's directory (trial.js's second argument), filled by 6 threads until the process dies
      writeFileSync(workload, `import { writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
const flood = "const { writeFileSync } = require('node:fs'); const { workerData: [dir, t] } = require('node:worker_threads'); for (let i = 0; ; i++) writeFileSync(dir + '/' + t + '-' + i, '');";
export default () => {
  for (let t = 0; t < 6; t++) new Worker(flood, { eval: true, workerData: [process.argv[3], t] });
  return new Promise(() => {});
};
`);
      for (let run = 0; run < 3; run++) {
        const runTmp = mkdtempSync(join(tmp, 'run-'));
        const args = ['inject', 'null', '--workload', workload, '--seed', '1', '--type', 'nop', '--isolation', 'mprotect'];
        const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, TMPDIR: runTmp }, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
        const ended = new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
        const files = () => readdirSync(runTmp).flatMap((d) => readdirSync(join(runTmp, d))).length;
        // once the threads write
        while (child.exitCode === null && files() < 100) await new Promise((r) => setTimeout(r, 2));
        child.kill('SIGTERM');
        expect(await ended, stderr).toBe('SIGTERM');
        expect(readdirSync(runTmp)).toEqual([]);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
