// Runs one trial (trial.ts) in a child process and says how it ended: a
// crash or hang of the child is a result to observe, not one to suffer.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { endWithProcess } from '../ending-signals.js';
import { withCode } from '../error-code.js';
import { packageRoot } from '../paths.js';
import { statFields } from '../proc-stat.js';
import { channelFd, said, type TrialReport, type TrialSpec } from './trial.js';

export type Outcome = 'continued' | 'malfunction' | 'crash';

export interface ChildResult {
  /** The application's own verdict, or crash when the process died (or hung, its event loop stopped). */
  outcome: Outcome;
  /** What the trial reported, when it ran to its end. */
  report?: TrialReport;
  /** The process died (a signal, an error) or hung: the host did not survive. */
  hostCrashed: boolean;
  /** The kind of each driver failure nooks detected, and each recovery's time: also from a trial that did not end. */
  faultKinds: string[];
  /** Those before the application's work was judged (all, where the process ended before): not only at the unload. */
  faultKindsBeforeVerdict: string[];
  recoveryMs: number[];
  /** What went wrong: the application's error, or how the process ended. */
  detail?: string;
  ms: number;
}

const trialScript = join(packageRoot, 'dist', 'lib', 'experiments', 'trial.js');

/** How long the child's event loop may stay silent before it counts as hung. */
const silentMs = 1000;

/** How long an ending process waits for a trial's process to die once killed. */
const killedDieMs = 2000;

/**
 * Ends a trial as this process ends (its 'close' never comes then): kills its process (none before the spawn) and
 * removes its directory. A SIGKILL is asynchronous: a trial still running as its directory is removed creates files
 * there (rmSync then fails, ENOTEMPTY), so it is waited for first, here, blocking: this process is about to end (its
 * 'exit' allows nothing else), and a process that does not die (stuck in the kernel) only leaves its directory.
 */
