// Small helpers shared by the kernel tests.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, vi } from 'vitest';
import { defaultPolicy, DriverFault, Kernel, type Driver, type DriverPolicy, type Isolation, type LogEvent } from '../../lib/index.js';
import { disassemble } from '../../lib/inject/disasm.js';
import { packageRoot } from '../../lib/paths.js';
import { recoveryIdle } from '../../lib/testing.js';

/**
 * The isolation the device-class suites boot: the default ('auto') unless the
 * suite runs again under another (vitest.config.ts: project 'process').
 */
export const suiteIsolation = (process.env.NOOKS_TEST_ISOLATION ?? 'auto') as Isolation | 'auto';

/**
 * Every isolation mode this machine can boot: 'pkey' only where it has
 * protection keys (and Linux 6.12 or later). Or the modes NOOKS_TEST_ISOLATIONS
 * names: 'pkey' in test/guest-pkey.test.ts's guest, where the others would
 * repeat under emulation what the same run tests natively.
 */
export const bootableIsolations: Isolation[] = (process.env.NOOKS_TEST_ISOLATIONS?.split(',') as Isolation[] | undefined) ??
  ['mprotect', 'process', 'none', ...(Kernel.pkuSupported() ? (['pkey'] as const) : [])];

/** This process's children named `nooks:<driver>` (a driver's host process, isolation 'process', sets its name so). */
export function hostProcesses(driver: string): number[] {
  const pids = readdirSync('/proc/self/task').flatMap((t) =>
    readFileSync(`/proc/self/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  return pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === `nooks:${driver}`;
    } catch {
      return false; // gone meanwhile
    }
  });
}

/**
 * Polls `cond` every 5 ms; fails with `what` after `timeoutMs`. The bound only catches a hang: the default is
 * generous because a loaded 2-core machine (CI beside other jobs) can take seconds for progress an idle one makes
 * in milliseconds.
 */
export async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  await untilProgress(cond, () => 0, what, timeoutMs);
}

/** How long data that streams may stand still before a wait for it fails (untilProgress, readStreaming). */
export const streamQuietMs = 20_000;

/**
 * `until` for data that streams (bytes over a line, frames): fails only once `progress` (a count that grows as the
 * data arrives) has stood still for `quietMs`, never for the total time. A starved machine moves slowly, not at
 * all: a total bound failed correct runs beside a CI job (2.8 s of wire time took over 15 s).
 */
export async function untilProgress(cond: () => boolean, progress: () => number, what: string, quietMs = streamQuietMs): Promise<void> {
  let seen = progress();
  let quietSince = Date.now();
  while (!cond()) {
    const now = progress();
    if (now !== seen) [seen, quietSince] = [now, Date.now()];
    else if (Date.now() - quietSince > quietMs) throw new Error(`timed out after ${quietMs} ms without progress waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * For a file whose tests wait for streaming data by progress: their time limit well above what a slow but moving
 * stream takes on a starved machine (vitest's 30 s was a total bound again), so that a stall fails them first, by
 * streamQuietMs, with what they waited for.
 */
export function streamsByProgress(): void {
  vi.setConfig({ testTimeout: 120_000 });
}

/** Every failure report the recovery thread had is handed on, and the kernel's listener has run it (as test/helpers/fault-matrix.ts). */
export async function reportsHandedOn(): Promise<void> {
  await until(recoveryIdle, 'the recovery thread to hand its reports on');
  // handed on, a report runs in the loop's next poll phase: a timer runs in the next iteration, an immediate after its poll
  await new Promise((r) => setTimeout(r, 0));
  await new Promise((r) => setImmediate(r));
}

/**
 * This machine's UDP socket bound to `port` (/proc/net/udp), with the bytes
 * waiting in its receive queue; undefined while none is bound.
 */
export function udpSocket(port: number): { rxQueue: number } | undefined {
  const local = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const [, address, , , queues] = line.trim().split(/\s+/); // sl, local_address, rem_address, st, tx_queue:rx_queue
    if (address?.endsWith(local)) return { rxQueue: parseInt(queues.split(':')[1], 16) };
  }
  return undefined;
}

/** An error class, to check what a call threw. */
type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

/** The error `fn` throws, checked to be a `type` where one is given; fails the test if `fn` returns. */
export function errorOf<E extends Error = Error & { code?: string }>(fn: () => unknown, type?: ErrorClass<E>): E {
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    if (type) expect(e).toBeInstanceOf(type);
    return e as E;
  }
  throw new Error(`expected ${type ? `a ${type.name}` : 'an error'}, but the call returned ${String(result)}`);
}

/** The error `p` rejects with, checked as errorOf checks; fails the test if `p` resolves. */
export async function rejectionOf<E extends Error = Error & { code?: string }>(p: Promise<unknown>, type?: ErrorClass<E>): Promise<E> {
  let result: unknown;
  try {
    result = await p;
  } catch (e) {
    if (type) expect(e).toBeInstanceOf(type);
    return e as E;
  }
  throw new Error(`expected ${type ? `a ${type.name}` : 'a rejection'}, but it resolved to ${String(result)}`);
}

/** Runs a driver call that must fault and returns the DriverFault. */
export function faultOf(call: () => unknown): DriverFault {
  return errorOf(call, DriverFault);
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node ...args` in `cwd` and collects its output; kills it (and fails) after `timeoutMs`. */
export function runNode(args: string[], cwd: string, timeoutMs = 20_000, env: NodeJS.ProcessEnv = process.env): Promise<Exit> {
  return runProgram(process.execPath, args, cwd, timeoutMs, env);
}

/**
 * Runs a test's program of its own (`node program ...args` in the package
 * root: test/helpers/*.mjs, which print with test/helpers/program.mjs) and
 * checks that it ended by itself, with nothing on stderr: a fault that kills
 * it fails here. What it reported: its last line, JSON.
 */
export async function programReport<T>(args: string[], timeoutMs: number): Promise<T> {
  const run = await runNode(args, packageRoot, timeoutMs);
  expect(run.stderr).toBe('');
  expect({ code: run.code, signal: run.signal }).toEqual({ code: 0, signal: null });
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as T;
}

/** Runs `program ...args` in `cwd` and collects its output; kills it (and fails) after `timeoutMs`. */
export function runProgram(program: string, args: string[], cwd: string, timeoutMs = 20_000, env: NodeJS.ProcessEnv = process.env): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${program} ${args.join(' ')}: still running after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The events of `kind` in the kernel's log, oldest first (docs/api.md#kernel-log-events). */
export function logEvents(kernel: Kernel, kind: string): LogEvent[] {
  return kernel.log().flatMap((l) => (l.event?.kind === kind ? [l.event] : []));
}

/** How many recoveries the kernel's agent has completed ('recovered' events). */
export function recoveries(kernel: Kernel): number {
  return kernel.events().filter((e) => e.event === 'recovered').length;
}

/** A policy entry that replaces its driver with `fallback` at its first failure. */
export const fallbackTo = (fallback: string): DriverPolicy => ({ ...defaultPolicy.default, action: 'fallback', fallback, maxFailures: 1 });

/**
 * A bug that stays across restarts (a persistent text patch): the driver's
 * PCI probe function `probe` refuses every device (returns -ENODEV). The
 * running driver keeps its devices; restarted, it runs without registering any.
 */
export function refuseProbes(d: Driver, probe: string): void {
  const at = disassemble(d.path).symbol(probe);
  if (at === undefined) throw new Error(`${d.path} has no function ${probe}`);
  d.patchText({ offset: at, bytes: Buffer.from([0xb8, 0xed, 0xff, 0xff, 0xff, 0xc3]), transient: false }); // mov $-19, %eax; ret
}

/** mulberry32: a small seeded generator (integers below n), the same sequence on every run. */
export function generator(s: number): (n: number) => number {
  return (n) => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** Builds test/helpers/<name>.c into `dir`: a library a test preloads (LD_PRELOAD) into a node of its own. Its path. */
export function buildPreload(name: string, dir: string): string {
  const so = join(dir, `${name}.so`);
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC', join(packageRoot, 'test', 'helpers', `${name}.c`), '-o', so]);
  return so;
}