function endTrialNow(child: ChildProcess | undefined, dir: string): void {
  if (child) {
    child.kill('SIGKILL');
    const deadline = Date.now() + killedDieMs;
    while (alive(child) && Date.now() < deadline) Atomics.wait(pause, 0, 0, 1);
  }
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch (e) {
    // thrown here, it would end the process in place of its signal (another exit status)
    process.stderr.write(`nooks: the trial's directory is left: ${(e as Error).message}\n`);
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Whether a child is alive: not reaped (its exit seen), and a thread of it not dead (a zombie): its first thread
 * dies first, a zombie while the others (a workload's workers) run on.
 */
function alive(child: ChildProcess): boolean {
  if (child.exitCode !== null || child.signalCode !== null) return false;
  const tasks = `/proc/${child.pid}/task`;
  let tids: string[];
  try {
    tids = readdirSync(tasks);
  } catch {
    return false; // gone
  }
  return tids.some((tid) => !['Z', 'X', undefined].includes(statFields(`${tasks}/${tid}/stat`)[0]));
}

/**
 * Rejects when the trial could not be set up (the child says so before the
 * application starts: a workload's load export that throws or returns what a
 * trial may not set, a load option the kernel refuses; or the child could not
 * be started at all): no fault's result.
 */
export function runTrialChild(spec: TrialSpec, timeoutMs: number): Promise<ChildResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    // the application's files: made and removed here, as the child may die before it could remove them (and here
    // at a signal that ends this process, as the trial's close never comes then). Listened for before the directory
    // exists: a signal that came between would end this process by its default, the directory left; the listener
    // runs only after this code (the directory made, the trial spawned).
    let child: ChildProcess;
    const ended = endWithProcess(() => endTrialNow(child, dir));
    let dir: string;
    try {
      dir = mkdtempSync(join(tmpdir(), 'nooks-trial-'));
    } catch (e) {
      ended();
      throw e;
    }
    const removeDir = () => rmSync(dir, { recursive: true, force: true });
    const trialEnded = () => {
      removeDir();
      ended();
    };
    const notStarted = (e: NodeJS.ErrnoException) => {
      trialEnded();
      reject(Object.assign(new Error(`the trial could not be set up: ${e.message}`), { code: e.code }));
    };
    try {
      // fd 3 (channelFd) the trial's lines, its stdout what the workload prints: its output, never the trial's
      child = spawn(process.execPath, [trialScript, JSON.stringify(spec), dir, String(process.pid)], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    } catch (e) {
      return notStarted(e as NodeJS.ErrnoException); // node throws the errors it does not emit (ETXTBSY: its program being written)
    }
    if (child.pid === undefined) {
      // not started (node's program gone, no process or fd left): its 'error' event, uncaught, ended the campaign's process
      child.once('error', notStarted);
      return;
    }
    const [stdout, stderr, fromTrial] = [1, 2, channelFd].map((fd) => child.stdio[fd] as Readable);
    let channel = '';
    let out = '';
    let err = '';
    let heardAt = Date.now();
    let killedAt: number | undefined;
    const stop = () => {
      killedAt = Date.now();
      child.kill('SIGKILL');
    };
    // timeoutMs for the start-up (boot, the driver's load), then timeoutMs
    // again from the application's start: a start-up slowed by a loaded
    // machine does not eat the time the application's own deadline leaves
    // (echo's session: 10 s), which ended such a trial with no verdict.
    let timer = setTimeout(stop, timeoutMs);
    let appStarted = false;
    fromTrial.setEncoding('utf8'); // a character split across two reads stays whole
    fromTrial.on('data', (b: string) => {
      channel += b;
      heardAt = Date.now();
      if (!appStarted && new RegExp(`^${said.started}$`, 'm').test(channel)) {
        appStarted = true;
        clearTimeout(timer);
        timer = setTimeout(stop, timeoutMs);
      }
    });
    stdout.on('data', (b: Buffer) => (out += b.toString()));
    stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      trialEnded();
      const ms = Date.now() - started;
      const lines = channel.split('\n').map((l) => /^(\S+)(?: (.*))?$/.exec(l) ?? [l, l, '']);
      /** What followed `word` in each of its lines, in order. */
      const saidAfter = (word: string, ls = lines) => ls.filter(([, w]) => w === word).map(([, , rest]) => rest);
      const faultKinds = saidAfter(said.fault);
      const verdictAt = lines.findIndex(([, w]) => w === said.judged);
      const faultKindsBeforeVerdict = verdictAt < 0 ? faultKinds : saidAfter(said.fault, lines.slice(0, verdictAt));
      const recoveryMs = saidAfter(said.recovered).map(Number);
      const end = (r: Omit<ChildResult, 'ms' | 'faultKinds' | 'faultKindsBeforeVerdict' | 'recoveryMs'>) => resolve({ ...r, faultKinds, faultKindsBeforeVerdict, recoveryMs, ms });
      if (killedAt !== undefined) {
        // a silent event loop: the process itself was stuck (a driver looping on its thread, unwatched)
        return killedAt - heardAt > silentMs
          ? end({ outcome: 'crash', hostCrashed: true, detail: `the process hung (silent for ${killedAt - heardAt} ms)` })
          : end({ outcome: 'malfunction', hostCrashed: false, detail: `no result within ${timeoutMs} ms ${appStarted ? 'of the application\'s start' : 'of start-up'}: stalled` });
      }
      const unset = saidAfter(said.setupFailed).map((l) => jsonWith<{ code: string; message: string }>(l, 'message')).filter((u) => u).at(-1);
      if (unset && !signal) return reject(Object.assign(new Error(`the trial could not be set up: ${unset.message}`), { code: unset.code }));
      if (signal || code !== 0) {
        // the error itself, not the stack under it or Node's version line
        const last = err.split('\n').filter((l) => l.trim() && !/^\s+at /.test(l) && !/^Node\.js v/.test(l)).at(-1);
        return end({ outcome: 'crash', hostCrashed: true, detail: signal ? `the process died of ${signal}` : `exit status ${code}${last ? `: ${last}` : ''}` });
      }
      const report = saidAfter(said.report).map((r) => jsonWith<TrialReport>(r, 'ok')).filter((r) => r).at(-1);
      if (!report) {
        // exit status 0 before the report: under isolation none a POSIX driver's exit(0) ends the host process
        const tail = `${out}${err}`.trim().split('\n').slice(-3).join(' | ').slice(-300);
        return end({ outcome: 'crash', hostCrashed: true, detail: `the process ended (exit status 0) before its report${tail ? `; its output ended: ${tail}` : ''}` });
      }
      end(report.ok
        ? { outcome: 'continued', hostCrashed: false, report }
        : { outcome: 'malfunction', hostCrashed: false, report, detail: withCode(report.error?.message ?? '', report.error?.code) });
    });
  });
}

/**
 * A line of the trial's, parsed: an object that has `key`, or undefined. A line cut short (the process killed while
 * writing it) or written by the workload to fd 3 is not the trial's: one bad trial, not the whole campaign, ends.
 */
function jsonWith<T extends object>(line: string, key: string): T | undefined {
  try {
    const v = JSON.parse(line) as unknown;
    return typeof v === 'object' && v !== null && key in v ? (v as T) : undefined;
  } catch {
    return undefined;
  }
}
